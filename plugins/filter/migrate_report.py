# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""migrate_report filter: the migrate role's report of a run, from its plan."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: migrate_report
short_description: The migrate role's report of a run on a host, from its plan
version_added: 1.0.0
description:
  - What the P(container_storage.devicemapper.migrate#role) role did (or would do, in check mode) on a host, from the
    plan of the P(container_storage.devicemapper.migrate_plan#filter) filter
    and the record the migration wrote - the state, the images carried and the bytes exported, the containers listed,
    what is left behind.
options:
  _input:
    description: The plan, as the P(container_storage.devicemapper.migrate_plan#filter) filter returned it.
    type: dict
    required: true
  record_new:
    description: The record of this run's migration, with the archives (the plan's C(record_new) after the save).
    type: dict
    required: true
  check_mode:
    description: Whether the run is in check mode.
    type: bool
    required: true
  epoch:
    description: The time, in seconds since the epoch (a migration's duration).
    type: int
    required: true
"""

EXAMPLES = r"""
- name: Build the report
  ansible.builtin.set_fact:
    migrate_report: >-
      {{ plan | container_storage.devicemapper.migrate_report(plan.record_new, ansible_check_mode,
                                                              now(utc=true, fmt='%s') | int) }}
"""

RETURN = r"""
_value:
  description:
    - C(host), C(action), C(target), C(check_mode), C(state), C(images_carried), C(bytes_exported), C(export_path),
      C(seconds), C(containers_not_recreated), C(containers_whose_image_was_gone), C(images_left_behind),
      C(left_behind).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.container_storage.devicemapper.plugins.plugin_utils._migrate_plan import report


def migrate_report(plan, record_new, check_mode, epoch):
    if not isinstance(plan, dict) or "action" not in plan:
        raise AnsibleFilterError("migrate_report: its input must be the plan of the migrate_plan filter")
    return report(plan, record_new or {}, check_mode, int(epoch))


class FilterModule(object):
    def filters(self):
        return {"migrate_report": migrate_report}
