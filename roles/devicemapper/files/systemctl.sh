#!/bin/sh
# One systemctl call for the role's units, so that a socket and its service
# change together. Arguments: the verb (stop, start, restart, daemon-reload),
# then the units (none for daemon-reload).
set -eu
verb=$1
shift
if [ "$#" -eq 0 ]; then exec systemctl "$verb"; fi
exec systemctl "$verb" -- "$@"
