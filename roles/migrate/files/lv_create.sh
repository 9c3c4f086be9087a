#!/bin/sh
# The new LV with its file system, checked (xfs needs ftype=1 for overlay2), and the empty mount
# point. Run under the collection's host lock (run_script's host_lock), so no thinpool or
# lvm_profile run changes LVM while the LV is made. Prints what it made.
# Arguments: VG, LV, size (-L form, or N%FREE/N%VG/N%PVS for -l), fs type (ext4 or xfs), data root.
set -eu
PATH="$PATH:/usr/sbin:/sbin"
dev=/dev/$1/$2
if ! lvs "$1/$2" >/dev/null 2>&1; then
  case $3 in
    *%*) lvcreate --yes --wipesignatures y -l "$3" -n "$2" "$1" >/dev/null ;;
    *) lvcreate --yes --wipesignatures y -L "$3" -n "$2" "$1" >/dev/null ;;
  esac
  echo "created $1/$2"
fi
udevadm settle --timeout=60 || true
# blkid -p exits 2 when it finds no signature; any other failure is not "empty".
rc=0
found=$(blkid -p -o value -s TYPE -- "$dev") || rc=$?
if [ "$rc" != 0 ] && [ "$rc" != 2 ]; then
  echo "blkid could not read $dev (exit $rc); it was left as it is" >&2
  exit 3
fi
if [ -z "$found" ]; then
  if [ "$4" = xfs ]; then mkfs.xfs -q -n ftype=1 -- "$dev"; else mkfs.ext4 -q -- "$dev"; fi
  echo "mkfs $4"
elif [ "$found" != "$4" ]; then
  echo "$dev already holds a $found file system, not $4; it was left as it is" >&2
  exit 3
fi
if [ "$4" = xfs ]; then
  version=$(xfs_db -r -c version -- "$dev")
  case $version in
    *FTYPE*) ;;
    *) echo "$dev is xfs without ftype=1, which overlay2 cannot use; it was left as it is" >&2; exit 3 ;;
  esac
fi
if [ ! -d "$5" ]; then
  mkdir -m 0710 -- "$5"
  echo "mkdir $5"
fi
