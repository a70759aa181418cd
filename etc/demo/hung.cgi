#!/bin/sh
# A script that hangs: it waits for something that never comes, and
# never answers.
sleep 3600
