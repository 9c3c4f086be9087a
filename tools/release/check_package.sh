#!/usr/bin/env bash
# Build the collection tarball as Galaxy would get it and check what it ships, then
# check the execution-environment metadata with ansible-builder: its own introspection
# must find the system packages, and `ansible-builder create` must write a build context
# (no container build: there is no container engine here).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/.build/package
version=$(sed -n 's/^version: *//p' "$top/galaxy.yml")
rm -rf "$out" && mkdir -p "$out"
cd "$top"

ansible-galaxy collection build --output-path "$out" >/dev/null
tarball=$out/container_storage-devicemapper-$version.tar.gz
tar -tzf "$tarball" | sed 's|/$||' | sort > "$out/contents.txt"
problems=()
for shipped in CHANGELOG.rst changelogs/changelog.yaml README.md LICENSE bindep.txt meta/runtime.yml meta/execution-environment.yml \
    playbooks/direct_lvm.yml roles/devicemapper/meta/argument_specs.yml; do
  grep -qxF "$shipped" "$out/contents.txt" || problems+=("missing: $shipped")
done
while read -r path; do
  problems+=("ships: $path")
done < <(grep -E '(^|/)(\.ansible|\.build|\.venv|\.git|tools|tests|molecule|__pycache__)(/|$)|^changelogs/fragments(/|$)|demo\.yml$|\.pyc$' \
  "$out/contents.txt" || true)
if [ ${#problems[@]} -gt 0 ]; then
  printf '%s\n' "${problems[@]}" >&2
  echo "the tarball $tarball is not what should be published" >&2
  exit 1
fi
echo "tarball: $(wc -l < "$out/contents.txt") entries, $(stat -c %s "$tarball") bytes: $tarball"

# What ansible-builder reads from the installed collection.
ANSIBLE_COLLECTIONS_PATH="$out/installed" ansible-galaxy collection install -p "$out/installed" "$tarball" >/dev/null
ansible-builder introspect "$out/installed" --write-bindep "$out/bindep-introspected.txt" >/dev/null
for package in lvm2 thin-provisioning-tools device-mapper-persistent-data; do
  grep -q "^$package \[" "$out/bindep-introspected.txt" || {
    cat "$out/bindep-introspected.txt" >&2
    echo "ansible-builder introspect did not find $package in the collection's bindep.txt" >&2
    exit 1
  }
done

# The EE definition, with the tarball where it expects it.
mkdir -p "$out/ee/collections"
cp tools/ee/execution-environment.yml "$out/ee/"
cp "$tarball" "$out/ee/collections/container_storage-devicemapper.tar.gz"
ansible-builder create -f "$out/ee/execution-environment.yml" -c "$out/ee-context" --output-filename Containerfile \
  >/dev/null
test -s "$out/ee-context/Containerfile"
test -f "$out/ee-context/_build/collections/container_storage-devicemapper.tar.gz"
echo "execution environment: bindep found by ansible-builder, build context in $out/ee-context"
