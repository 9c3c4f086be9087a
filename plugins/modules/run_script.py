#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: run_script
short_description: Run a shell script with its arguments under a timeout, without Python on the target when pipelining is on
version_added: 1.0.0
description:
  - Runs O(script) as C(/bin/sh -c SCRIPT sh ARGS...) under C(timeout(1)). Each of O(args) reaches the script as one
    positional parameter (C($1), C($2), ...), as it is; no shell parses it. The script is the only shell text.
  - The roles of this collection run their reads and their steps on Docker's units and data root with it.
  - B(Without Python on the target.) When pipelining is on for the task (the connection supports it and the C(pipelining)
    setting enables it, as for Ansible's own modules; C(su) as the become method turns it off), the module's action plugin
    sends the script on standard input and runs it over the connection directly. This takes about a third of a second where
    starting a module takes one to two seconds (measured in this collection's lab, a Debian 12 guest under software
    emulation). Otherwise (also for a target whose shell is not a POSIX C(sh), and when the quoted arguments and the
    task's C(environment) come to more than 32 KiB, as SSH hands the whole command line to the remote shell as one
    argument) this module runs the script with the command runner of the collection's other modules.
    Both paths accept the same options, refuse the same values and return the same keys; RV(started_python) says which ran.
  - The script runs with the C(C) locale (C(LANG), C(LC_ALL), C(LANGUAGE)), also when the task's C(environment) sets
    them; the task's other C(environment) variables reach it on both paths. Its standard input is empty.
  - A script that runs longer than O(timeout) is sent C(TERM), and C(KILL) 10 seconds later; the task then fails saying so.
    A script that exits non-zero fails the task (use C(failed_when) to decide otherwise). Like C(ansible.builtin.command),
    the result is C(changed) unless C(changed_when) says otherwise.
  - Needs a POSIX target with C(/bin/sh), C(cat), C(env) and C(timeout) (coreutils, or busybox with C(timeout -k)).
author:
  - container_storage developers (@container-storage)
attributes:
  check_mode:
    description:
      - The script is not run in check mode (the task is skipped). A script that only reads can be run in check mode
        with the task keyword C(check_mode=false).
    support: none
  diff_mode:
    description: Returns no diff.
    support: none
options:
  script:
    description:
      - The POSIX shell script. Must not be empty or contain a NUL byte.
    type: str
    required: true
  args:
    description:
      - The script's positional parameters, in order. An empty string is passed as an empty parameter.
      - Must not contain a NUL byte, nor be null.
    type: list
    elements: str
    default: []
  timeout:
    description:
      - Seconds the script may run, from 1 to 86400.
    type: int
    default: 60
notes:
  - The script's exit codes 124 and 137 are read as C(timeout(1)) stopping it.
"""

EXAMPLES = r"""
- name: Read the mount points, also in check mode
  container_storage.devicemapper.run_script:
    script: |
      cut -d ' ' -f 2 /proc/self/mounts | grep -Fx -- "$1" || true
    args:
      - /var/lib/docker
    timeout: 30
  check_mode: false
  changed_when: false
  register: docker_root_mount

- name: Stop Docker's socket and service, in one call
  container_storage.devicemapper.run_script:
    script: exec systemctl stop "$@"
    args: [docker.socket, docker.service]
    timeout: 300
"""

RETURN = r"""
rc:
  description: The script's exit code (124 or 137 when it was stopped by its timeout).
  returned: always
  type: int
  sample: 0
stdout:
  description: What the script printed on standard output, without the line breaks at its end.
  returned: always
  type: str
stdout_lines:
  description: RV(stdout) split into lines.
  returned: always
  type: list
  elements: str
stderr:
  description: What the script printed on standard error, without the line breaks at its end.
  returned: always
  type: str
stderr_lines:
  description: RV(stderr) split into lines.
  returned: always
  type: list
  elements: str
started_python:
  description:
    - V(false) when the action plugin ran the script over the connection, with no Python started on the target;
      V(true) when this module ran it (pipelining off, or a connection without it).
  returned: always
  type: bool
  sample: false
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.container_storage.devicemapper.plugins.module_utils._runner import CommandRunner, CommandTimeout
from ansible_collections.container_storage.devicemapper.plugins.module_utils._script import (
    SCRIPT_ARGUMENT_SPEC,
    check_options,
    direct_argv,
    result,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._validate import InputError


def main():
    module = AnsibleModule(argument_spec=SCRIPT_ARGUMENT_SPEC, supports_check_mode=False)
    params = module.params
    try:
        args = check_options(params["script"], params["args"], params["timeout"])
    except InputError as exc:
        module.fail_json(msg=str(exc), changed=False)
    runner = CommandRunner(module, timeout=params["timeout"])
    try:
        rc, out, err = runner.run(direct_argv(params["script"], args), check_rc=False)
    except CommandTimeout as exc:
        rc, out, err = 124, exc.out, exc.err
    shaped = result(rc, out, err, params["timeout"], started_python=True)
    if shaped.get("failed"):
        shaped.pop("failed")
        module.fail_json(**shaped)
    module.exit_json(**shaped)


if __name__ == "__main__":
    main()
