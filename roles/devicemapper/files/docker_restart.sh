#!/bin/sh
# Enables Docker's units, then restarts its service (settings changed) or starts the units.
# Arguments: restart|start, the service (docker.service), then every unit (socket first).
set -eu
action=$1
service=$2
shift 2
systemctl enable -- "$@"
if [ "$action" = restart ]; then systemctl restart -- "$service"; else systemctl start -- "$@"; fi
