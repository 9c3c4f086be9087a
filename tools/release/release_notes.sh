#!/usr/bin/env bash
# CHANGELOG.rst and changelogs/changelog.yaml for the version galaxy.yml names, from
# changelogs/fragments.
#
# The fragments stay in the repository (keep_fragments: true in changelogs/config.yaml) and
# are not shipped (galaxy.yml build_ignore). Until the version is published (a git tag
# VERSION or vVERSION exists), every run records its release again from all the fragments,
# so a fragment added after an earlier run still lands in it; the release date is the one
# recorded first (the day of the first run). Once the tag exists, only `generate` runs.
#
# A first release (no earlier release in changelog.yaml) shows the release summary, known
# issues and what is new (modules, filters, tests, roles, playbooks): a change to something
# that was never released is development history. Any other section of a fragment is read
# as trivial in the scratch copy (the fragment files are not changed) and the run names the
# fragments it read so; in the repository such fragments are written with `trivial:`.
#
# usage: release_notes.sh          write CHANGELOG.rst and changelogs/changelog.yaml
#        release_notes.sh --check  fail when either is not what this would write
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
version=$(sed -n 's/^version: *//p' "$top/galaxy.yml")
test -n "$version"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# antsibull-changelog finds the new modules with ansible-doc, which needs the
# ansible_collections/<namespace>/<name> layout.
copy="$scratch/ansible_collections/container_storage/devicemapper"
mkdir -p "$copy"
(cd "$top" && cp -r galaxy.yml changelogs meta plugins roles playbooks "$copy/")
rm -f "$copy/changelogs/.plugin-cache.yaml"
cd "$copy"

published=
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
  published=$(git -C "$top" tag -l "$version" "v$version")
fi

if [ -n "$published" ] && grep -q "^  $version:" changelogs/changelog.yaml; then
  antsibull-changelog generate
else
  # Forget this version's record (keeping its date) and record it again from every fragment.
  date=$(python3 - changelogs/changelog.yaml "$version" <<'EOF'
import datetime
import sys

import yaml

path, version = sys.argv[1], sys.argv[2]
with open(path) as handle:
    data = yaml.safe_load(handle) or {}
releases = data.get("releases") or {}
old = releases.pop(version, None) or {}
data["releases"] = releases
with open(path, "w") as handle:
    yaml.safe_dump(data, handle, default_flow_style=False, sort_keys=True)
print(old.get("release_date") or datetime.datetime.now(datetime.timezone.utc).date().isoformat())
EOF
)
  if ! grep -q "^  [0-9]" changelogs/changelog.yaml; then
    python3 - changelogs/fragments <<'EOF'
import os
import sys

import yaml

SHOWN = ("release_summary", "known_issues", "trivial")
folder = sys.argv[1]
for name in sorted(os.listdir(folder)):
    if not name.endswith((".yml", ".yaml")):
        continue
    path = os.path.join(folder, name)
    with open(path) as handle:
        fragment = yaml.safe_load(handle) or {}
    folded = [section for section in fragment if section not in SHOWN and not section.startswith("add ")]
    if not folded:
        continue
    trivial = list(fragment.pop("trivial", None) or [])
    for section in folded:
        entries = fragment.pop(section)
        trivial.extend(entries if isinstance(entries, list) else [entries])
    fragment["trivial"] = trivial
    with open(path, "w") as handle:
        yaml.safe_dump(fragment, handle, default_flow_style=False, sort_keys=False)
    sys.stderr.write("first release: %s's %s read as trivial (write it with trivial:)\n"
                     % (name, ", ".join(folded)))
EOF
  fi
  antsibull-changelog release --version "$version" --date "$date"
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
  current=0
  diff -u "$top/CHANGELOG.rst" CHANGELOG.rst || current=1
  diff -u "$top/changelogs/changelog.yaml" changelogs/changelog.yaml || current=1
  if [ $current -ne 0 ]; then
    echo "CHANGELOG.rst or changelogs/changelog.yaml is not current for $version: run make release-notes and commit both" >&2
    exit 1
  fi
  echo "CHANGELOG.rst and changelogs/changelog.yaml are current for $version"
else
  cp CHANGELOG.rst "$top/CHANGELOG.rst"
  cp changelogs/changelog.yaml "$top/changelogs/changelog.yaml"
  echo "CHANGELOG.rst and changelogs/changelog.yaml written for $version"
fi
