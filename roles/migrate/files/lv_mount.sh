#!/bin/sh
# Mount the new LV at the data root, by its fstab line.
# Argument: data root.
set -eu
exec mount -- "$1"
