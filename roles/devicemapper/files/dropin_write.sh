#!/bin/sh
# Writes a systemd drop-in atomically (root:root 0644), then reloads systemd.
# Arguments: the drop-in's path, its content.
set -eu
# umask, not mkdir -m: -m sets the mode of the last directory only.
(umask 022 && mkdir -p -- "${1%/*}")
tmp=$(mktemp -- "$1.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
printf '%s' "$2" > "$tmp"
chown root:root -- "$tmp"
chmod 0644 -- "$tmp"
sync -- "$tmp"
mv -f -- "$tmp" "$1"
trap - EXIT
systemctl daemon-reload
