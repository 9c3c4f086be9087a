#!/bin/sh
# Puts a data root moved aside by data_root_stash.sh back. One implementation for
# the devicemapper and migrate roles.
# Arguments:
#   $1  the backup's path
#   $2  the data root
#   $3  "inside" when the backup was made inside the data root (a mount point): its
#       content moves back into $2 and the backup directory is removed;
#       "beside": the backup is renamed to $2 (which must not exist).
set -eu
if [ "$3" = inside ]; then
  find "$1" -mindepth 1 -maxdepth 1 -exec mv --target-directory="$2" -- {} +
  rmdir -- "$1"
else
  mv --no-target-directory -- "$1" "$2"
fi
