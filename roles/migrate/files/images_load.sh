#!/bin/sh
# docker load, each archive's checksum checked first; an image already present (by its ID in the
# store Docker runs on now) is not loaded again (a killed run loads only what is missing).
# Prints "loaded <id hex>" per image loaded.
# Arguments: export path, then "hex|sha256|store id hex" per image.
set -eu
dir=$1
shift
for spec in "$@"; do
  hex=${spec%%|*}
  rest=${spec#*|}
  sum=${rest%%|*}
  store=${rest#*|}
  if docker image inspect --format x "sha256:$store" >/dev/null 2>&1; then continue; fi
  actual=$(sha256sum < "$dir/$hex.tar")
  actual=${actual%% *}
  if [ "$actual" != "$sum" ]; then
    echo "$dir/$hex.tar: sha256 $actual, the manifest says $sum; not loaded" >&2
    exit 3
  fi
  docker load -q -i "$dir/$hex.tar" >/dev/null
  echo "loaded $hex"
done
