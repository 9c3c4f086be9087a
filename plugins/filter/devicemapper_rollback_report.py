# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""devicemapper_rollback_report filter: what the devicemapper role rolled back."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: devicemapper_rollback_report
short_description: What the devicemapper role rolled back
version_added: 1.0.0
description:
  - Used by the C(container_storage.devicemapper.devicemapper) role; private to it, its fields may change.
  - The role's result once the rollback ran, C(rolled_back), C(docker_changed), C(docker_running) and the message.
extends_documentation_fragment:
  - container_storage.devicemapper.role_plan
options:
  _input:
    description:
      - The registered results by name - C(config_written) and the rollback's C(rb_config), C(rb_config_new),
        C(rb_stash), C(rb_unstash), C(rb_start).
    type: dict
    required: true
  rollback:
    description: What P(container_storage.devicemapper.devicemapper_rollback#filter) decided.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Keep what was rolled back
  ansible.builtin.set_fact:
    result: >-
      {{ results | container_storage.devicemapper.devicemapper_rollback_report(plan, rollback,
                                                                                inventory_hostname) }}
"""

RETURN = r"""
_value:
  description: C(rolled_back), C(docker_changed), C(docker_running), C(message).
  type: dict
"""

from ansible_collections.container_storage.devicemapper.plugins.plugin_utils._devicemapper_plan import rollback_report


def devicemapper_rollback_report(results, plan, rollback, host="localhost"):
    return rollback_report(plan, rollback, results, host)


class FilterModule(object):
    def filters(self):
        return {"devicemapper_rollback_report": devicemapper_rollback_report}
