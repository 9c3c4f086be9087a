#!/bin/sh
# Rollback: unmount the LV from the data root (the LV and its data are kept).
# Prints "unmounted" when it unmounted it.
# Argument: data root.
set -eu
if mountpoint -q -- "$1"; then
  umount -- "$1"
  echo unmounted
fi
