#!/usr/bin/env python3
"""The devicemapper role against the guide's commands as one shell script, side by side.

    python3 tools/bench/role_vs_seed.py [--rounds 3] [--many-disks 8] [--json FILE]

Each round boots fresh, identical lab VMs (Debian 12 guest, Docker 20.10 enabled and running on
overlay2 with one imported image, spare 10G virtio disks), one after another so that they never compete for the CPU, and
times on them:
- seed: Docker's "configure direct-lvm mode for production" as one shell script over one
  SSH session (stop Docker, pvcreate, vgcreate, two lvcreate, lvconvert, the profile,
  lvchange --metadataprofile, --monitor, the data root aside, daemon.json, start Docker,
  docker info) on one disk;
- converge: playbooks/direct_lvm.yml with the role on a second VM with one disk, then
- no-op: the same playbook again on that VM (nothing to change);
- converge-N: the playbook on a third VM with N disks (--many-disks).
Prints the medians and spread of the rounds, the ratios to the seed, the number of remote
module runs of each role run (counted from ansible's -vvv log: one `EXEC` of the target's
Python per module run) and of its run_script calls that started no Python (one `EXEC` of the
launcher each) and, for the median round, a per-task table from the run's own
timestamps (tools/bench/callback_plugins/bench_task_times.py). Needs `make setup lab-image`.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools", "lab"))
import lab  # noqa: E402

# The guide's direct-lvm steps, in its order, as an operator would paste them.
SEED_SCRIPT = r"""set -e
systemctl stop docker
pvcreate /dev/vdb
vgcreate docker /dev/vdb
lvcreate --wipesignatures y -n thinpool docker -l 95%VG
lvcreate --wipesignatures y -n thinpoolmeta docker -l 1%VG
lvconvert -y --zero n -c 512K --thinpool docker/thinpool --poolmetadata docker/thinpoolmeta
mkdir -p /etc/lvm/profile
cat > /etc/lvm/profile/docker-thinpool.profile <<'EOF'
activation {
  thin_pool_autoextend_threshold=80
  thin_pool_autoextend_percent=20
}
EOF
lvchange --metadataprofile docker-thinpool docker/thinpool
lvs -o+seg_monitor
lvchange --monitor y docker/thinpool
mkdir /var/lib/docker.bk
mv /var/lib/docker/* /var/lib/docker.bk
mkdir -p /etc/docker
cat > /etc/docker/daemon.json <<'EOF'
{
    "storage-driver": "devicemapper",
    "storage-opts": [
    "dm.thinpooldev=/dev/mapper/docker-thinpool",
    "dm.use_deferred_removal=true",
    "dm.use_deferred_deletion=true"
    ]
}
EOF
systemctl start docker
docker info | grep -E 'Storage Driver|Pool Name'
"""

# Not timed: every VM starts as a host whose Docker already runs on overlay2 and holds an
# image, enabled as Debian's docker.io package leaves it (the lab image disables it so that
# tests decide when Docker starts; enabling it is the role's job only where it is not).
PREPARE = "systemctl enable --now docker.socket docker.service 2>/dev/null && docker import /opt/lab/busybox.tar busybox >/dev/null"

PLAYBOOK = os.path.join(REPO, "playbooks", "direct_lvm.yml")
# One pipelined module run = one ssh EXEC of the target's interpreter.
MODULE_RUN = re.compile(r"SSH: EXEC ssh .*/usr/bin/python3")
# One run_script call over the connection (its action plugin, no Python on the target):
# one ssh EXEC of its launcher (plugins/module_utils/_script.py, launcher_argv).
SCRIPT_RUN = re.compile(r"SSH: EXEC ssh .*env LANG=C LANGUAGE=C LC_ALL=C timeout -k")
STEPS = ("seed", "converge", "no-op", "converge-many")


def disk_paths(count):
    return ["/dev/vd%s" % chr(ord("b") + index) for index in range(count)]


def run(argv, env, log_path):
    started = time.monotonic()
    with open(log_path, "w") as log:
        proc = subprocess.run(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, check=False)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        with open(log_path) as handle:
            tail = handle.readlines()[-40:]
        raise SystemExit("failed (rc %d): %s\n%s" % (proc.returncode, " ".join(argv[:6]), "".join(tail)))
    return elapsed


def boot(name, disks):
    config = lab.up(name, disks=disks, disk_size="10G")
    inventory = os.path.join(lab.vm_dir(name), "inventory.ini")
    lab.write_inventory([config], inventory)
    subprocess.run(lab.ssh_argv(config, [PREPARE]), check=True, stdout=subprocess.DEVNULL)
    with open(inventory) as handle:
        text = handle.read().replace("[lab]", "[docker_hosts]", 1)
    with open(inventory, "w") as handle:
        handle.write(text)
    return config, inventory


def role_run(inventory, disks, env, work, label):
    times_path = os.path.join(work, label + ".tasks.jsonl")
    log_path = os.path.join(work, label + ".log")
    argv = ["ansible-playbook", "-vvv", "-i", inventory, PLAYBOOK,
            "-e", json.dumps({"devicemapper_devices": disk_paths(disks), "devicemapper_become": False})]
    seconds = run(argv, dict(env, BENCH_TASK_TIMES=times_path), log_path)
    with open(log_path) as handle:
        log_text = handle.read()
    recap = re.search(r"ok=(\d+)\s+changed=(\d+)", log_text)
    with open(times_path) as handle:
        tasks = [json.loads(line) for line in handle]
    return {
        "seconds": seconds,
        "module_runs": len(MODULE_RUN.findall(log_text)),
        "script_runs": len(SCRIPT_RUN.findall(log_text)),
        "ok": int(recap.group(1)) if recap else None,
        "changed": int(recap.group(2)) if recap else None,
        "tasks": tasks,
        "log": log_path,
    }


def one_round(number, many, env, work):
    result = {}
    prefix = "bench%d-r%d" % (os.getpid(), number)
    name = prefix + "-seed"
    try:
        config, _ = boot(name, 1)
        result["seed"] = {"seconds": run(lab.ssh_argv(config, [SEED_SCRIPT]), env,
                                         os.path.join(work, "r%d-seed.log" % number))}
    finally:
        lab.down(name)
    name = prefix + "-one"
    try:
        _, inventory = boot(name, 1)
        result["converge"] = role_run(inventory, 1, env, work, "r%d-converge" % number)
        result["no-op"] = role_run(inventory, 1, env, work, "r%d-noop" % number)
    finally:
        lab.down(name)
    name = prefix + "-many"
    try:
        _, inventory = boot(name, many)
        result["converge-many"] = role_run(inventory, many, env, work, "r%d-converge-many" % number)
    finally:
        lab.down(name)
    return result


def spread(values):
    return "%.1f (%.1f-%.1f)" % (statistics.median(values), min(values), max(values))


def task_table(run_result, top):
    rows = sorted(run_result["tasks"], key=lambda task: -task["seconds"])[:top]
    lines = ["| task | s | result |", "| --- | --- | --- |"]
    for task in rows:
        lines.append("| %s | %.1f | %s |" % (task["name"], task["seconds"], ",".join(task["status"]) or "-"))
    return "\n".join(lines)


def report(rounds, many):
    out = []
    medians = {step: statistics.median(r[step]["seconds"] for r in rounds) for step in STEPS}
    seed = medians["seed"]
    out.append("| run (%d rounds: median, min-max) | wall s | x seed | remote module runs | remote script runs"
               " | changed |" % len(rounds))
    out.append("| --- | --- | --- | --- | --- | --- |")
    names = {"seed": "the guide's commands, one shell script over one SSH session (1 disk)",
             "converge": "the role, first converge (1 disk)",
             "no-op": "the role, second run (nothing to change)",
             "converge-many": "the role, first converge (%d disks)" % many}
    for step in STEPS:
        values = [r[step]["seconds"] for r in rounds]
        runs = sorted({r[step].get("module_runs") for r in rounds} - {None})
        scripts = sorted({r[step].get("script_runs") for r in rounds} - {None})
        changed = sorted({r[step].get("changed") for r in rounds} - {None})
        out.append("| %s | %s | %.2f | %s | %s | %s |" % (
            names[step], spread(values), medians[step] / seed,
            "/".join(str(v) for v in runs) or "-", "/".join(str(v) for v in scripts) or "-",
            "/".join(str(v) for v in changed) or "-"))
    out.append("")
    out.append("%d-disk converge / 1-disk converge: %.2f" % (many, medians["converge-many"] / medians["converge"]))
    middle = sorted(rounds, key=lambda r: r["converge"]["seconds"])[len(rounds) // 2]
    for step in ("converge", "no-op"):
        out.append("")
        out.append("Slowest tasks of the median round's %s (%.1f s, %d remote module runs, %d remote script runs):"
                   % (step, middle[step]["seconds"], middle[step]["module_runs"], middle[step].get("script_runs", 0)))
        out.append(task_table(middle[step], 12))
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--many-disks", type=int, default=8)
    parser.add_argument("--json", help="also write the raw results here")
    args = parser.parse_args()
    venv_bin = os.path.join(REPO, ".venv", "bin")
    env = dict(os.environ, PATH=venv_bin + os.pathsep + os.environ["PATH"],
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"),
               ANSIBLE_CONFIG=os.path.join(REPO, "tools", "ansible.cfg"),
               ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, "callback_plugins"),
               ANSIBLE_CALLBACKS_ENABLED="bench_task_times",
               ANSIBLE_NOCOLOR="1")
    work = tempfile.mkdtemp(prefix="role_vs_seed-", dir=os.path.join(REPO, ".build"))
    rounds = []
    for number in range(1, args.rounds + 1):
        rounds.append(one_round(number, args.many_disks, env, work))
        print("round %d: %s" % (number, ", ".join("%s %.1f s" % (step, rounds[-1][step]["seconds"])
                                                    for step in STEPS)), flush=True)
    text = report(rounds, args.many_disks)
    print(text)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"rounds": rounds, "report": text}, handle, indent=1)
    print("logs: %s" % os.path.relpath(work, REPO))


if __name__ == "__main__":
    main()
