#!/bin/sh
# Confirmation of a move to the containerd image store: the old graph driver's own directories in
# the data root (its layers and image metadata), nothing else of the data root. Prints what it removed.
# Arguments: data root, the old driver's name.
set -eu
case $2 in
  '' | */* | . | ..) echo "not a storage driver name: '$2'" >&2; exit 3 ;;
esac
for dir in "$1/$2" "$1/image/$2"; do
  if [ -e "$dir" ]; then
    rm -rf --one-file-system -- "$dir"
    echo "removed $dir"
  fi
done
