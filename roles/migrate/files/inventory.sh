#!/bin/sh
# The inventory of Docker's whole store, read-only, in @@sections (issue 26): what docker info
# counts, every image ID (docker image ls -a) with its size and tags, the container IDs, the
# user-defined networks, the plugins, the named volumes, the swarm state, the data root's
# driver-independent directories, and a content digest of each named volume. Taken before
# anything changes, and again after the switch and before the confirmation: the plan compares
# them. Every read fails the script when it fails (an empty list read from a failed command would
# count as nothing to carry).
# Each volume digest is "name|files|bytes|sha256": the sha256 of the sorted list of the volume's
# entries (type, mode, owner, size of each non-directory, link target) and of its files' sha256
# sums, so a copy with the same content has the same digest on any file system.
# Arguments: data root, then the volumes directory to digest, then (after an overlay2 switch) the
# moved-aside old one, to compare with.
set -euf
root=$1
shift
echo '@@info'
docker info --format '{{.Images}}|{{.Containers}}|{{.Swarm.LocalNodeState}}|{{.Swarm.ControlAvailable}}'
echo '@@images'
listed=$(docker image ls -a -q --no-trunc)
ids=$(printf '%s\n' "$listed" | LC_ALL=C sort -u)
if [ -n "$ids" ]; then
  # shellcheck disable=SC2086  # one argument per image ID (set -f: no globbing)
  docker image inspect --format '{{.Id}}|{{.Size}}|{{range .RepoTags}}{{.}} {{end}}' $ids
fi
echo '@@container_ids'
docker ps -aq --no-trunc
echo '@@networks'
networks=$(docker network ls -q --no-trunc --filter type=custom)
if [ -n "$networks" ]; then
  # shellcheck disable=SC2086  # one argument per network ID (set -f: no globbing)
  docker network inspect --format '{{.Name}}|{{.Driver}}|{{.Scope}}|{{range .IPAM.Config}}{{.Subnet}} {{end}}' $networks
fi
echo '@@plugins'
docker plugin ls --no-trunc --format '{{.Name}}|{{.Enabled}}'
echo '@@volumes'
docker volume ls -q
# swarm/, network/, plugins/ and trust/ do not depend on the storage driver: the migration carries them.
echo '@@state_dirs'
for name in swarm network plugins trust; do
  if [ -d "$root/$name" ]; then echo "$name"; fi
done
# Each volumes directory given: @@volume_digests for the first, @@old_volume_digests for the second.
digests() {
  if [ ! -d "$1" ]; then return 0; fi
  set +f
  set -- "$1"/*
  set -f
  for volume in "$@"; do
    # metadata.db, backingFsBlockDev, or no volume at all.
    if [ ! -d "$volume/_data" ]; then continue; fi
    # A directory's size depends on the file system: only its type, mode and owner count.
    entries=$(cd -- "$volume/_data" && find . ! -type d -printf '%y %m %U:%G %s %P -> %l\n')
    dirs=$(cd -- "$volume/_data" && find . -type d -printf '%y %m %U:%G %P\n')
    sums=$(cd -- "$volume/_data" && find . -type f -exec sha256sum -- {} +)
    sorted=$(printf '%s\n%s\n%s\n' "$entries" "$dirs" "$sums" | LC_ALL=C sort)
    digest=$(printf '%s\n' "$sorted" | sha256sum)
    counted=$(printf '%s\n' "$entries" | awk '$1 == "f" { n++; b += $4 } END { printf "%d|%d", n, b }')
    echo "${volume##*/}|$counted|${digest%% *}"
  done
}
echo '@@volume_digests'
if [ "$#" -ge 1 ]; then digests "$1"; fi
echo '@@old_volume_digests'
if [ "$#" -ge 2 ]; then digests "$2"; fi
echo '@@end'
