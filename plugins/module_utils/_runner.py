# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one command runner every module of this collection uses.

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shlex

# Tools live in /sbin on older distributions and are not always on PATH for a
# non-login SSH session: AnsibleModule.get_bin_path searches PATH and then
# /sbin, /usr/sbin and /usr/local/sbin, so the binary a shell would run wins
# (a dockerd in /usr/local/bin, say) and the sbin tools are still found.

# Every parser in this collection reads English, C-formatted output.
C_LOCALE = {"LANG": "C", "LC_ALL": "C", "LANGUAGE": "C"}

# Every command runs under coreutils' timeout(1): a hung LVM or dmsetup call
# must end the module with an error, never hang the play. After the timeout
# timeout(1) sends TERM, and KILL after KILL_AFTER more seconds.
DEFAULT_TIMEOUT = 300
KILL_AFTER = 10
# timeout(1) exits 124 when it stopped the command (137 when it had to KILL it).
TIMEOUT_EXIT_CODES = (124, 137)


class CommandError(Exception):
    """A command exited non-zero; carries what it printed."""

    def __init__(self, argv, rc, out, err):
        self.argv = list(argv)
        self.rc = rc
        self.out = out
        self.err = err
        detail = (err or out or "").strip()
        super(CommandError, self).__init__(
            "`%s` failed (rc=%s)%s" % (quote(argv), rc, (": " + detail) if detail else "")
        )


class CommandTimeout(CommandError):
    """A command ran longer than its timeout and was killed."""

    def __init__(self, argv, seconds, out, err):
        CommandError.__init__(self, argv, "timeout", out, err)
        self.seconds = seconds
        self.args = ("`%s` did not finish within %s s and was stopped" % (quote(argv), seconds),)


class CheckModeViolation(Exception):
    """A mutating command was about to run in check mode: a bug, never allowed."""


def quote(argv):
    return " ".join(shlex.quote(str(part)) for part in argv)


class CommandRunner(object):
    """Runs argument lists (never shell strings) in the C locale and records them.

    ``commands`` lists every command run, in order, as the shell line a user
    could paste; modules return it. ``planned`` lists the mutating commands a
    check-mode run would have run.
    """

    def __init__(self, module, timeout=DEFAULT_TIMEOUT):
        self.module = module
        self.timeout = timeout
        self.commands = []
        self.planned = []
        # mutating commands that completed: what a failure after them must report as done
        self.applied = []
        self._bin_paths = {}

    def bin_path(self, name):
        if name not in self._bin_paths:
            self._bin_paths[name] = self.module.get_bin_path(name, required=True)
        return self._bin_paths[name]

    def has_bin(self, name):
        if name in self._bin_paths:
            return True
        path = self.module.get_bin_path(name, required=False)
        if path:
            self._bin_paths[name] = path
        return bool(path)

    def run(self, argv, mutates=False, check_rc=True, data=None, timeout=None):
        """Run ``argv`` (a list, argv[0] a tool name); return (rc, out, err).

        A command with ``mutates=True`` changes the system: in check mode it
        is recorded in ``planned`` and not run. A command that runs longer
        than ``timeout`` seconds (the runner's default when None) is stopped
        and raises ``CommandTimeout``, whatever ``check_rc`` says.
        """
        argv = [str(part) for part in argv]
        display = quote(argv)
        if mutates and self.module.check_mode:
            raise CheckModeViolation("refusing to run `%s` in check mode" % display)
        seconds = self.timeout if timeout is None else timeout
        full = [self.bin_path("timeout"), "-k", str(KILL_AFTER), str(seconds),
                self.bin_path(argv[0])] + argv[1:]
        # expand_user_and_vars=False: run_command would otherwise rewrite `$NAME` and a leading
        # `~` in every argument (a script's `$PATH`, a value with a dollar) before the command sees it.
        rc, out, err = self.module.run_command(
            full, environ_update=C_LOCALE, data=data, check_rc=False, binary_data=data is not None,
            expand_user_and_vars=False,
        )
        self.commands.append(display)
        if rc in TIMEOUT_EXIT_CODES:
            raise CommandTimeout(argv, seconds, out, err)
        if rc != 0 and check_rc:
            raise CommandError(argv, rc, out, err)
        if mutates and rc == 0:
            self.applied.append(display)
        return rc, out, err

    def record_change(self, text):
        """Note a change made without a command (a file written), for ``failure_report``."""
        self.applied.append(text)

    def plan(self, argv):
        """Record a mutating command that check mode would run."""
        self.planned.append(quote([str(part) for part in argv]))


def failure_report(runner, msg):
    """``(changed, msg)`` for a failure: true about what already ran.

    After a mutating command completed, the run did change the host, so the
    result is ``changed`` and the message lists what was done; "Nothing was
    changed" is said only when it is true.
    """
    if not runner.applied:
        return False, msg
    msg = msg.replace(" Nothing was changed.", "").rstrip()
    return True, "%s Done before this failure: %s." % (msg, "; ".join(runner.applied))


def run_steps(runner, steps):
    """Apply a plan: each step is an argument list that changes the system.

    In check mode nothing runs; the steps are recorded as planned, so a
    module reports exactly what it would do.
    """
    for argv in steps:
        if runner.module.check_mode:
            runner.plan(argv)
        else:
            runner.run(argv, mutates=True)
