#!/bin/sh
# Carry the named volumes (they live under the data root, not in the pool), and network/, plugins/,
# swarm/ and trust/, before Docker first starts on the new data root. Copied to a partial
# directory, then renamed, so a killed copy is started again. A volumes directory already in the new data root counts as carried only when
# each volume directory of the old one is in it with the same content (diff -r); its metadata.db
# is not compared, as every start of a Docker there rewrites it (a killed run resumed after
# Docker started on the new data root). Any other (a Docker started there by hand makes one
# without the volumes) is refused, never taken for a finished copy. Migrating again after a
# rollback, what the earlier attempt left on the LV is first moved into a directory of its own
# (kept), so Docker starts on an empty data root and gets the volumes as they are now.
# Prints what it did.
# Arguments: old data root, data root, that directory or "".
set -eu
if [ -n "$3" ] && [ ! -e "$3" ]; then
  if [ ! -d "$3.partial" ]; then mkdir -m 0700 -- "$3.partial"; fi
  find "$2" -mindepth 1 -maxdepth 1 ! -name lost+found ! -path "$3.partial" -exec mv --target-directory="$3.partial" -- {} +
  mv --no-target-directory -- "$3.partial" "$3"
  echo "moved the earlier attempt's data to $3"
fi
# What else of the data root does not depend on the storage driver: the user-defined networks
# (network/files/local-kv.db), the plugins, the swarm state (the plan refuses a swarm node unless
# migrate_swarm is carry) and trust/. Each copied whole under a partial name, then renamed; one
# already there is left as it is (Docker rewrites these files whenever it starts): the check after
# the switch compares the networks, plugins and swarm state with the inventory.
for name in network plugins swarm trust; do
  if [ -d "$1/$name" ] && [ ! -e "$2/$name" ]; then
    rm -rf --one-file-system -- "$2/$name.migrate-partial"
    cp -a -- "$1/$name" "$2/$name.migrate-partial"
    mv --no-target-directory -- "$2/$name.migrate-partial" "$2/$name"
    echo "copied $name"
  fi
done
if [ ! -d "$1/volumes" ]; then exit 0; fi
if [ -e "$2/volumes" ]; then
  for volume in "$1"/volumes/*; do
    # metadata.db, backingFsBlockDev, or no volume at all.
    if [ ! -d "$volume" ]; then continue; fi
    rc=0
    differences=$(diff -r -q --no-dereference -- "$volume" "$2/volumes/${volume##*/}" 2>&1) || rc=$?
    if [ "$rc" != 0 ]; then
      echo "$2/volumes is not a copy of $1/volumes: its ${volume##*/} differs (diff exit $rc); nothing was copied over it:" >&2
      printf '%s\n' "$differences" | head -n 20 >&2
      exit 3
    fi
  done
  exit 0
fi
rm -rf --one-file-system -- "$2/volumes.migrate-partial"
cp -a -- "$1/volumes" "$2/volumes.migrate-partial"
mv --no-target-directory -- "$2/volumes.migrate-partial" "$2/volumes"
echo "copied volumes"
