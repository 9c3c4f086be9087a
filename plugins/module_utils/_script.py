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

import re

from ansible_collections.container_storage.devicemapper.plugins.module_utils import _lock, _validate
from ansible_collections.container_storage.devicemapper.plugins.module_utils._runner import (
    C_LOCALE,
    KILL_AFTER,
    TIMEOUT_EXIT_CODES,
)

SCRIPT_ARGUMENT_SPEC = dict(
    script=dict(type="str"),
    src=dict(type="path"),
    args=dict(type="list", elements="str", default=[]),
    timeout=dict(type="int", default=60),
    host_lock=dict(type="bool", default=False),
    lock_timeout=dict(type="int", default=_lock.DEFAULT_LOCK_TIMEOUT),
)
SCRIPT_MUTUALLY_EXCLUSIVE = [["script", "src"]]
SCRIPT_REQUIRED_ONE_OF = [["script", "src"]]

# timeout(1)'s limit is far above this; a day is longer than anything a role step should take.
TIMEOUT_MAX = 86400

# The action plugin sends the script on standard input. A shell reading its script
# from a pipe (sh -s) reads it piece by piece, so a command in it that reads standard
# input would eat the rest of the script: this reads all of it first, then runs it
# exactly as `sh -c SCRIPT sh ARGS...` (the script's $1... are the arguments, never
# parsed by a shell), with standard input at its end. A command substitution drops the
# newlines at the end of what it reads, which a script may need (a final backslash-newline,
# an unterminated here-document): a '.' after the script keeps them, and is then removed,
# so sh gets the very bytes the module path passes as its argument.
# It then prints the script's exit status as the last line of standard error, after a line
# break of its own (see split_status): Ansible reads a connection that returns no exit
# status as 0, so the status is taken from the script's own report.
STATUS_MARKER = "@@container_storage.run_script rc="
# The variable is the launcher's own, not exported (unless the task's environment had this
# very name), so the script's environment is the same on both paths.
STDIN_LAUNCHER = ('__container_storage_script=$(cat; printf .); '
                  '/bin/sh -c "${__container_storage_script%%.}" "$0" "$@"; rc=$?; '
                  'printf \'\\n%s%%d\\n\' "$rc" >&2; exit "$rc"' % STATUS_MARKER)
# The longest argument Linux passes to a program (MAX_ARG_STRLEN, with its final NUL). The
# module path passes the script and each argument as one; beyond it exec fails with E2BIG.
ARGUMENT_MAX = 131072
_STATUS_AT_END = re.compile(r"\r?\n%s([0-9]+)\r?\n\Z" % re.escape(STATUS_MARKER))

# A line that starts a section of the script's output, and the one that ends the last.
_SECTION = re.compile(r"\A@@([A-Za-z0-9_.-]+)\Z")
SECTIONS_END = "end"


def check_options(script, args, timeout, lock_timeout=0, option="script", host_lock=False):
    """Refuse what cannot be run with _validate.InputError, naming the option; return the arguments.

    ``option`` names where the script's text came from (``script``, or ``src`` for a file's).
    """
    _validate.not_empty(option, script, "the script's text")
    if "\0" in script:
        raise _validate.InputError("%s: contains a NUL byte, which no shell can run" % option)
    _validate.positive_int("timeout", timeout, 1, TIMEOUT_MAX)
    _validate.positive_int("lock_timeout", lock_timeout, 0, TIMEOUT_MAX)
    _check_length(option, script_text(script, host_lock, lock_timeout),
                  " (with the host lock's preamble)" if host_lock else "")
    checked = []
    for index, arg in enumerate(args or []):
        if arg is None:
            raise _validate.InputError("args[%d]: is null; give a string (an empty one is passed as it is)" % index)
        if "\0" in arg:
            raise _validate.InputError("args[%d]: contains a NUL byte, which cannot be passed to a command" % index)
        _check_length("args[%d]" % index, arg, "")
        checked.append(arg)
    return checked


def _check_length(option, text, what):
    size = len(text.encode("utf-8", "surrogateescape"))
    if size >= ARGUMENT_MAX:
        raise _validate.InputError(
            "%s: is %d bytes%s; Linux passes at most %d bytes as one argument of a command, so it cannot "
            "run (give a long text to the script another way, for example in a file)"
            % (option, size, what, ARGUMENT_MAX - 1))


def script_text(script, host_lock, lock_timeout):
    """The script as it runs: under the collection's host lock when asked (see _lock.shell_preamble)."""
    if not host_lock:
        return script
    return _lock.shell_preamble(lock_timeout) + script


def direct_argv(script, args):
    """The command the module runs with the command runner (timeout(1) is the runner's)."""
    return ["sh", "-c", script, "sh"] + list(args)


def launcher_argv(args, timeout):
    """The command the action plugin runs; the script itself goes on standard input."""
    env = ["%s=%s" % item for item in sorted(C_LOCALE.items())]
    return (["env"] + env + ["timeout", "-k", str(KILL_AFTER), str(timeout), "/bin/sh", "-c", STDIN_LAUNCHER, "sh"]
            + list(args))


def split_status(rc, out, err):
    """The launcher's run: (the script's exit status, its output, its standard error), without the launcher's line.

    The line is looked for at the end of standard error, then at the end of standard output
    (a connection that merges the two). Without it the script did not finish by itself
    (timeout(1) stopped it, and the connection's exit status says so), or the connection
    lost it: an exit status of 0 then is no status at all, and None is returned.
    """
    for stream in ("err", "out"):
        text = err if stream == "err" else out
        found = _STATUS_AT_END.search(text)
        if found:
            text = text[:found.start()]
            if stream == "err":
                return int(found.group(1)), out, text
            return int(found.group(1)), text, err
    if rc == 0:
        return None, out, err
    return rc, out, err


def parse_sections(text):
    """The sections of a script's output: {name: [line, ...]} from lines ``@@name``.

    Lines before the first marker are not in any section; a line ``@@end`` ends the last
    section and is not one itself; a name given again continues its section. Lines are kept
    as they are, empty ones included, without a trailing carriage return.
    """
    sections = {}
    current = None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for line in lines:
        if line.endswith("\r"):
            line = line[:-1]
        marker = _SECTION.match(line)
        if marker:
            name = marker.group(1)
            current = None if name == SECTIONS_END else sections.setdefault(name, [])
        elif current is not None:
            current.append(line)
    return sections


def result(rc, out, err, timeout, started_python):
    """The task result, the same from both paths: rc, output, sections, and why it failed."""
    sections = parse_sections(out)
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
        sections=sections,
    )
    if rc is None:
        shaped.update(failed=True, msg="the connection returned no exit status, so whether the script succeeded "
                                       "is unknown; it may have run")
    elif rc in TIMEOUT_EXIT_CODES:
        shaped.update(failed=True, msg="the script did not finish within %d s and was stopped (rc=%s)" % (timeout, rc))
    elif rc != 0:
        shaped.update(failed=True, msg="the script exited with rc=%s" % rc)
    return shaped
