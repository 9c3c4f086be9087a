#!/usr/bin/env bash
# CHANGELOG.rst for the version galaxy.yml names, from changelogs/fragments.
#
# Until that version is released, the release is recorded only in a scratch copy:
# changelogs/changelog.yaml keeps no release and the fragments stay, so the changelog
# can be regenerated as fragments are added. At release time run
# `antsibull-changelog release` in the work tree (it records the date and removes the
# fragments); from then on this script just runs `antsibull-changelog generate`.
#
# usage: release_notes.sh          write CHANGELOG.rst
#        release_notes.sh --check  fail when CHANGELOG.rst is not what it would write
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
version=$(sed -n 's/^version: *//p' "$top/galaxy.yml")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# antsibull-changelog finds the new modules with ansible-doc, which needs the
# ansible_collections/<namespace>/<name> layout.
copy="$scratch/ansible_collections/container_storage/devicemapper"
mkdir -p "$copy"
(cd "$top" && cp -r galaxy.yml changelogs meta plugins roles playbooks "$copy/")
rm -f "$copy/changelogs/.plugin-cache.yaml"
cd "$copy"
if grep -q "^  $version:" changelogs/changelog.yaml; then
  antsibull-changelog generate
else
  # The date is kept in changelog.yaml only (not in CHANGELOG.rst) and discarded with it.
  antsibull-changelog release --version "$version" --date 1970-01-01
fi
if [ "${1:-}" = --check ]; then
  # A module's version_added must be a release (or this one): antsibull-changelog lists the
  # modules new in a release by it, and a first release sees only version_added == version.
  stale=$(grep -H "^version_added:" plugins/modules/*.py | awk '{print $2}' | sort -u \
    | while read -r added; do grep -q "^  $added:" changelogs/changelog.yaml || [ "$added" = "$version" ] \
      || echo "$added"; done)
  if [ -n "$stale" ]; then
    grep -H "^version_added:" plugins/modules/*.py | grep -F -e "$stale" | sed 's|^|  |' >&2
    echo "version_added names a version that is neither released nor $version (galaxy.yml)" >&2
    exit 1
  fi
  if ! diff -u "$top/CHANGELOG.rst" CHANGELOG.rst; then
    echo "CHANGELOG.rst is not current for $version: run make release-notes and commit it" >&2
    exit 1
  fi
  echo "CHANGELOG.rst is current for $version"
else
  cp CHANGELOG.rst "$top/CHANGELOG.rst"
  echo "CHANGELOG.rst written for $version"
fi
