#!/usr/bin/env python3
"""Record command output from a lab VM as unit-test fixtures.

    record_fixtures.py tests/unit/fixtures/thinpool/recipe.yml [--disks 2]

A recipe is a YAML list of steps run in order on a fresh VM:

    - run: pvcreate /dev/vdb          # set-up, output not kept
    - record: pvs_one_pv              # fixture name
      command: [lvm, pvs, --reportformat, json]

Each recorded step writes ``<recipe dir>/<name>.yml`` with the command, its rc,
stdout and stderr exactly as the VM printed them, and where it came from.
Unit cases refer to these files; fixtures are never typed by hand.
"""

import argparse
import datetime
import os
import shlex
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab  # noqa: E402


class LiteralDumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper, data):
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


LiteralDumper.add_representer(str, _str_presenter)


def guest_run(config, command):
    """Run a command in the guest in the C locale; argv lists are quoted for the remote shell."""
    if isinstance(command, list):
        command = " ".join(shlex.quote(part) for part in command)
    remote = "export LC_ALL=C LANG=C LANGUAGE=C; " + command
    proc = subprocess.run(lab.ssh_argv(config, [remote]), capture_output=True, text=True)
    return proc.returncode, proc.stdout, proc.stderr


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipe")
    parser.add_argument("--disks", type=int, default=2)
    parser.add_argument("--disk-size", default="10G")
    args = parser.parse_args()
    with open(args.recipe) as handle:
        steps = yaml.safe_load(handle)
    out_dir = os.path.dirname(os.path.abspath(args.recipe))
    name = "record-%d" % os.getpid()
    try:
        config = lab.up(name, disks=args.disks, disk_size=args.disk_size)
        _, kernel, _ = guest_run(config, "uname -r; lvm version | head -1")
        _, release, _ = guest_run(config, ". /etc/os-release && echo \"$NAME $VERSION_ID\"")
        source = "recorded in the lab VM (%s, kernel/LVM: %s) on %s by %s" % (
            release.strip() or "unknown OS",
            " / ".join(line.strip() for line in kernel.splitlines()),
            datetime.date.today().isoformat(), os.path.relpath(__file__))
        for step in steps:
            if "run" in step:
                rc, out, err = guest_run(config, step["run"])
                if rc != 0 and not step.get("ignore_errors"):
                    raise SystemExit("set-up step failed (rc %d): %s\n%s%s"
                                     % (rc, step["run"], out, err))
                continue
            rc, out, err = guest_run(config, step["command"])
            fixture = {"source": source, "command": step["command"], "rc": rc,
                       "out": out, "err": err}
            path = os.path.join(out_dir, step["record"] + ".yml")
            with open(path, "w") as handle:
                handle.write("# Recorded from a lab VM; regenerate with %s %s\n"
                             % (os.path.relpath(__file__), os.path.relpath(args.recipe)))
                yaml.dump(fixture, handle, Dumper=LiteralDumper, sort_keys=False, width=1000)
            print("recorded %s (rc %d)" % (path, rc))
    finally:
        lab.down(name)


if __name__ == "__main__":
    main()
