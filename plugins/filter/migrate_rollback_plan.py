# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""migrate_rollback_plan filter: how the migrate role puts daemon.json back."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: migrate_rollback_plan
short_description: How the migrate role's rollback puts daemon.json back
version_added: 1.0.0
description:
  - The whole file comes back when it is as the migration left it (always, when rolling back a failed run); when
    someone changed it since, only its storage keys do, and their changes stay.
  - Off the containerd image store, daemon.json must name a graph driver, the one Docker ran on.
options:
  _input:
    description: The record of what is rolled back (this run's when it failed, else the one on the host).
    type: dict
    required: true
  daemon_json:
    description: daemon.json as M(container_storage.devicemapper.docker_storage_info) read it before this run.
    type: raw
    required: true
  failed:
    description: Whether a failed migration of this run is rolled back.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Decide how daemon.json is put back
  ansible.builtin.set_fact:
    rollback: "{{ record | container_storage.devicemapper.migrate_rollback_plan(docker_storage.daemon_json) }}"
"""

RETURN = r"""
_value:
  description:
    - C(target), C(lv) and C(snapshotter) (the migration's target), C(whole_config) (the whole file comes back),
      C(keys) (else, the options of M(container_storage.devicemapper.docker_daemon_config) that put its storage keys
      back - C(state), and C(storage_driver), C(storage_opts), C(containerd_snapshotter) when they are set).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.container_storage.devicemapper.plugins.plugin_utils._migrate_plan import plan_rollback


def migrate_rollback_plan(record, daemon_json, failed=False):
    if not isinstance(record, dict):
        raise AnsibleFilterError("migrate_rollback_plan: its input must be the migration's record")
    return plan_rollback(record, daemon_json, failed)


class FilterModule(object):
    def filters(self):
        return {"migrate_rollback_plan": migrate_rollback_plan}
