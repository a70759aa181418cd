#!/bin/sh
# A quick page, like any legacy CGI script.
printf 'Content-Type: text/plain\r\n\r\n'
echo "Hello from quick.cgi, served at $(date +%H:%M:%S) to $REMOTE_ADDR."
echo "It does not know cgiwrap is there: SCRIPT_NAME=$SCRIPT_NAME"
