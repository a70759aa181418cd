#!/bin/sh
# Run the unit test binary named after the calling .t file.
name=$(basename "$1" .t)
exec "${CGIWRAP_UNITS:-build/tests/unit}/$name"
