# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""daemon_json_plan filter: docker_daemon_config's plan, made on the controller from docker_storage_info's read."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: daemon_json_plan
short_description: Plan daemon.json's storage settings on the controller, as docker_daemon_config would
version_added: 1.0.0
description:
  - Decides what M(container_storage.devicemapper.docker_daemon_config) with
    O(container_storage.devicemapper.docker_daemon_config#module:state=present) would do to C(daemon.json),
    from what M(container_storage.devicemapper.docker_storage_info) with
    O(container_storage.devicemapper.docker_storage_info#module:read_storage_flags=true) read, with the module's
    own code and without a module run on the host (seconds per host on a slow one).
  - The same refusals, in the same order, with the same messages. An option the module refuses, a file it
    would not rewrite (a key twice), settings Docker 24 or dockerd would refuse, a dockerd without the
    devicemapper driver, storage flags also given to dockerd outside the file.
  - A plan, not a write; the module still reads the file again, checks it and writes it.
options:
  _input:
    description: The registered result of M(container_storage.devicemapper.docker_storage_info).
    type: dict
    required: true
  storage_driver:
    description: As the module's O(container_storage.devicemapper.docker_daemon_config#module:storage_driver).
    type: str
    required: true
  storage_opts:
    description: As the module's O(container_storage.devicemapper.docker_daemon_config#module:storage_opts).
    type: dict
  containerd_snapshotter:
    description: As the module's O(container_storage.devicemapper.docker_daemon_config#module:containerd_snapshotter).
    type: bool
  path:
    description: The file's path, for the messages; the one docker_storage_info read.
    type: str
    default: /etc/docker/daemon.json
  check_conflicts:
    description: As the module's O(container_storage.devicemapper.docker_daemon_config#module:check_conflicts).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Read Docker's storage, with the storage flags dockerd gets outside daemon.json
  container_storage.devicemapper.docker_storage_info:
    read_storage_flags: true
  register: docker_storage

- name: Refuse, before anything changes, what docker_daemon_config would refuse
  ansible.builtin.assert:
    that: not plan.failed
    fail_msg: "{{ plan.msg }}"
  vars:
    plan: >-
      {{ docker_storage | container_storage.devicemapper.daemon_json_plan(
           storage_driver='devicemapper', storage_opts={'dm.thinpooldev': '/dev/mapper/docker-thinpool'}) }}
"""

RETURN = r"""
_value:
  description:
    - C(changed), whether the module would change the file; C(config), the file's object afterwards;
      C(failed) and C(msg), the module's refusal (C(msg) empty when there is none); C(warnings), what the
      module would warn about; C(conflicts), the storage flags found outside the file.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.container_storage.devicemapper.plugins.module_utils._docker import check_daemon_config_params, plan_daemon_json
from ansible_collections.container_storage.devicemapper.plugins.module_utils._docker_options import parse_dockerd_version, render_storage_opts
from ansible_collections.container_storage.devicemapper.plugins.module_utils._validate import InputError


def daemon_json_plan(storage_info, storage_driver, storage_opts=None, containerd_snapshotter=None,
                     path="/etc/docker/daemon.json", check_conflicts=True):
    if not isinstance(storage_info, dict) or "daemon_json" not in storage_info:
        raise AnsibleFilterError("daemon_json_plan: its input must be docker_storage_info's registered result")
    if check_conflicts and storage_info.get("storage_flags") is None:
        raise AnsibleFilterError("daemon_json_plan: docker_storage_info did not read the storage flags dockerd gets "
                                 "outside daemon.json; run it with read_storage_flags=true (or pass "
                                 "check_conflicts=false)")
    result = dict(changed=False, config=storage_info["daemon_json"], failed=False, msg="", warnings=[],
                  conflicts=[])

    def refuse(msg):
        result.update(failed=True, msg=msg)
        return result

    params = dict(path=path, storage_driver=storage_driver, storage_opts=storage_opts, state="present",
                  containerd_snapshotter=containerd_snapshotter, dockerd_version=storage_info.get("dockerd_version"),
                  service="docker")
    try:
        check_daemon_config_params(params)
    except InputError as exc:
        return refuse(str(exc))
    rendered = None
    if storage_opts is not None:
        rendered, errors = render_storage_opts(storage_opts)
        if errors:
            return refuse("; ".join(errors))
    if storage_info.get("daemon_json_problem"):
        return refuse(storage_info["daemon_json_problem"])

    given = storage_info.get("dockerd_version")
    version = parse_dockerd_version("version %s" % given) if given else None
    flags = storage_info.get("storage_flags") or []
    plan = plan_daemon_json(path, storage_info["daemon_json"] or {}, "present", storage_driver, rendered,
                            containerd_snapshotter, lambda: (version, []),
                            (lambda: flags) if check_conflicts else None)
    result.update(changed=plan["changed"], config=plan["config"], warnings=plan["warnings"],
                  conflicts=plan["conflicts"])
    if plan["refusal"]:
        return refuse(plan["refusal"])
    return result


class FilterModule(object):
    def filters(self):
        return {"daemon_json_plan": daemon_json_plan}
