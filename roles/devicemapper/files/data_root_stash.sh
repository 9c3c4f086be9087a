#!/bin/sh
# Moves a data root aside (kept, never deleted). The one implementation for the
# devicemapper and migrate roles (migrate runs this file from here).
# Usage: data_root_stash.sh DATA_ROOT BACKUP MODE
#   DATA_ROOT  the data root
#   BACKUP     the backup's path
#   MODE       "inside" when the data root is a mount point: its content moves into
#              BACKUP, a new directory (0700) inside it, as a mount point cannot be
#              renamed; "beside": the data root itself is renamed to BACKUP.
# Earlier backups inside it ("<basename of DATA_ROOT>.bk-*") and lost+found never
# move, and alone they do not make a data root non-empty.
# - Something still mounted inside DATA_ROOT (Docker is stopped by now): refused, exit 3,
#   the mounts named, nothing moved.
# - BACKUP exists already (a resumed run): nothing to do when DATA_ROOT is absent or
#   empty; otherwise refused, exit 4, both paths named.
# - A missing data root (beside) or an empty one (inside): nothing moves.
# Prints "moved" when it moved something.
# The mount table is /proc/self/mounts (the unit tests give another in DATA_ROOT_MOUNTS).
set -eu
if [ $# -ne 3 ] || { [ "$3" != inside ] && [ "$3" != beside ]; }; then
  echo "usage: data_root_stash.sh DATA_ROOT BACKUP inside|beside" >&2
  exit 2
fi
root=$1 backup=$2 mode=$3

# What a stash moves: all but earlier backups and lost+found.
movable() {
  dir=$1
  shift
  find "$dir" -mindepth 1 -maxdepth 1 ! -name "${dir##*/}.bk-*" ! -name lost+found "$@"
}

inner=$(awk -v r="$root/" 'index($2, r) == 1 {print $2}' "${DATA_ROOT_MOUNTS:-/proc/self/mounts}")
if [ -n "$inner" ]; then
  printf 'something is still mounted inside %s after Docker stopped:\n%s\n' "$root" "$inner" >&2
  exit 3
fi

if [ -e "$backup" ] || [ -L "$backup" ]; then
  left=
  if [ -d "$root" ] && [ ! -L "$root" ]; then
    left=$(movable "$root")
  elif [ -e "$root" ] || [ -L "$root" ]; then
    left=$root
  fi
  if [ -z "$left" ]; then
    exit 0  # moved by an earlier run
  fi
  echo "cannot move $root aside: $backup exists already and $root is not empty; move one of them away" >&2
  exit 4
fi

if [ "$mode" = inside ]; then
  mkdir -m 0700 -- "$backup"
  movable "$root" -exec mv --target-directory="$backup" -- {} +
  rmdir --ignore-fail-on-non-empty -- "$backup"
  if [ -e "$backup" ]; then
    echo moved
  fi
elif [ -e "$root" ] || [ -L "$root" ]; then
  mv --no-target-directory -- "$root" "$backup"
  echo moved
fi
