#!/bin/sh
# The image IDs and tags Docker has now: one "ID|tags" line per image asked for that exists.
# An image Docker does not have is left out; any other failure of docker fails the script.
# Arguments: image IDs.
set -eu
for id in "$@"; do
  rc=0
  out=$(docker image inspect --format '{{.Id}}|{{range .RepoTags}}{{.}} {{end}}' "$id" 2>&1) || rc=$?
  if [ "$rc" = 0 ]; then
    printf '%s\n' "$out"
  else
    case $out in
      *"No such image"*) ;;
      *) printf '%s\n' "$out" >&2; exit "$rc" ;;
    esac
  fi
done
