#!/usr/bin/env bash
# ansible-test 2.16 sanity on Python 3.6 (RHEL 8's platform Python, the oldest target
# ansible-core 2.16 supports): the module code compiles and imports there. Host only, no VM;
# the ansible-core 2.16 controller is the matrix leg's (tools/lab/matrix.py, made once).
# usage: sanity36.sh SANITY_DIR
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:?usage: sanity36.sh SANITY_DIR}
py36=$(ls -d "$HOME"/.pyenv/versions/3.6*/bin 2>/dev/null | tail -n 1)
if [ -z "$py36" ]; then
  echo "sanity36: no Python 3.6 in pyenv (~/.pyenv/versions/3.6*): cannot check the 3.6 target" >&2
  exit 1
fi
core216=$(cd "$top/tools/lab" && python3 -c 'import matrix; print(matrix.controller("core2.16-py3.6"))')

# ci-files.testing.ansible.com is unreachable here: the same local pip bootstrap as make sanity
cache=$HOME/.ansible/test/cache
mkdir -p "$cache"
for version in $(grep -ho "pip='[0-9.]*'" "$core216"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py \
    | tr -dc '0-9.\n'); do
  cp "$top/tools/sanity/get_pip_offline.py" "$cache/get_pip_$(echo "$version" | tr . _).py"
done

rm -rf "$dir" && mkdir -p "$dir/ansible_collections/container_storage"
rsync -a --exclude .git --exclude .venv --exclude .build --exclude .ansible --exclude '__pycache__' --exclude /tools \
  --exclude .pytest_cache --exclude .ruff_cache "$top/" "$dir/ansible_collections/container_storage/devicemapper/"
cd "$dir/ansible_collections/container_storage/devicemapper"
PATH=$py36:$PATH "$core216/bin/ansible-test" sanity --venv --python 3.6 --color no -v --test compile --test import \
  2>&1 | tee "$dir/sanity36.log"
test "${PIPESTATUS[0]}" -eq 0
! grep -q "All targets skipped" "$dir/sanity36.log"
