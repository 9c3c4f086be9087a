#!/usr/bin/env python3
"""Run molecule scenarios and matrix legs, two VMs' worth at a time, each into its own log.

    run_scenarios.py [--vms 2] [--logs DIR] [--images-only] JOB...

A JOB is a molecule scenario name, or ``matrix:<leg>`` for a leg of tools/lab/matrix.py.
This machine's two cores carry two emulated VMs well: jobs are started while the VMs they
boot (a scenario's platforms; one per matrix leg) fit in ``--vms``; a job that needs more runs
alone. The first job is the lab's own smoke test: the second starts beside it (so no VM slot
idles), and no other starts after it failed, since when the lab is broken nothing else can
pass. Jobs that need every slot come right after it (in the order given): started last, they
would wait with one slot idle for the longest job still running. The rest start longest first
(their durations measured in the last full run, below), so that no long job starts last while
the other slot runs dry. Each job's output goes to DIR/<job>.log; a failed job's log tail is
printed. Exits 1 when any job failed.

Before any job starts, every lab image the jobs boot is built (or found in the cache), side
by side: on a new machine a build beside a booting VM slowed both until boots failed.
``--images-only`` builds them and stops (the Makefile's lab-image target).
"""

import argparse
import os
import subprocess
import sys
import threading
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import lab  # noqa: E402


def platforms(job):
    """The VMs a job boots, as molecule.yml platforms (a matrix leg boots one, of the lab's
    default suite: tools/lab/matrix.py calls lab.up without one)."""
    if job.startswith("matrix:"):
        return [{"suite": lab.DEFAULT_SUITE}]
    with open(os.path.join(REPO, "molecule", job, "molecule.yml")) as handle:
        config = yaml.safe_load(handle) or {}
    return config.get("platforms") or [{}]


def vms_needed(job):
    return max(1, len(platforms(job)))


def suites_needed(jobs, platforms_of=platforms):
    """The lab images the jobs boot, in a fixed order (molecule/shared/create.yml's
    default suite is bookworm)."""
    return sorted({platform.get("suite", "bookworm") for job in jobs for platform in platforms_of(job)})


# Seconds each job took in a full `make test` from a clean clone on this machine (two VMs at a
# time, VMs restored from the lab's snapshot, images built first into an empty cache), for the
# start order only; a job not listed counts as DEFAULT_SECONDS. From the run of b6299f2
# (2026-12-05: 19 jobs in 3085 s, all passed; make test 3242 s).
MEASURED_SECONDS = {
    "lab": 91, "waves": 519, "containerd": 52, "default": 414, "dm_reload": 214,
    "docker_daemon_config": 97, "faults": 197, "lvm_profile": 121, "migrate": 809,
    "migrate_containerd": 646, "modes": 282, "monitor": 472, "role_check_mode": 85,
    "role_containerd": 419, "thinpool": 165, "matrix:core2.16-py3.6": 160, "matrix:core2.21-py3.11": 136,
    "forky": 354, "role_minimal": 273,
}
DEFAULT_SECONDS = 300


def build_images(suites):
    """Build (or find) every image, side by side (no VM runs yet); False when one failed."""
    failures = []

    def build(suite):
        try:
            print("=== lab image %s: %s" % (suite, lab.build_image(suite)), flush=True)
        except (lab.LabError, OSError, subprocess.CalledProcessError) as exc:
            print("=== building the lab image %s failed: %s" % (suite, exc), flush=True)
            failures.append(suite)

    threads = [threading.Thread(target=build, args=(suite,)) for suite in suites]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return not failures


def start_order(jobs, slots, needed=vms_needed, seconds=MEASURED_SECONDS):
    """The smoke test first, then the jobs that need every slot, then the rest, longest first
    (sorted is stable: equal ones keep the order given)."""
    return jobs[:1] + sorted(jobs[1:], key=lambda job: (min(needed(job), slots) < slots,
                                                        -seconds.get(job, DEFAULT_SECONDS)))


def command(job):
    if job.startswith("matrix:"):
        return [sys.executable, os.path.join(HERE, "matrix.py"), job.split(":", 1)[1]]
    return [os.path.join(os.path.dirname(sys.executable), "molecule"), "test", "-s", job]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=int(os.environ.get("LAB_PARALLEL_VMS", "2")))
    parser.add_argument("--logs", default=os.path.join(REPO, ".build", "molecule-logs"))
    parser.add_argument("--images-only", action="store_true",
                        help="build the images the jobs need, run no job")
    parser.add_argument("jobs", nargs="+")
    args = parser.parse_args()
    if not build_images(suites_needed(args.jobs)):
        return 1
    if args.images_only:
        return 0
    os.makedirs(args.logs, exist_ok=True)

    lock = threading.Condition()
    state = {"vms": 0}
    results = {}

    def run(job, weight):
        log_path = os.path.join(args.logs, job.replace(":", "_").replace("/", "_") + ".log")
        started = time.time()
        with open(log_path, "w") as log:
            rc = subprocess.run(command(job), cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL).returncode
        seconds = time.time() - started
        with lock:  # one job's lines at a time
            results[job] = (rc, seconds, log_path)
            state["vms"] -= weight
            lock.notify_all()
            print("=== %s %s in %d s (log: %s)" % (job, "passed" if rc == 0 else "FAILED", seconds,
                                                  os.path.relpath(log_path, REPO)), flush=True)
            if rc != 0:
                with open(log_path) as handle:
                    tail = handle.readlines()[-60:]
                sys.stdout.write("".join("    | " + line for line in tail))
                sys.stdout.flush()

    total_started = time.time()
    threads = []
    first = args.jobs[0]

    def first_failed():
        return first in results and results[first][0] != 0

    for index, job in enumerate(start_order(args.jobs, args.vms)):
        weight = min(vms_needed(job), args.vms)
        with lock:
            while state["vms"] + weight > args.vms and not first_failed():
                lock.wait()
            if first_failed():
                print("=== the first job (the lab's smoke test) failed: not starting %s and the rest" % job,
                      flush=True)
                break
            state["vms"] += weight
            print("=== starting %s (%d VM%s)%s" % (job, weight, "" if weight == 1 else "s",
                                                ", the lab's smoke test" if index == 0 else ""), flush=True)
        thread = threading.Thread(target=run, args=(job, weight))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    failed = sorted(job for job, (rc, _, _) in results.items() if rc != 0)
    print("=== %d jobs in %d s; %s" % (len(results), time.time() - total_started,
                                      "failed: " + ", ".join(failed) if failed else "all passed"))
    for job in args.jobs:
        if job not in results:
            print("    %-28s %-6s" % (job, "NOT RUN"))
            continue
        rc, seconds, _ = results[job]
        print("    %-28s %-6s %4d s" % (job, "ok" if rc == 0 else "FAILED", seconds))
    return 1 if failed or len(results) < len(args.jobs) else 0


if __name__ == "__main__":
    sys.exit(main())
