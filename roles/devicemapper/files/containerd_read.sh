#!/bin/sh
# The devicemapper role's read for containerd's snapshotter: read-only.
# Arguments: the VG, containerd's devmapper root_path, containerd's service name
# (without .service), the activation drop-in's path on its unit.
# Sections:
#   @@pool        `lvs` rows of the VG: name|attributes|data percent|pool of a thin volume
#                 (none when LVM is not installed yet or the VG does not exist; a failing
#                 vgs or lvs fails the script)
#   @@metadata    "present" when containerd's metadata.db exists
#   @@service     active=<systemctl is-active>, enabled=<systemctl is-enabled>
#   @@dropin      base64 of the drop-in's bytes, then owner:group:mode (nothing when absent)
set -eu
PATH="$PATH:/usr/sbin:/sbin"
root=$2
while [ "${root%/}" != "$root" ] && [ -n "${root%/}" ]; do root=${root%/}; done
echo '@@pool'
if command -v vgs > /dev/null; then
  vgs=$(vgs --noheadings -o vg_name)
  for vg in $vgs; do
    if [ "$vg" = "$1" ]; then
      lvs --noheadings --separator '|' -o lv_name,lv_attr,data_percent,pool_lv -- "$1"
    fi
  done
fi
echo '@@metadata'
if [ -f "$root/metadata.db" ]; then echo present; fi
echo '@@service'
# is-active and is-enabled exit non-zero for inactive and disabled: their output is the answer.
active=$(systemctl is-active -- "$3.service" 2>/dev/null) || :
enabled=$(systemctl is-enabled -- "$3.service" 2>/dev/null) || :
echo "active=$active"
echo "enabled=$enabled"
echo '@@dropin'
if [ -f "$4" ]; then
  base64 -w 0 -- "$4"
  echo
  stat -c '%U:%G:%a' -- "$4"
fi
