#!/bin/sh
# docker save, one archive per image ID (all its tags, or the ID when untagged), written as
# <id>.tar.partial then renamed, its sha256 beside it. An archive with its checksum is kept, so a
# killed run saves only what is missing.
# Prints "<id hex>|<sha256>|<bytes>|saved or kept|<store id hex>" per image. With "oci" the store ID
# is the digest of the archive's one manifest (index.json, Docker 25+), checked to name the image's
# config (the old ID); otherwise it is the old ID.
# Arguments: export path, "oci" when the image's ID in the containerd image store is needed
# (else "-"), then "ID [TAG...]" per image.
set -euf
dir=$1
oci=$2
shift 2
if [ ! -d "$dir" ]; then
  parent=$(dirname -- "$dir")
  mkdir -p -- "$parent"
  mkdir -m 0700 -- "$dir"
fi
for spec in "$@"; do
  id=${spec%% *}
  refs=${spec#"$id"}
  [ -n "$refs" ] || refs=$id
  hex=${id#sha256:}
  file=$dir/$hex.tar
  how=kept
  if [ ! -s "$file" ] || [ ! -s "$file.sha256" ]; then
    rm -f -- "$file.partial" "$file.sha256"
    # shellcheck disable=SC2086  # one argument per tag (set -f: no globbing)
    docker save -o "$file.partial" $refs
    sum=$(sha256sum < "$file.partial")
    printf '%s\n' "${sum%% *}" > "$file.sha256.partial"
    mv -- "$file.partial" "$file"
    mv -- "$file.sha256.partial" "$file.sha256"
    how=saved
  fi
  store=$hex
  if [ "$oci" = oci ]; then
    index=$(tar -xOf "$file" index.json)
    digests=$(printf '%s' "$index" | tr -d ' \n\t' | grep -o '"digest":"sha256:[0-9a-f]*"' | sort -u | sed 's/.*sha256://; s/"$//')
    if [ "$(printf '%s\n' "$digests" | grep -c .)" != 1 ]; then
      echo "$file: expected one manifest in its index.json, found: $digests" >&2
      exit 3
    fi
    manifest=$(tar -xOf "$file" "blobs/sha256/$digests")
    if ! printf '%s' "$manifest" | tr -d ' \n\t' | grep -q "\"config\":{[^}]*\"sha256:$hex\""; then
      echo "$file: its manifest sha256:$digests does not name the image's config $id" >&2
      exit 3
    fi
    store=$digests
  fi
  sum=$(cat -- "$file.sha256")
  size=$(stat -c %s -- "$file")
  echo "$hex|$sum|$size|$how|$store"
done
