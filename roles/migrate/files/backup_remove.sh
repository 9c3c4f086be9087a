#!/bin/sh
# Confirmation of a move to overlay2: the old data root, moved aside by the migration.
# Prints "removed" when it removed it.
# Argument: the moved-aside data root.
set -eu
if [ -e "$1" ]; then
  rm -rf --one-file-system -- "$1"
  echo removed
fi
