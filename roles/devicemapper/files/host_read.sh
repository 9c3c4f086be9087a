#!/bin/sh
# The devicemapper role's read of the host, before it decides anything: read-only.
# Arguments: the role's record file, Docker's data root (a trailing '/' is dropped), the
# activation drop-in's path, then the LVM tools to look for (lvm, thin_check).
# Prints one section per fact, each after an @@name line:
#   @@state        the record's content (nothing when there is none)
#   @@state_sha    sha256sum of the record, or "none"
#   @@mounts       every mount point (second field of /proc/self/mounts)
#   @@tools        the path of each tool found
#   @@backups      "bytes<TAB>path" of each backup of the data root (beside it, or inside it)
#   @@dropin       base64 of the drop-in's bytes, then owner:group:mode (nothing when absent)
#   @@lvmconfig    lvmconfig's output for config/profile_dir, when lvm is there and it succeeded
#   @@lvmconfig_error  lvmconfig's exit code and standard error, when it failed
# A command whose output the role decides on fails the script when it fails.
set -eu
PATH="$PATH:/usr/sbin:/sbin"
state=$1 root=$2 dropin=$3
shift 3
while [ "${root%/}" != "$root" ] && [ -n "${root%/}" ]; do root=${root%/}; done

echo '@@state'
# The echo ends a record whose last line has no line break (the empty line is no content).
if [ -f "$state" ]; then cat -- "$state"; echo; fi
echo '@@state_sha'
if [ -f "$state" ]; then sha256sum < "$state"; else echo none; fi
echo '@@mounts'
cut -d ' ' -f 2 /proc/self/mounts
echo '@@tools'
for tool in "$@"; do
  if found=$(command -v "$tool"); then echo "$found"; fi
done
echo '@@backups'
for backup in "$root".bk-* "$root/${root##*/}".bk-*; do
  # An unmatched pattern stays as it is: no such path, no backup.
  if [ -e "$backup" ]; then du -s --block-size=1 -- "$backup"; fi
done
echo '@@dropin'
if [ -f "$dropin" ]; then
  base64 -w 0 -- "$dropin"
  echo
  stat -c '%U:%G:%a' -- "$dropin"
fi
# Before the prerequisites lvm may be missing: thinpool then reads profile_dir itself.
if command -v lvm > /dev/null; then
  err=$(mktemp)
  trap 'rm -f -- "$err"' EXIT
  if out=$(lvm lvmconfig --typeconfig full config/profile_dir 2> "$err"); then
    echo '@@lvmconfig'
    printf '%s\n' "$out"
  else
    rc=$?
    echo '@@lvmconfig_error'
    echo "rc=$rc"
    cat -- "$err"
  fi
fi
