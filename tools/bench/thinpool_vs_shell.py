#!/usr/bin/env python3
"""Wall time of the thinpool module against the same steps as a plain shell script.

    python3 tools/bench/thinpool_vs_shell.py [--rounds 2]

Boots one lab VM with two spare disks and, in each round, times side by side:
- the guide's steps as one shell script over one SSH session (pvcreate,
  vgcreate, lvcreate --type thin-pool, lvchange --monitor y) on /dev/vdb, and a
  converged re-run of that script (it checks `lvs` and stops);
- `ansible -m container_storage.devicemapper.thinpool` creating the same pool
  on /dev/vdc, and a converged re-run;
then removes both pools (not timed). Prints a table of the medians.
Needs `make setup` (the venv) first.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools", "lab"))
import lab  # noqa: E402

SHELL_CREATE = """set -e
if lvs shellvg/thinpool >/dev/null 2>&1; then exit 0; fi
pvcreate -q /dev/vdb
vgcreate -q shellvg /dev/vdb
lvcreate -q --type thin-pool -l 95%VG --poolmetadatasize 100M --chunksize 512K -Z n -n thinpool shellvg
lvchange -q --monitor y shellvg/thinpool
"""
SHELL_REMOVE = "lvremove -qy shellvg/thinpool && vgremove -q shellvg && pvremove -q /dev/vdb"


def timed(argv, env=None):
    started = time.monotonic()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit("failed: %s\n%s%s" % (" ".join(argv), proc.stdout, proc.stderr))
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    venv_bin = os.path.join(REPO, ".venv", "bin")
    env = dict(os.environ, PATH=venv_bin + os.pathsep + os.environ["PATH"],
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"),
               ANSIBLE_CONFIG=os.path.join(REPO, "tools", "ansible.cfg"))
    name = "bench-%d" % os.getpid()
    times = {key: [] for key in ("shell create", "shell converged", "module create", "module converged")}
    try:
        config = lab.up(name, disks=2, disk_size="10G")
        inventory = os.path.join(lab.vm_dir(name), "inventory.ini")
        lab.write_inventory([config], inventory)
        ssh = lab.ssh_argv(config)
        module = ["ansible", "-i", inventory, name, "-m", "container_storage.devicemapper.thinpool"]
        for _ in range(args.rounds):
            times["shell create"].append(timed(ssh + ["--", SHELL_CREATE], env))
            times["shell converged"].append(timed(ssh + ["--", SHELL_CREATE], env))
            times["module create"].append(timed(module + ["-a", "vg=modvg devices=/dev/vdc"], env))
            times["module converged"].append(timed(module + ["-a", "vg=modvg devices=/dev/vdc"], env))
            timed(ssh + ["--", SHELL_REMOVE], env)
            timed(module + ["-a", "vg=modvg state=absent remove_vg=true"], env)
    finally:
        lab.down(name)
    print("| run (%d rounds, median s) | shell script over one SSH session | thinpool module |" % args.rounds)
    print("| --- | --- | --- |")
    for step in ("create", "converged"):
        print("| %s | %.1f | %.1f |" % (step, statistics.median(times["shell " + step]),
                                       statistics.median(times["module " + step])))
    print("raw: %r" % {key: [round(v, 1) for v in value] for key, value in times.items()})


if __name__ == "__main__":
    main()
