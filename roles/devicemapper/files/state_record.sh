#!/bin/sh
# Writes the devicemapper role's record atomically: a root-only temporary file
# beside it, flushed, then renamed over it.
# Arguments: the record's path, its content, and optionally the sha256 of the
# record as this run read it ("none": there was none). With it, the record is
# written only if it is still that one; otherwise another run of the role changed
# the host since this run read it, and the script exits 75 having changed nothing.
# The comparison and the write must run under the collection's host lock: the task
# that passes the sha runs this script with run_script's host_lock: true.
set -eu
umask 077
mkdir -p -- "${1%/*}"
if [ -n "${3:-}" ]; then
  if [ -f "$1" ]; then now=$(sha256sum < "$1"); now=${now%% *}; else now=none; fi
  if [ "$now" != "$3" ]; then
    echo "another run of the role changed $1 since this run read it (a switch of Docker's storage may be under way)" >&2
    exit 75
  fi
fi
tmp=$(mktemp -- "$1.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
printf '%s\n' "$2" > "$tmp"
sync -- "$tmp"
mv -f -- "$tmp" "$1"
trap - EXIT
