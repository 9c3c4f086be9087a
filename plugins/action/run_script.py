# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Action plugin of run_script: the script over the connection, no Python on the target.

Starting a module costs the target one to two seconds of Python under emulation
(importing ansible.module_utils.basic from the payload zip alone is about one);
a script sent on standard input costs one round trip. Standard input is used the
way Ansible pipelines its own modules, so this path is taken exactly when Ansible
would pipeline a module on this connection; otherwise the module runs it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.text.converters import to_bytes
from ansible.plugins.action import ActionBase

from ansible_collections.container_storage.devicemapper.plugins.module_utils._script import (
    SCRIPT_ARGUMENT_SPEC,
    check_options,
    launcher_argv,
    result,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._validate import InputError

MODULE = "container_storage.devicemapper.run_script"
# Bytes of the command line (arguments quoted, the task's environment) the action plugin sends itself.
COMMAND_LINE_MAX = 32768


class ActionModule(ActionBase):

    _supports_check_mode = False
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        params = self.validate_argument_spec(argument_spec=SCRIPT_ARGUMENT_SPEC)[1]
        try:
            args = check_options(params["script"], params["args"], params["timeout"])
        except InputError as exc:
            task_result.update(failed=True, changed=False, msg=str(exc))
            return task_result

        shell = self._connection._shell
        command = " ".join(shell.quote(part) for part in launcher_argv(args, params["timeout"]))
        # The task's `environment`, as Ansible puts it before a module; the C locale still wins.
        environment = self._compute_environment_string().strip()
        if environment:
            command = environment + " " + command
        if not self._runs_over_connection(command):
            task_result.update(self._execute_module(module_name=MODULE, module_args=self._task.args, task_vars=task_vars))
            self._remove_tmp_path(self._connection._shell.tmpdir)
            return task_result
        # Non-empty standard input also keeps SSH from allocating a terminal, which would
        # merge standard error into standard output and end lines with \r\n.
        ran = self._low_level_execute_command(command, sudoable=True, in_data=to_bytes(params["script"]))
        task_result.update(result(ran["rc"], ran.get("stdout", ""), ran.get("stderr", ""), params["timeout"],
                                  started_python=False))
        return task_result

    def _runs_over_connection(self, command):
        """Only where Ansible would pipeline a module, into a POSIX shell, with a command line
        well under Linux's 128 KiB limit for one argument: SSH hands the whole line to the remote
        shell as one (with become wrapped once more), where the module gets its arguments on
        standard input."""
        shell = self._connection._shell
        return (getattr(shell, "SHELL_FAMILY", None) == "sh"
                and self._connection.allow_executable
                and len(command) <= COMMAND_LINE_MAX
                and self._is_pipelining_enabled("new"))
