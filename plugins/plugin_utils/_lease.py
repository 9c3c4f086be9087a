# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The per-host run lease of the devicemapper and migrate roles: who runs on a host, until when.

The host lock (``_lock``) serialises each step; between two steps a run holds
nothing, so a second run could read a half-switched host and act on it. The
lease covers the whole run: a file on the host (written by the roles' script
``lease.sh``, under the host lock, only if it is still the lease the plan was
made on) that names the holder, the step it reached and when it expires. A run
takes it after its reads and before its first change, renews it before each long
step and releases it at its end, whatever the end. A run whose controller died
leaves it behind; it expires, or ``*_break_lease`` breaks it on purpose.

``plan_lease`` makes every decision from the read (``lease.sh read``) and this
run's identity; the expiry is judged with the host's clock, the one that wrote it.

Controller-side (plugin_utils is not copied to hosts). Private to the collection:
not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import getpass
import multiprocessing
import os
import socket
import sys
import time

from ansible import context
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.module_utils.six import string_types

# Per role: its variables and the default expiry, a few minutes longer than the role's
# longest step (devicemapper: a data root moved in at most 3600 s; migrate: images
# saved, volumes copied, images loaded in at most 7200 s each). The lease is renewed
# before each of those steps.
ROLES = {
    "devicemapper": {"seconds": "devicemapper_lease_seconds", "break": "devicemapper_break_lease",
                     "default": 3900},
    "migrate": {"seconds": "migrate_lease_seconds", "break": "migrate_break_lease", "default": 7500},
}
# The holder's fields, in the order they are written; token identifies one ansible-playbook run.
FIELDS = ("token", "role", "controller", "user", "pid", "playbook", "started", "step")
FIRST_STEP = "after its reads, before its first change"


def _playbook_process():
    """The PID of the ansible-playbook process: filters run in its forked workers."""
    if multiprocessing.current_process().name == "MainProcess":
        return os.getpid()
    return os.getppid()


def _process_start(pid):
    """The process's start time in clock ticks since boot (/proc), '' where there is none."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (IOError, OSError, IndexError):
        return ""


def controller_identity():
    """This run: controller host, user, ansible-playbook's PID, its playbooks, and a token for the three.

    The same in every role and every task of one ansible-playbook run, so that a role run inside
    another (migrate runs the devicemapper role in check mode) finds the lease its own.
    """
    pid = _playbook_process()
    host = socket.gethostname()
    # ansible-playbook's positional arguments: its playbooks (an inventory file is an option's value)
    playbooks = [str(arg) for arg in (context.CLIARGS.get("args") or ())]
    return {
        "controller": host,
        "user": getpass.getuser(),
        "pid": str(pid),
        "playbook": " ".join(playbooks) or " ".join(sys.argv[:1]) or "unknown",
        "token": "%s/%d/%s" % (host, pid, _process_start(pid)),
    }


def parse_lease(text):
    """The lease file's ``key=value`` lines as a dict; None for no lease (no file, or empty)."""
    lease = {}
    for line in (text or "").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            lease[key.strip()] = value
    return lease or None


def _utc(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _int(value):
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def describe_holder(lease, now):
    """One line naming the holder, its step and its expiry, for messages and the break log."""
    expires = _int(lease.get("expires"))
    if expires is None:
        until = "no readable expiry (expires=%r)" % (lease.get("expires"),)
    elif expires > now:
        until = "expires %s (in %d s)" % (_utc(expires), expires - now)
    else:
        until = "expired %s (%d s ago)" % (_utc(expires), now - expires)
    return ("the %s role run by %s@%s, PID %s, playbook %s, started %s, at step '%s'; %s"
            % (lease.get("role", "?"), lease.get("user", "?"), lease.get("controller", "?"),
               lease.get("pid", "?"), lease.get("playbook", "?"), lease.get("started", "?"),
               lease.get("step", "?"), until))


def _body(identity, role, started, step, broke):
    values = dict(identity, role=role, started=started, step=step)
    lines = ["%s=%s" % (key, " ".join(str(values[key]).split())) for key in FIELDS]
    if broke:
        lines.append("broke=%s" % " ".join(broke.split()))
    return "\n".join(lines)


def plan_lease(sections, identity, role, variables, check_mode=False, host="localhost"):
    """What this run does with the lease, from ``lease.sh read``'s sections.

    Returns ``state`` (free, mine, expired, broken, held), ``refusals`` (one message when another
    live run holds it, or a variable is wrong), ``take`` (a real run that may go on takes it, then
    renews and releases it; check mode takes none, nor a role run inside another of the same run),
    the arguments of lease.sh's take/renew/release, ``notice`` (what a
    run should be told: an expired or broken lease taken over, a held one in check mode) and
    ``broke`` (the holder this run broke the lease of, also written into the new lease and the
    break log beside it).
    """
    names = ROLES[role]
    refusals = []
    seconds = variables.get(names["seconds"], names["default"])
    if isinstance(seconds, bool) or _int(seconds) is None or _int(seconds) < 60:
        refusals.append("%s role: %s must be a whole number of seconds, at least 60, not %r (on %s; nothing "
                        "was changed)" % (role, names["seconds"], seconds, host))
        seconds = names["default"]
    seconds = _int(seconds)
    try:
        break_lease = boolean(variables.get(names["break"], False), strict=True)
    except TypeError:
        refusals.append("%s role: %s must be true or false, not %r (on %s; nothing was changed)"
                        % (role, names["break"], variables.get(names["break"]), host))
        break_lease = False
    text = dict((name, "\n".join(sections.get(name) or [])) for name in ("path", "lease", "lease_sha", "now"))
    now = _int(text["now"])
    if now is None:
        raise ValueError("lease.sh read gave no host time: %r" % (text["now"],))
    path, sha = text["path"].strip(), text["lease_sha"].strip()
    lease = parse_lease(text["lease"])

    broke = ""
    notice = ""
    if lease is None:
        state = "free"
    elif lease.get("token") == identity["token"]:
        state = "mine"
    elif _int(lease.get("expires")) is not None and _int(lease.get("expires")) <= now:
        state = "expired"
        notice = ("%s role: the run lease %s of %s; this run takes it over (on %s)"
                  % (role, path, describe_holder(lease, now), host))
    elif break_lease:
        state = "broken"
        broke = "%s broke the lease of %s" % (_utc(now), describe_holder(lease, now))
        notice = ("%s role: %s=true: this run breaks the run lease %s of %s (on %s; written to %s.log)"
                  % (role, names["break"], path, describe_holder(lease, now), host, path))
    else:
        state = "held"
        refusals.insert(0, "%s role: another run holds this host's run lease %s: %s. This run refuses before "
                        "changing anything (on %s; nothing was changed). Run it again once that run has ended; "
                        "if that run's controller died, wait for the expiry or run again with -e %s=true."
                        % (role, path, describe_holder(lease, now), host, names["break"]))
        if check_mode:
            notice = refusals[0]

    # A lease of this very run was taken by the role that runs this one (migrate runs the
    # devicemapper role): that role renews and releases it.
    take = not check_mode and not refusals and state != "mine"
    started = lease.get("started", _utc(now)) if state == "mine" else _utc(now)
    body = _body(identity, role, started, FIRST_STEP, broke)
    return {
        "state": state,
        "path": path,
        "holder": describe_holder(lease, now) if lease else "",
        "refusals": refusals,
        "take": take,
        "seconds": seconds,
        "notice": notice,
        "broke": broke,
        "take_args": ["take", sha, str(seconds), body],
        "renew_args": ["renew", identity["token"], str(seconds)],
        "release_args": ["release", identity["token"]],
    }


def check_sections(sections):
    """lease.sh read's sections (lists of lines), or a ValueError naming what is missing."""
    if not isinstance(sections, dict):
        raise ValueError("the lease read must be run_script's sections, not %r" % (sections,))
    for name in ("path", "lease", "lease_sha", "now"):
        lines = sections.get(name)
        if not isinstance(lines, list) or not all(isinstance(line, string_types) for line in lines):
            raise ValueError("the lease read has no %s section" % name)
    return sections
