#!/bin/sh
# Puts a data root moved aside by data_root_stash.sh back. The one implementation for
# the devicemapper and migrate roles (migrate runs this file from here).
# Usage: data_root_unstash.sh [-a ASIDE] [-r] BACKUP DATA_ROOT MODE
#   BACKUP     the backup's path
#   DATA_ROOT  the data root
#   MODE       "inside" when the backup was made inside the data root (a mount point):
#              its content moves back into DATA_ROOT and the backup directory is
#              removed; "beside": the backup is renamed to DATA_ROOT.
#   -a ASIDE   (beside only) what is in DATA_ROOT (what the new store left there) is
#              renamed to ASIDE and kept, printing "kept ASIDE". Without -a, DATA_ROOT
#              must be absent or empty (inside: hold nothing but "<basename>.bk-*"
#              backups and lost+found), else refused, exit 4, both paths named.
#   -r         a rerun: a missing BACKUP means it was put back already, nothing to do.
#              Without -r, a missing BACKUP is refused, exit 4.
# Prints "restored" when it put the backup back.
set -eu
aside='' rerun=''
while getopts a:r opt; do
  case $opt in
    a) aside=$OPTARG ;;
    r) rerun=1 ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ $# -ne 3 ] || { [ "$3" != inside ] && [ "$3" != beside ]; } || { [ "$3" = inside ] && [ -n "$aside" ]; }; then
  echo "usage: data_root_unstash.sh [-a ASIDE] [-r] BACKUP DATA_ROOT inside|beside (-a with beside only)" >&2
  exit 2
fi
backup=$1 root=$2 mode=$3

if [ ! -e "$backup" ] && [ ! -L "$backup" ]; then
  if [ -n "$rerun" ]; then
    exit 0  # put back by an earlier run
  fi
  echo "cannot put $root back: its backup $backup does not exist" >&2
  exit 4
fi

if [ "$mode" = beside ]; then
  if [ -d "$root" ] && [ ! -L "$root" ]; then
    content=$(ls -A -- "$root")
    if [ -z "$content" ]; then
      rmdir -- "$root"
    fi
  fi
  if [ -e "$root" ] || [ -L "$root" ]; then
    if [ -z "$aside" ]; then
      echo "cannot put $backup back: $root is not empty; move it away first" >&2
      exit 4
    fi
    mv --no-target-directory -- "$root" "$aside"
    echo "kept $aside"
  fi
  mv --no-target-directory -- "$backup" "$root"
else
  left=$(find "$root" -mindepth 1 -maxdepth 1 ! -name "${root##*/}.bk-*" ! -name lost+found)
  if [ -n "$left" ]; then
    echo "cannot put $backup back: $root is not empty; move it away first" >&2
    exit 4
  fi
  find "$backup" -mindepth 1 -maxdepth 1 -exec mv --target-directory="$root" -- {} +
  rmdir -- "$backup"
fi
echo restored
