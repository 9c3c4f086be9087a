#!/bin/sh
# Moves a data root aside (kept, never deleted). One implementation for the
# devicemapper and migrate roles.
# Arguments:
#   $1  the data root
#   $2  the backup's path (must not exist)
#   $3  "inside" when the data root is a mount point: its content then moves into
#       $2, a new directory (0700) inside it, as a mount point cannot be renamed;
#       "beside": the data root itself is renamed to $2.
# Earlier backups inside it ("<basename of $1>.bk-*") and lost+found never move.
# A missing data root (beside) or an empty one (inside) is not an error: nothing moves
# (inside, the empty backup directory is removed again).
set -eu
if [ "$3" = inside ]; then
  mkdir -m 0700 -- "$2"
  find "$1" -mindepth 1 -maxdepth 1 ! -name "${1##*/}.bk-*" ! -name lost+found -exec mv --target-directory="$2" -- {} +
  rmdir --ignore-fail-on-non-empty -- "$2"
elif [ -e "$1" ]; then
  mv --no-target-directory -- "$1" "$2"
fi
