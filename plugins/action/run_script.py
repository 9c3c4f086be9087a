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

import shlex

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible.plugins.action import ActionBase

from ansible_collections.container_storage.devicemapper.plugins.module_utils._script import (
    SCRIPT_ARGUMENT_SPEC,
    SCRIPT_MUTUALLY_EXCLUSIVE,
    SCRIPT_REQUIRED_ONE_OF,
    check_options,
    launcher_argv,
    result,
    script_text,
    split_status,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._validate import InputError

MODULE = "container_storage.devicemapper.run_script"
# Bytes of the command line the action plugin sends itself, measured as the connection gets it
# (see _command_as_sent): a quarter of the 128 KiB Linux allows that line as one argument.
COMMAND_LINE_MAX = 32768


class ActionModule(ActionBase):

    _supports_check_mode = False
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        params = self.validate_argument_spec(argument_spec=SCRIPT_ARGUMENT_SPEC,
                                             mutually_exclusive=SCRIPT_MUTUALLY_EXCLUSIVE,
                                             required_one_of=SCRIPT_REQUIRED_ONE_OF)[1]
        script, option = params["script"], "script"
        try:
            if params["src"] is not None:
                script, option = self._read_src(params["src"]), "src"
            args = check_options(script, params["args"], params["timeout"], params["lock_timeout"], option=option,
                                 host_lock=params["host_lock"])
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
            # The module gets the file's text as script, exactly as if the task had given it.
            module_args = dict(self._task.args)
            module_args.pop("src", None)
            module_args["script"] = script
            task_result.update(self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars))
            self._remove_tmp_path(self._connection._shell.tmpdir)
            return task_result
        # Non-empty standard input also keeps SSH from allocating a terminal, which would
        # merge standard error into standard output and end lines with \r\n.
        text = script_text(script, params["host_lock"], params["lock_timeout"])
        ran = self._low_level_execute_command(command, sudoable=True, in_data=to_bytes(text))
        rc, out, err = split_status(ran["rc"], ran.get("stdout", ""), ran.get("stderr", ""))
        task_result.update(result(rc, out, err, params["timeout"], started_python=False))
        return task_result

    def _read_src(self, src):
        """The text of src, found as ansible.builtin.script finds its file (a role's files/ first)."""
        try:
            path = self._find_needle("files", src)
        except AnsibleError as exc:
            raise InputError("src: cannot find %s: %s" % (src, to_native(exc)))
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except (IOError, OSError) as exc:
            raise InputError("src: cannot read %s: %s" % (path, to_native(exc)))
        try:
            return to_text(data, errors="strict")
        except UnicodeError:
            raise InputError("src: %s is not UTF-8 text" % path)

    def _runs_over_connection(self, command):
        """Only where Ansible would pipeline a module, into a POSIX shell, with a command line
        well under Linux's 128 KiB limit for one argument: SSH hands the whole line to the remote
        shell as one (the local connection to /bin/sh -c as one), where the module gets its
        arguments on standard input."""
        shell = self._connection._shell
        return (getattr(shell, "SHELL_FAMILY", None) == "sh"
                and self._connection.allow_executable
                and self._is_pipelining_enabled("new")
                and len(self._command_as_sent(command)) <= COMMAND_LINE_MAX)

    def _command_as_sent(self, command):
        """The command line as _low_level_execute_command hands it to the connection, in bytes.

        become wraps it (sudo: sh -c 'echo BECOME-SUCCESS-...; COMMAND'), then the shell
        executable (/bin/sh -c '...; sleep 0'), each quoting it once more: a ' in an argument
        is 5 bytes in the command, 17 after the wrapper and 53 after sudo too. Measured with
        become's own wrapper whenever the task has become, also where Ansible then skips it
        (same user), so the line sent is never longer than the one measured.
        """
        connection = self._connection
        if connection.become:
            # ansible-core's become plugins only set their prompt and success marker here, and
            # _low_level_execute_command sets them again when it builds the line it sends.
            command = connection.become.build_become_command(command, connection._shell)
        executable = self._play_context.executable
        if executable:
            command = executable + " -c " + shlex.quote(connection._shell.append_command(command, "sleep 0"))
        return to_bytes(command, errors="surrogate_or_strict")
