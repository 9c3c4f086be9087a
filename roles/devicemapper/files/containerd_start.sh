#!/bin/sh
# Enables containerd when it is not, then restarts it (settings changed) or starts it.
# Arguments: the unit (containerd.service), yes|no (enabled already), yes|no (restart).
set -eu
if [ "$2" = no ]; then systemctl enable -- "$1"; fi
if [ "$3" = yes ]; then systemctl restart -- "$1"; else systemctl start -- "$1"; fi
