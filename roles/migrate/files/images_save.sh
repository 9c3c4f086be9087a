#!/bin/sh
# docker save, one archive per image ID (all its tags, or the ID when untagged), written as
# <id>.tar.partial then renamed, its sha256 and the tags it holds beside it. An archive is kept
# when its checksum is there and it holds the image's tags as they are now (a retry after an image
# gained a tag saves it again), so a killed run saves only what is missing or changed. A failed
# save removes its partial file and says how much room the image needed and how much was free.
# Prints "<id hex>|<sha256>|<bytes>|saved or kept|<store id hex>" per image. With "oci" the store ID
# is the digest of the archive's one manifest (index.json, Docker 25+), checked to name the image's
# config (the old ID); otherwise it is the old ID.
# Arguments: export path, "oci" when the image's ID in the containerd image store is needed
# (else "-"), then "ID|BYTES [TAG...]" per image (BYTES: its size, for the message of a failed save).
set -euf
dir=$1
oci=$2
shift 2

# Root writes the archives here, and later loads them: refuse a directory that another user
# could swap, link or write into. Every directory on the real path must be root's, and
# writable by group or others only with the sticky bit (as /var/tmp); the export directory
# itself not even then.
unsafe() {
  echo "images_save.sh: refusing to write the archives under $dir: $1. Nothing was saved; use a migrate_export_path whose directories only root can change." >&2
  exit 1
}
check_dir() {  # DIR LEAF: LEAF is "yes" for the export directory itself
  owner=$(stat -c %u -- "$1")
  mode=$(stat -c %a -- "$1")
  [ "$owner" = 0 ] || unsafe "$1 is owned by uid $owner"
  if [ $((0$mode & 022)) != 0 ] && { [ "$2" = yes ] || [ $((0$mode & 01000)) = 0 ]; }; then
    unsafe "$1 (mode $mode) can be written by group or others"
  fi
}
existing=$dir
while [ ! -e "$existing" ]; do existing=$(dirname -- "$existing"); done
real=$(readlink -f -- "$existing")
leaf=no
[ "$existing" = "$dir" ] && leaf=yes
check=$real
while :; do
  check_dir "$check" "$leaf"
  leaf=no
  [ "$check" = / ] && break
  check=$(dirname -- "$check")
done
if [ ! -d "$dir" ]; then
  parent=$(dirname -- "$dir")
  mkdir -p -- "$parent"
  mkdir -m 0700 -- "$dir"
fi
check_dir "$(readlink -f -- "$dir")" yes
for spec in "$@"; do
  head=${spec%% *}
  id=${head%%|*}
  bytes=${head#*|}
  refs=${spec#"$head"}
  refs=${refs# }
  [ -n "$refs" ] || refs=$id
  hex=${id#sha256:}
  file=$dir/$hex.tar
  how=kept
  kept_refs=
  if [ -s "$file.refs" ]; then kept_refs=$(cat -- "$file.refs"); fi
  if [ ! -s "$file" ] || [ ! -s "$file.sha256" ] || [ "$kept_refs" != "$refs" ]; then
    rm -f -- "$file.partial" "$file.sha256" "$file.refs"
    rc=0
    # shellcheck disable=SC2086  # one argument per tag (set -f: no globbing)
    docker save -o "$file.partial" $refs || rc=$?
    if [ "$rc" != 0 ]; then
      rm -f -- "$file.partial"
      free=$(df -P -B1 -- "$dir")
      free=$(printf '%s\n' "$free" | awk 'NR == 2 { print $4 }')
      echo "docker save of $id ($refs) failed (exit $rc); its partial archive was removed. The image needs about $bytes bytes in $dir, which has $free bytes free now." >&2
      exit 3
    fi
    sum=$(sha256sum < "$file.partial")
    printf '%s\n' "${sum%% *}" > "$file.sha256.partial"
    printf '%s\n' "$refs" > "$file.refs.partial"
    mv -- "$file.partial" "$file"
    mv -- "$file.sha256.partial" "$file.sha256"
    mv -- "$file.refs.partial" "$file.refs"
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
