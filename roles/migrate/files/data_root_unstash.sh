#!/bin/sh
# Put the old data root back, what the new store left in the data root moved aside beside it
# (never deleted). Prints "kept <where>" and "restored".
# Arguments: backup path, data root, where the new store's leftovers go.
set -eu
if [ -e "$1" ]; then
  if [ -d "$2" ]; then
    content=$(ls -A -- "$2")
    if [ -z "$content" ]; then
      rmdir -- "$2"
    else
      mv --no-target-directory -- "$2" "$3"
      echo "kept $3"
    fi
  elif [ -e "$2" ]; then
    mv --no-target-directory -- "$2" "$3"
    echo "kept $3"
  fi
  mv --no-target-directory -- "$1" "$2"
  echo restored
fi
