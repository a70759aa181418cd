#!/bin/sh
exec '@CGIWRAP@' -c '@CONF@' -- '@TARGET@' "$@"
