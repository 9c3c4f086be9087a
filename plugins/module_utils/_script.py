# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""run_script: one shell script with its arguments, under timeout(1).

Shared by the run_script module (which runs it with the command runner, on the
target's Python) and its action plugin (which runs it over the connection with
no Python on the target). Both check the options here and shape the result here,
so the two paths cannot differ in what they accept or return.

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.container_storage.devicemapper.plugins.module_utils import _validate
from ansible_collections.container_storage.devicemapper.plugins.module_utils._runner import (
    C_LOCALE,
    KILL_AFTER,
    TIMEOUT_EXIT_CODES,
)

SCRIPT_ARGUMENT_SPEC = dict(
    script=dict(type="str", required=True),
    args=dict(type="list", elements="str", default=[]),
    timeout=dict(type="int", default=60),
)

# timeout(1)'s limit is far above this; a day is longer than anything a role step should take.
TIMEOUT_MAX = 86400

# The action plugin sends the script on standard input. A shell reading its script
# from a pipe (sh -s) reads it piece by piece, so a command in it that reads standard
# input would eat the rest of the script: this reads all of it first, then runs it
# exactly as `sh -c SCRIPT sh ARGS...` (the script's $1... are the arguments, never
# parsed by a shell), with standard input at its end.
STDIN_LAUNCHER = 'exec /bin/sh -c "$(cat)" "$0" "$@"'


def check_options(script, args, timeout):
    """Refuse what cannot be run with _validate.InputError, naming the option; return the arguments."""
    _validate.not_empty("script", script, "the script's text")
    if "\0" in script:
        raise _validate.InputError("script: contains a NUL byte, which no shell can run")
    _validate.positive_int("timeout", timeout, 1, TIMEOUT_MAX)
    checked = []
    for index, arg in enumerate(args or []):
        if arg is None:
            raise _validate.InputError("args[%d]: is null; give a string (an empty one is passed as it is)" % index)
        if "\0" in arg:
            raise _validate.InputError("args[%d]: contains a NUL byte, which cannot be passed to a command" % index)
        checked.append(arg)
    return checked


def direct_argv(script, args):
    """The command the module runs with the command runner (timeout(1) is the runner's)."""
    return ["sh", "-c", script, "sh"] + list(args)


def launcher_argv(args, timeout):
    """The command the action plugin runs; the script itself goes on standard input."""
    env = ["%s=%s" % item for item in sorted(C_LOCALE.items())]
    return (["env"] + env + ["timeout", "-k", str(KILL_AFTER), str(timeout), "/bin/sh", "-c", STDIN_LAUNCHER, "sh"]
            + list(args))


def result(rc, out, err, timeout, started_python):
    """The task result, the same from both paths: rc, output, and why it failed."""
    out = out.rstrip("\r\n")
    err = err.rstrip("\r\n")
    shaped = dict(
        changed=True,
        rc=rc,
        stdout=out,
        stderr=err,
        stdout_lines=out.splitlines(),
        stderr_lines=err.splitlines(),
        started_python=started_python,
    )
    if rc in TIMEOUT_EXIT_CODES:
        shaped.update(failed=True, msg="the script did not finish within %d s and was stopped (rc=%s)" % (timeout, rc))
    elif rc != 0:
        shaped.update(failed=True, msg="the script exited with rc=%s" % rc)
    return shaped
