#!/usr/bin/env python3
"""What the lab image's bytecode cache (tools/lab/lab_zipimport_cache.py) saves per task.

    guest_bytecode_cache.py [--rounds 5] [--tasks 5]

Boots one lab VM and, in each round, times --tasks Ansible command tasks (one
`ansible -m command -a true` each, pipelining on, as the scenarios run them) with
the cache hook on and with it off (its .pth file moved aside), alternating which
goes first. The cache is warmed before the first round. Prints every time, then
the medians and the spread of both. Run it while no other VM runs, or read it as
a comparison under the same load (both legs share the VM and the round).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools", "lab"))
import lab  # noqa: E402  (the lab tool, next door)

# The hook's .pth in the guest, and where it goes while the cache is off.
SWITCH = ('set -e; pth=$(ls /usr/local/lib/python3*/dist-packages/lab_zipimport_cache.pth* | head -n1); '
          'base=${pth%.off}; if [ "$1" = on ]; then target=$base; else target=$base.off; fi; '
          '[ "$pth" = "$target" ] || mv -f "$pth" "$target"')


def ansible_env():
    venv_bin = os.path.join(REPO, ".venv", "bin")
    return dict(os.environ, PATH=venv_bin + os.pathsep + os.environ["PATH"],
                ANSIBLE_CONFIG=os.path.join(REPO, "tools", "ansible.cfg"))


def timed_task(inventory):
    started = time.monotonic()
    subprocess.run(["ansible", "all", "-i", inventory, "-m", "ansible.builtin.command", "-a", "true"],
                   env=ansible_env(), check=True, stdout=subprocess.DEVNULL, timeout=300)
    return time.monotonic() - started


def switch(config, state):
    subprocess.run(lab.ssh_argv(config, ["sh", "-c", "'%s'" % SWITCH, "switch", state]),
                   check=True, timeout=60)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=5)
    args = parser.parse_args()
    name = "bench-bytecode-%d" % os.getpid()
    times = {"on": [], "off": []}
    config = lab.up(name, disks=0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            inventory = os.path.join(tmp, "inventory.ini")
            lab.write_inventory([config], inventory)
            switch(config, "on")
            timed_task(inventory)  # warms the cache and the SSH connection
            for round_number in range(args.rounds):
                order = ("on", "off") if round_number % 2 == 0 else ("off", "on")
                for state in order:
                    switch(config, state)
                    run = [timed_task(inventory) for _ in range(args.tasks)]
                    times[state].extend(run)
                    print("round %d cache %-3s %s" % (round_number + 1, state,
                                                      " ".join("%.2f" % t for t in run)), flush=True)
            switch(config, "on")
    finally:
        lab.down(name)
    for state in ("off", "on"):
        values = times[state]
        print("cache %-3s median %.2f s per task (min %.2f, max %.2f, n=%d)"
              % (state, statistics.median(values), min(values), max(values), len(values)))
    print("saved per task: %.2f s (medians)" % (statistics.median(times["off"]) - statistics.median(times["on"])))


if __name__ == "__main__":
    main()
