#!/bin/sh
# The migrate role's read, read-only, in @@sections: its record on the host, the mounts, LVM's
# LVs and VGs (JSON reports), the free space of the export path's and the data root's file
# systems (df), whether they are one file system, fstab's lines for the data root (commented-out
# ones too), and the data roots moved aside by earlier runs. Every command whose output a decision uses fails the script.
# Arguments: state file, data root, export path (may be empty).
set -eu
PATH="$PATH:/usr/sbin:/sbin"
# The record is written without a final line break: one is added, so the next marker starts a line.
echo '@@state'
if [ -e "$1" ]; then
  cat -- "$1"
  echo
fi
echo '@@mounts'
cat /proc/self/mounts
# A host without LVM (loop-lvm) has no LVs and no VGs.
echo '@@lvs'
if command -v lvm >/dev/null; then
  lvm lvs --reportformat json --units b --nosuffix -o vg_name,lv_name,lv_attr,lv_size
fi
echo '@@vgs'
if command -v lvm >/dev/null; then
  lvm vgs --reportformat json --units b --nosuffix -o vg_name,vg_free
fi
# The export path may not exist yet: its nearest existing parent says where it will be.
echo '@@avail'
p=
if [ -n "$3" ]; then
  p=$3
  while [ ! -e "$p" ]; do p=$(dirname -- "$p"); done
  df -P -B1 -- "$p"
fi
# The data root's file system (overlay2-root), and whether the export path shares it.
r=$2
while [ ! -e "$r" ]; do r=$(dirname -- "$r"); done
echo '@@root_avail'
df -P -B1 -- "$r"
echo '@@same_fs'
if [ -n "$p" ]; then
  export_dev=$(stat -c %d -- "$p")
  root_dev=$(stat -c %d -- "$r")
  if [ "$export_dev" = "$root_dev" ]; then echo yes; else echo no; fi
fi
echo '@@fstab'
# Commented-out lines too: the role writes and removes only its own exact line, and refuses any other.
# MIGRATE_FSTAB: another file in place of /etc/fstab (the unit tests).
fstab=${MIGRATE_FSTAB:-/etc/fstab}
if [ -e "$fstab" ]; then
  awk -v r="$2" '{ line = $0; sub(/^[ \t]*#[ \t]*/, "", line); split(line, f); if (f[2] == r) print }' "$fstab"
fi
echo '@@backups'
for backup in "$2".migrate-*; do
  if [ -e "$backup" ]; then echo "$backup"; fi
done
echo '@@end'
