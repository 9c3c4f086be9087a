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

    def __init__(self, module):
        self.module = module
        self.commands = []
        self.planned = []
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

    def run(self, argv, mutates=False, check_rc=True, data=None):
        """Run ``argv`` (a list, argv[0] a tool name); return (rc, out, err).

        A command with ``mutates=True`` changes the system: in check mode it
        is recorded in ``planned`` and not run.
        """
        argv = [str(part) for part in argv]
        display = quote(argv)
        if mutates and self.module.check_mode:
            raise CheckModeViolation("refusing to run `%s` in check mode" % display)
        full = [self.bin_path(argv[0])] + argv[1:]
        rc, out, err = self.module.run_command(
            full, environ_update=C_LOCALE, data=data, check_rc=False, binary_data=data is not None
        )
        self.commands.append(display)
        if rc != 0 and check_rc:
            raise CommandError(argv, rc, out, err)
        return rc, out, err

    def plan(self, argv):
        """Record a mutating command that check mode would run."""
        self.planned.append(quote([str(part) for part in argv]))


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
