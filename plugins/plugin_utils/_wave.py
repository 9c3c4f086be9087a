# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The summary of one wave of a rollout, for playbooks/direct_lvm.yml and playbooks/migrate.yml.

Both playbooks run their role over a host group in waves (``serial``); after each
wave, one task says what happened on each host of it and stops the rollout when
more of the wave failed or was unreachable than the max fail percentage allows.
``summarize_wave`` decides both, from the result fact each role sets on a host.

Controller-side (plugin_utils is not copied to hosts). Private to the collection:
not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.module_utils.six import string_types
from ansible.module_utils.six.moves.collections_abc import Mapping

# Per role: the fact its result is in, the extra var of the max fail percentage, and how
# a host that finished is reported.
ROLES = {
    "devicemapper": {"fact": "devicemapper_role_result", "max_fail_var": "devicemapper_max_fail_percentage"},
    "migrate": {"fact": "migrate_report", "max_fail_var": "migrate_max_fail_percentage"},
}
NO_RESULT = "FAILED or unreachable, with no result from the role (see its error above)"


class WaveError(ValueError):
    """The filter was called with something it cannot sum up."""


def _flag(value):
    """Ansible's ``bool`` filter (2.18): yes/on/1/true in any case, or 1, is true."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, string_types):
        value = value.lower()
    return value in ("yes", "on", "1", "true", 1)


def _whole_number(value):
    """Jinja's ``int`` filter: a number, a text of one (a float is cut), anything else 0."""
    try:
        if isinstance(value, string_types):
            return int(value, 10)
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return 0


def _one_line(message):
    return re.sub(r"\s+", " ", "%s" % (message,))


def finished(result):
    """A host finished when its role left a result without a failure message."""
    return isinstance(result, Mapping) and "message" not in result


def _devicemapper_line(result, lost, check_mode):
    if not lost:
        store = "%s" % (result.get("store", "?"),)
        if not _flag(result.get("switched", False)):
            return "ok, Docker on %s (nothing to switch)" % store
        if check_mode:
            return "ok, a real run would switch Docker to %s (check mode)" % store
        return "ok, Docker on %s (switched by this run)" % store
    if _flag(result.get("rolled_back", False)):
        return "FAILED and rolled back: " + _one_line(result.get("message", ""))
    if "message" in result:
        return "FAILED: " + _one_line(result["message"])
    return NO_RESULT


def _migrate_line(result, lost, check_mode):
    del check_mode
    if not lost:
        return "ok, %s (%s images carried)" % (result.get("state", "?"), result.get("images_carried", 0))
    if "message" in result:
        return "FAILED and rolled back: " + _one_line(result["message"])
    return NO_RESULT


LINES = {"devicemapper": _devicemapper_line, "migrate": _migrate_line}


def summarize_wave(wave, results, role, max_fail_percentage=0, check_mode=False, reporter=None):
    """What happened on each host of one wave, and whether the rollout stops after it.

    ``wave``: the wave's hosts, in order. ``results``: host -> the role's result fact
    (a host without one is missing, or maps to None). ``max_fail_percentage``: as given
    (an -e value is a string; read as Jinja's ``int`` reads it). ``reporter``: the host
    the summary task runs on, named in the message that stops the rollout.

    Returns ``done`` and ``lost`` (the wave's hosts that finished, and the others:
    failed, rolled back or unreachable), ``lines`` (host -> what happened),
    ``summary``, ``stop`` (more of the wave lost than allowed) and ``fail_msg``.
    """
    if role not in ROLES:
        raise WaveError("role must be one of %s, not %r" % (", ".join(sorted(ROLES)), role))
    if isinstance(wave, string_types) or not isinstance(wave, (list, tuple)):
        raise WaveError("the wave must be a list of host names, not %r" % (wave,))
    wave = list(wave)
    done = [host for host in wave if finished(results.get(host))]
    lost = [host for host in wave if host not in done]
    lines = []
    for host in wave:
        result = results.get(host)
        if not isinstance(result, Mapping):
            result = {}
        lines.append((host, LINES[role](result, host in lost, check_mode)))
    summary = "Wave of %d: %s" % (len(wave), " | ".join("%s: %s" % line for line in lines))
    stop = len(lost) * 100 > len(wave) * _whole_number(max_fail_percentage)
    fail_msg = (
        "Rollout stopped after this wave: %s failed or were unreachable (%d of %d hosts; %s is %s). "
        "Later waves were not touched. This task fails on %s only to stop the rollout. "
        "Fix the host(s) and run the same command again. %s"
        % (", ".join(lost), len(lost), len(wave), ROLES[role]["max_fail_var"], max_fail_percentage, reporter,
           summary))
    return {"done": done, "lost": lost, "lines": dict(lines), "summary": summary, "stop": stop,
            "fail_msg": fail_msg}
