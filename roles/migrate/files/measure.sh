#!/bin/sh
# The migrate role's read of Docker, read-only, Docker running, in @@sections: the images
# ("ID|bytes|tags"), the containers (docker inspect's JSON), the named volumes and the bytes
# under the data root's volumes directory (du). A failing docker command fails the script:
# an empty list read from a failed command would carry nothing.
# Argument: data root.
set -euf
listed=$(docker image ls -q --no-trunc)
ids=$(printf '%s\n' "$listed" | sort -u)
echo '@@images'
if [ -n "$ids" ]; then
  # shellcheck disable=SC2086  # one argument per image ID (set -f: no globbing)
  docker image inspect --format '{{.Id}}|{{.Size}}|{{range .RepoTags}}{{.}} {{end}}' $ids
fi
echo '@@containers'
cids=$(docker ps -aq --no-trunc)
if [ -n "$cids" ]; then
  # shellcheck disable=SC2086  # one argument per container ID (set -f: no globbing)
  docker inspect $cids
else
  echo '[]'
fi
echo '@@volumes'
docker volume ls -q
echo '@@volume_bytes'
if [ -d "$1/volumes" ]; then du -s -B1 -- "$1/volumes"; fi
echo '@@end'
