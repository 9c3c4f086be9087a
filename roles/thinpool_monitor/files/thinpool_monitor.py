# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Watch the LVM thin pools of this host: Prometheus textfile metrics or a Nagios-style check.

    thinpool_monitor.py textfile [--output FILE]
        write FILE (node_exporter's textfile collector format) atomically;
        exit 0 once it is written, also when something could not be read (the
        file says so in thinpool_collector_error, stderr says what).
    thinpool_monitor.py check [--data-warning 80] [--data-critical 90] ...
        print one status line with perfdata; exit 0 OK, 1 WARNING,
        2 CRITICAL, 3 UNKNOWN.

Standard library only, Python 3.6+. The computations live in the
collection's plugins/module_utils/_pool_health.py (shared with the modules);
the thinpool_monitor role installs that file, and the few it imports, next to
this script under their package path, so the same code runs here and in
Ansible. Every command runs as an argument list, in the C locale, with a
timeout.
"""

from __future__ import absolute_import, division, print_function

import argparse
import os
import subprocess
import sys
import time

from ansible_collections.container_storage.devicemapper.plugins.module_utils._files import (
    UnsafePathError, write_atomically,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._pool_health import (
    CONTAINERD_CONFIG, DOCKER_DAEMON_JSON, HEADROOM_CAP, HealthReadError, pool_health,
    read_engine_pools, read_snapshot,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._runner import (
    C_LOCALE, CommandError, CommandTimeout,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._sizes import human

DEFAULT_OUTPUT = "/var/lib/prometheus/node-exporter/thinpool.prom"
DEFAULT_TIMEOUT = 30
SEARCH_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATUS_NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}


class SubprocessRunner(object):
    """``run(argv)`` -> (rc, out, err) like the modules' runner: C locale, a timeout, raise on rc != 0."""

    def __init__(self, timeout=DEFAULT_TIMEOUT):
        self.timeout = timeout
        self.commands = []

    @staticmethod
    def find(tool):
        directories = os.environ.get("PATH", "").split(os.pathsep) + list(SEARCH_DIRS)
        for directory in directories:
            path = os.path.join(directory, tool)
            if directory and os.path.isfile(path) and os.access(path, os.X_OK):
                return path
        raise CommandError([tool], "not found", "", "%s is not installed (searched PATH and %s)"
                           % (tool, ", ".join(SEARCH_DIRS)))

    def run(self, argv):
        argv = [str(part) for part in argv]
        env = dict(os.environ)
        env.update(C_LOCALE)
        self.commands.append(argv)
        try:
            # run() kills the child when the timeout expires: nothing is left behind
            proc = subprocess.run([self.find(argv[0])] + argv[1:], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, universal_newlines=True, env=env,
                                  timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise CommandTimeout(argv, self.timeout, exc.stdout or "", exc.stderr or "")
        if proc.returncode != 0:
            raise CommandError(argv, proc.returncode, proc.stdout, proc.stderr)
        return proc.returncode, proc.stdout, proc.stderr


def collect(runner, daemon_json=DOCKER_DAEMON_JSON, containerd_config=CONTAINERD_CONFIG):
    """(pools, errors): the health of every thin pool, and what could not be read."""
    engine_pools, errors = read_engine_pools(daemon_json, containerd_config)
    try:
        snapshot = read_snapshot(runner)
    except (CommandError, HealthReadError) as exc:
        return None, errors + [str(exc)]
    return pool_health(snapshot, engine_pools), errors


# ---------------------------------------------------------------- Prometheus text format

# (name, help, value of a pool dict or None to leave the sample out)
POOL_METRICS = [
    ("thinpool_active", "1 when the pool is active (has a device-mapper device).",
     lambda p: int(p["active"])),
    ("thinpool_monitored", "1 when dmeventd monitors the pool (needed for autoextend and warnings).",
     lambda p: int(p["monitored"])),
    ("thinpool_data_size_bytes", "Size of the pool's data space.",
     lambda p: p["data_size_bytes"]),
    ("thinpool_data_used_bytes", "Data space in use.",
     lambda p: p["data_used_bytes"]),
    ("thinpool_data_used_ratio", "Data space in use, 0 to 1.",
     lambda p: p["data_used_ratio"]),
    ("thinpool_metadata_size_bytes", "Size of the pool's metadata space.",
     lambda p: p["metadata_size_bytes"]),
    ("thinpool_metadata_used_bytes", "Metadata space in use.",
     lambda p: p["metadata_used_bytes"]),
    ("thinpool_metadata_used_ratio", "Metadata space in use, 0 to 1.",
     lambda p: p["metadata_used_ratio"]),
    ("thinpool_chunk_size_bytes", "The pool's chunk (data block) size.",
     lambda p: p["chunk_size_bytes"]),
    ("thinpool_autoextend_enabled", "1 when the profile in force has a threshold below 100 and a "
     "percent above 0.", lambda p: int(p["autoextend"]["enabled"])),
    ("thinpool_autoextend_threshold_ratio", "Data usage at which dmeventd extends the pool, 0 to 1 "
     "(1 = never).", lambda p: _percent_ratio(p["autoextend"]["threshold_percent"])),
    ("thinpool_autoextend_increment_ratio", "How much one autoextend step adds, as a fraction of "
     "the pool's current size.", lambda p: _percent_ratio(p["autoextend"]["percent"])),
    ("thinpool_autoextend_headroom_steps", "Autoextend steps the VG's free extents still allow "
     "(0 = the next threshold crossing fails; capped at %d). Absent when autoextend is off."
     % HEADROOM_CAP, lambda p: p["autoextend"]["headroom_steps"]),
    ("thinpool_autoextend_next_step_bytes", "Free VG space the next autoextend step needs.",
     lambda p: p["autoextend"]["next_step_bytes"]),
    ("thinpool_out_of_data_space", "1 when the kernel reports the pool out of data space.",
     lambda p: int(p["flags"]["out_of_data_space"])),
    ("thinpool_read_only", "1 when the pool is in read-only mode (metadata full or damaged).",
     lambda p: int(p["flags"]["read_only"])),
    ("thinpool_needs_check", "1 when the pool's metadata needs thin_check before the next activation.",
     lambda p: int(p["flags"]["needs_check"])),
    ("thinpool_failed", "1 when the pool target reports Fail.",
     lambda p: int(p["flags"]["failed"])),
    ("thinpool_error_when_full", "1 when writes fail at once on a full pool, 0 when they queue.",
     lambda p: int(p["when_full"] == "error") if p["when_full"] else None),
]


def _percent_ratio(percent):
    return None if percent is None else percent / 100.0


def _escape(value):
    return str(value).replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")


def _labels(pairs):
    return "{%s}" % ",".join('%s="%s"' % (key, _escape(value)) for key, value in pairs)


def _number(value):
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _family(lines, name, help_text, samples):
    lines.append("# HELP %s %s" % (name, help_text))
    lines.append("# TYPE %s gauge" % name)
    for labels, value in samples:
        lines.append("%s%s %s" % (name, _labels(labels) if labels else "", _number(value)))


def render_textfile(pools, errors, now, duration):
    """The metrics file: collector gauges always, pool series when the read succeeded."""
    lines = []
    _family(lines, "thinpool_collector_last_run_timestamp_seconds",
            "When the collector last ran (Unix time).", [((), round(now, 3))])
    _family(lines, "thinpool_collector_duration_seconds", "How long the last run took.",
            [((), round(duration, 3))])
    _family(lines, "thinpool_collector_error",
            "1 when the last run could not read everything (see the service's journal).",
            [((), 1 if errors else 0)])
    if pools is not None:
        _family(lines, "thinpool_info", "Names, profile and engine of each LVM thin pool (value 1).",
                [((("vg", p["vg"]), ("pool", p["name"]), ("dm_name", p["dm_name"]),
                   ("profile", p["profile"] or ""), ("engine", "+".join(p["engines"]) or "none")), 1)
                 for p in pools])
        for name, help_text, value_of in POOL_METRICS:
            samples = [((("vg", p["vg"]), ("pool", p["name"])), value_of(p)) for p in pools]
            samples = [sample for sample in samples if sample[1] is not None]
            if samples:
                _family(lines, name, help_text, samples)
        vgs = {}
        for p in pools:
            vgs[p["vg"]] = p["vg_free_bytes"]
        _family(lines, "thinpool_vg_free_bytes", "Free space in a VG that holds a thin pool.",
                [((("vg", vg),), free) for vg, free in sorted(vgs.items()) if free is not None])
    return "\n".join(lines) + "\n"


def write_textfile(path, text):
    """Write then rename: node_exporter never reads half a file (it reads only *.prom names,
    and the temporary file is ``.NAME.XXXX.tmp``).

    Run as root in a directory that may sit in another user's (Debian's /var/lib/prometheus
    belongs to the prometheus user): no symlink on the path is followed, a link at the file
    itself is replaced, and a directory another user could change is refused
    (UnsafePathError) before anything is written."""
    write_atomically(path, text, mode=0o644, root_owned=True, follow=False)


# ---------------------------------------------------------------- Nagios-style check

def evaluate(pools, args):
    """(exit code, problems, perfdata) for the check; problems are (status, text)."""
    problems = []
    perf = []
    wanted = set(args.pool or [])
    seen = set()
    for p in pools:
        label = "%s/%s" % (p["vg"], p["name"])
        seen.add(label)
        if wanted and label not in wanted:
            continue
        if not p["active"]:
            problems.append((WARNING, "%s is not active" % label))
            continue
        flags = p["flags"]
        for flag, text in (("failed", "has failed"), ("needs_check", "needs thin_check"),
                           ("out_of_data_space", "is out of data space"),
                           ("read_only", "is read-only")):
            if flags[flag]:
                problems.append((CRITICAL, "%s %s" % (label, text)))
        for kind, ratio, warn, crit in (("data", p["data_used_ratio"], args.data_warning,
                                         args.data_critical),
                                        ("metadata", p["metadata_used_ratio"], args.metadata_warning,
                                         args.metadata_critical)):
            if ratio is None:
                continue
            percent = ratio * 100
            perf.append("'%s %s'=%.2f%%;%s;%s;0;100" % (label, kind, percent, _num(warn), _num(crit)))
            if percent >= crit:
                problems.append((CRITICAL, "%s %s %.1f%% >= %s%%" % (label, kind, percent, _num(crit))))
            elif percent >= warn:
                problems.append((WARNING, "%s %s %.1f%% >= %s%%" % (label, kind, percent, _num(warn))))
        if not p["monitored"]:
            problems.append((WARNING, "%s is not monitored by dmeventd (no autoextend, no warnings)"
                             % label))
        auto = p["autoextend"]
        steps = auto["headroom_steps"]
        if auto["enabled"] and steps is not None:
            # Nagios ranges: alert when the value falls below the range's start
            perf.append("'%s headroom'=%d;%d:;1:;0;" % (label, steps, args.headroom_warning + 1))
            if steps == 0:
                near = near_autoextend_threshold(p)
                usage = ("data usage unknown" if p["data_used_ratio"] is None
                         else "data %.1f%%" % (p["data_used_ratio"] * 100))
                problems.append((CRITICAL if near else WARNING,
                                 "%s cannot autoextend: the next step needs %s, VG %s has %s free; %s is %s "
                                 "one step (%s%%) %s the autoextend threshold %s%%"
                                 % (label, human(auto["next_step_bytes"]), p["vg"], human(p["vg_free_bytes"]),
                                    usage, "within" if near else "more than", _num(auto["percent"]),
                                    "of" if near else "below", _num(auto["threshold_percent"]))))
            elif steps <= args.headroom_warning:
                problems.append((WARNING, "%s has %d autoextend step(s) left in VG %s"
                                 % (label, steps, p["vg"])))
    for label in sorted(wanted - seen):
        problems.append((CRITICAL, "%s: no such thin pool" % label))
    code = max([status for status, _message in problems] or [OK])
    return code, problems, perf


def near_autoextend_threshold(pool):
    """Whether headroom 0 is critical: data is within one autoextend step of the threshold.

    One step adds ``percent`` of the pool, so the pool is close once used ratio + increment
    ratio >= threshold ratio (lvm's 80/20: from 60 %). Below that the VG running dry is a
    warning: true and worth fixing, but no page (the guide's 95%VG pool cannot autoextend from
    its first day). The alert rule ThinPoolAutoextendExhausted computes the same sum from the
    exported ratios, in the same floating-point operations. Unknown usage counts as close."""
    auto = pool["autoextend"]
    if pool["data_used_ratio"] is None:
        return True
    return (pool["data_used_ratio"] + _percent_ratio(auto["percent"])
            >= _percent_ratio(auto["threshold_percent"]))


def _num(value):
    return ("%f" % value).rstrip("0").rstrip(".")


def check_line(code, problems, perf, checked):
    if problems:
        worst_first = sorted(problems, key=lambda item: -item[0])
        text = "; ".join(message for _status, message in worst_first)
    else:
        text = "%d thin pool(s) fine" % checked
    line = "THINPOOL %s - %s" % (STATUS_NAMES[code], text)
    if perf:
        line += " | " + " ".join(perf)
    return line


def run_check(args, runner):
    pools, errors = collect(runner, args.docker_config, args.containerd_config)
    if pools is None:
        return UNKNOWN, "THINPOOL UNKNOWN - %s" % "; ".join(errors)
    if not pools and not args.pool:
        return UNKNOWN, "THINPOOL UNKNOWN - no LVM thin pool on this host"
    code, problems, perf = evaluate(pools, args)
    checked = len([p for p in pools if not args.pool or "%s/%s" % (p["vg"], p["name"]) in args.pool])
    return code, check_line(code, problems, perf, checked)


def run_textfile(args, runner):
    started = time.time()
    pools, errors = collect(runner, args.docker_config, args.containerd_config)
    text = render_textfile(pools, errors, time.time(), time.time() - started)
    for error in errors:
        sys.stderr.write("thinpool_monitor: %s\n" % error)
    try:
        write_textfile(args.output, text)
    except UnsafePathError as exc:
        sys.stderr.write("thinpool_monitor: refusing to write %s: %s\n" % (args.output, exc))
        return 1
    except OSError as exc:
        sys.stderr.write("thinpool_monitor: could not write %s: %s\n" % (args.output, exc))
        return 1
    # The file says what failed (thinpool_collector_error); a failed unit means no file was written.
    return 0


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT,
                        help="seconds each command may run (default %(default)s)")
    parser.add_argument("--docker-config", default=DOCKER_DAEMON_JSON)
    parser.add_argument("--containerd-config", default=CONTAINERD_CONFIG)
    sub = parser.add_subparsers(dest="mode")
    textfile = sub.add_parser("textfile", help="write the Prometheus textfile")
    textfile.add_argument("--output", default=DEFAULT_OUTPUT,
                          help="file to write, ending in .prom (default %(default)s)")
    check = sub.add_parser("check", help="Nagios/Icinga-style check")
    check.add_argument("--data-warning", type=float, default=80.0, help="percent")
    check.add_argument("--data-critical", type=float, default=90.0, help="percent")
    check.add_argument("--metadata-warning", type=float, default=80.0, help="percent")
    check.add_argument("--metadata-critical", type=float, default=90.0, help="percent")
    check.add_argument("--headroom-warning", type=int, default=1,
                       help="warn when this many autoextend steps or fewer are left (0 is critical)")
    check.add_argument("--pool", action="append", metavar="VG/NAME",
                       help="check only these pools (repeatable); a missing one is critical")
    args = parser.parse_args(argv)
    if args.mode is None:
        parser.error("choose a mode: textfile or check")
    if args.mode == "textfile" and not args.output.endswith(".prom"):
        parser.error("--output: node_exporter reads only files ending in .prom")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    runner = SubprocessRunner(timeout=args.timeout)
    if args.mode == "check":
        try:
            code, line = run_check(args, runner)
        except Exception as exc:  # a check must answer UNKNOWN, never a traceback
            code, line = UNKNOWN, "THINPOOL UNKNOWN - %s: %s" % (type(exc).__name__, exc)
        print(line)
        return code
    return run_textfile(args, runner)


if __name__ == "__main__":
    sys.exit(main())
