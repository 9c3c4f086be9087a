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
  - B(Internal to this collection's roles, not a supported interface.) Its options, results and behaviour follow what
    the roles need and may change in any release, minor and patch releases included; semantic versioning does not cover
    it. In playbooks of your own use C(ansible.builtin.script) or C(ansible.builtin.command).
  - B(Without Python on the target.) When pipelining is on for the task (the connection supports it and the C(pipelining)
    setting enables it, as for Ansible's own modules; C(su) as the become method turns it off), the module's action plugin
    sends the script on standard input and runs it over the connection directly. This takes about a third of a second where
    starting a module takes one to two seconds (measured in this collection's lab, a Debian 12 guest under software
    emulation). Otherwise (also for a target whose shell is not a POSIX C(sh), and when the command line comes to more
    than 32 KiB as the connection gets it) this module runs the script with the command runner of the collection's
    other modules. That line holds the quoted arguments and the task's C(environment), quoted again by become and by
    the C(sh -c) Ansible wraps around it (a C(') in an argument takes 17 bytes of it, 53 with C(sudo)); SSH hands it to
    the remote shell as one argument, which Linux limits to 128 KiB.
    Both paths accept the same options, refuse the same values and return the same keys; RV(started_python) says which ran.
    Both hand C(sh) the script byte for byte, newlines at its end included.
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
      - Must be shorter than 128 KiB (at most 131071 bytes, with the host lock's lines when O(host_lock) is on), the
        longest argument Linux passes to a command.
      - Exactly one of O(script) and O(src) is given.
    type: str
  src:
    description:
      - A file on the controller holding the script, found as C(ansible.builtin.script) finds its file
        (in a role, the role's C(files/) directory first; a relative path otherwise from the playbook's C(files/)
        and directory). Its text runs exactly as O(script) would, on both paths; the target gets no copy of the file.
      - Must be UTF-8 text, not empty, shorter than 128 KiB as O(script). A file that cannot be found or read fails
        the task naming O(src) and the path.
      - Exactly one of O(script) and O(src) is given.
    type: path
  args:
    description:
      - The script's positional parameters, in order. An empty string is passed as an empty parameter.
      - Must not contain a NUL byte, nor be null. Each must be shorter than 128 KiB (at most 131071 bytes), the
        longest argument Linux passes to a command.
    type: list
    elements: str
    default: []
  timeout:
    description:
      - Seconds the script may run, from 1 to 86400. With O(host_lock), the wait for the lock counts.
    type: int
    default: 60
  host_lock:
    description:
      - Run the script under the collection's host lock, the one every mutating module of this collection takes
        around its read-to-write span (a C(flock(1)) on C(container-storage-devicemapper.lock) in the first of
        C(/run/lock), C(/var/lock), C(/run), C(/tmp) that exists). The script then neither runs at the same time as
        such a module nor as another script run with O(host_lock).
      - The lock is taken before the script's first line, on file descriptor 9, and held until the script and
        everything it started that kept descriptor 9 open have exited. A script must not close or reuse descriptor 9.
      - When another run holds it for longer than O(lock_timeout), the script does not run; the task fails with
        RV(rc) 1 and says on RV(stderr) who held the lock, when the holder wrote its name (the modules do).
      - Needs C(flock(1)) (util-linux, or busybox) on the target.
    type: bool
    default: false
  lock_timeout:
    description:
      - With O(host_lock), the seconds to wait for the lock, from 0 (do not wait) to 86400.
    type: int
    default: 300
notes:
  - The script's exit codes 124 and 137 are read as C(timeout(1)) stopping it.
  - Without Python on the target, the exit status is the one the script's launcher reports, not the connection's;
    a run whose status is unknown (the launcher did not report one and the connection gave none) fails.
seealso:
  - module: ansible.builtin.script
    description: Runs a local script on the target after copying it there.
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

- name: Read the host's state in one run, as sections (RV(sections))
  container_storage.devicemapper.run_script:
    script: |
      echo '@@mounts'; cut -d ' ' -f 2 /proc/self/mounts
      echo '@@lvm'; lvs --noheadings -o vg_name,lv_name
      echo '@@end'
  check_mode: false
  changed_when: false
  register: host_read

- name: Use a section
  ansible.builtin.debug:
    msg: "{{ host_read.sections.lvm | length }} LVs; /var/lib/docker is a mount: {{ '/var/lib/docker' in host_read.sections.mounts }}"

- name: Run a script file of the role (files/record.sh), under the host lock
  container_storage.devicemapper.run_script:
    src: record.sh
    args: [/var/lib/example/state.json, '{"done": true}']
    host_lock: true
    lock_timeout: 120
    timeout: 180

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
sections:
  description:
    - RV(stdout) split into sections at lines C(@@NAME), where C(NAME) is made of letters, digits, C(_), C(.) and C(-).
      Each name maps to the list of the lines after its marker, up to the next marker. Lines are kept as they are,
      empty ones included, without a trailing carriage return.
    - Lines before the first marker are in no section. A line C(@@end) ends the last section and is no section itself.
      A name given again continues its section.
    - An empty dictionary when the output has no marker.
  returned: always
  type: dict
  sample: {"mounts": ["/", "/proc", "/var/lib/docker"], "lvm": ["  docker thinpool"]}
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
    SCRIPT_MUTUALLY_EXCLUSIVE,
    SCRIPT_REQUIRED_ONE_OF,
    check_options,
    direct_argv,
    result,
    script_text,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._validate import InputError


def main():
    module = AnsibleModule(argument_spec=SCRIPT_ARGUMENT_SPEC, mutually_exclusive=SCRIPT_MUTUALLY_EXCLUSIVE,
                           required_one_of=SCRIPT_REQUIRED_ONE_OF, supports_check_mode=False)
    params = module.params
    if params["script"] is None:
        # The action plugin reads src on the controller and hands this module its text as script.
        module.fail_json(msg="src: %s was not read on the controller: run_script needs its action plugin "
                             "(call it as a task, not with a raw module run)" % params["src"], changed=False)
    try:
        args = check_options(params["script"], params["args"], params["timeout"], params["lock_timeout"],
                             host_lock=params["host_lock"])
    except InputError as exc:
        module.fail_json(msg=str(exc), changed=False)
    runner = CommandRunner(module, timeout=params["timeout"])
    script = script_text(params["script"], params["host_lock"], params["lock_timeout"])
    try:
        rc, out, err = runner.run(direct_argv(script, args), check_rc=False)
    except CommandTimeout as exc:
        rc, out, err = 124, exc.out, exc.err
    shaped = result(rc, out, err, params["timeout"], started_python=True)
    if shaped.get("failed"):
        shaped.pop("failed")
        module.fail_json(**shaped)
    module.exit_json(**shaped)


if __name__ == "__main__":
    main()
