#!/bin/sh
# Starts Docker's units (enabling them first with "enable"), prints `docker info` as
# JSON after an @@info line when asked ("info"), then, when asked ("record"), writes
# the role's record with the record script's text (state_record.sh).
# Arguments: enable|start, info|no-info, record|no-record, the record script's text,
# the record's path, its content, then the units (socket first).
# A failed `docker info` prints no JSON: the role's verification then fails, saying
# so with docker's standard error (docker_info filter), so it does not stop the record.
set -eu
verb=$1 info=$2 record=$3 script=$4 file=$5 content=$6
shift 6
if [ "$verb" = enable ]; then systemctl enable --now -- "$@"; else systemctl start -- "$@"; fi
if [ "$info" = info ]; then
  echo @@info
  docker info --format '{{json .}}' || true
fi
if [ "$record" = record ]; then /bin/sh -c "$script" sh "$file" "$content"; fi
