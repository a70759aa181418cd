#!/bin/sh
exec "$(dirname "$0")/unit.sh" "$0"
