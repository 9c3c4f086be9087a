#!/bin/sh
# Move the old data root aside (never deleted). Refuses a data root that still has a mount inside.
# Prints "moved" when it moved it.
# Arguments: data root, backup path.
set -eu
if awk -v r="$1/" 'index($2, r) == 1 {found = 1} END {exit !found}' /proc/self/mounts; then
  echo "something is still mounted inside $1 after Docker stopped:" >&2
  awk -v r="$1/" 'index($2, r) == 1 {print $2}' /proc/self/mounts >&2
  exit 3
fi
if [ -e "$1" ] && [ ! -e "$2" ]; then
  mv --no-target-directory -- "$1" "$2"
  echo moved
fi
