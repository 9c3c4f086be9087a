# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""devicemapper_rollback filter: how the devicemapper role rolls back a failed switch of Docker's storage."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: devicemapper_rollback
short_description: How the devicemapper role rolls back a failed switch of Docker's storage
version_added: 1.0.0
description:
  - Used by the C(container_storage.devicemapper.devicemapper) role; private to it, its fields may change.
  - Before anything is put back, whether the record step failed (then nothing is put back, and its message), why
    the switch failed, what is stopped, moved back and restored, and whether this run touched Docker.
extends_documentation_fragment:
  - container_storage.devicemapper.role_plan
  - container_storage.devicemapper.role_plan.failure
options:
  _input:
    description:
      - switch.yml's registered results by name - C(recorded), C(stopped), C(moved), C(restored),
        C(config_written), C(started).
    type: dict
    required: true
  stamp:
    description: The time, UTC, as C(%Y%m%dT%H%M%SZ), for the directory that keeps what Docker wrote meanwhile.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Decide the rollback
  ansible.builtin.set_fact:
    rollback: >-
      {{ results | container_storage.devicemapper.devicemapper_rollback(plan, now(utc=true, fmt='%Y%m%dT%H%M%SZ'),
                                                                         inventory_hostname) }}
"""

RETURN = r"""
_value:
  description:
    - C(record_failed), C(record_message), C(failure), C(rollback_from), C(moved), C(restored), C(stop),
      C(config_put_back), C(config_removed), C(stash), C(stash_args), C(unstash), C(start), C(docker_changed).
  type: dict
"""

from ansible_collections.container_storage.devicemapper.plugins.plugin_utils._devicemapper_plan import plan_rollback


def devicemapper_rollback(results, plan, stamp, host="localhost", failed_task=None, failed_result=None):
    return plan_rollback(plan, results, failed_task or {}, failed_result or {}, stamp, host)


class FilterModule(object):
    def filters(self):
        return {"devicemapper_rollback": devicemapper_rollback}
