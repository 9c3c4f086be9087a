# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""devicemapper_containerd_report filter: what the devicemapper role did on containerd's snapshotter path."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: devicemapper_containerd_report
short_description: What the devicemapper role did on containerd's snapshotter path
version_added: 1.0.0
description:
  - Used by the C(container_storage.devicemapper.devicemapper) role; private to it, its fields may change.
  - The role's result after the restarts; with O(failed_result), the rescue's message (what failed, what was
    done and what was put back).
extends_documentation_fragment:
  - container_storage.devicemapper.role_plan
  - container_storage.devicemapper.role_plan.failure
options:
  _input:
    description:
      - The registered results by name, an empty dict for a step not reached - C(snapshotter_config),
        C(containerd_started), C(config_written), C(docker_started); with O(failed_result), the rescue's C(rb_config), C(rb_config_new),
        C(rb_start).
    type: dict
    required: true
  switch:
    description: What P(container_storage.devicemapper.devicemapper_containerd_switch#filter) decided.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Keep the role's result
  ansible.builtin.set_fact:
    result: "{{ (results | container_storage.devicemapper.devicemapper_containerd_report(plan, switch)).result }}"
"""

RETURN = r"""
_value:
  description: C(result), the role's result; C(failure_message), the rescue's message (none without O(failed_result)).
  type: dict
"""

from ansible_collections.container_storage.devicemapper.plugins.plugin_utils._devicemapper_plan import (
    containerd_switch_failure, containerd_switch_result,
)


def devicemapper_containerd_report(results, plan, switch, host="localhost", failed_task=None, failed_result=None):
    failure = None if failed_result is None else containerd_switch_failure(plan, results, host, failed_task or {},
                                                                           failed_result)
    return dict(result=containerd_switch_result(plan, switch, results), failure_message=failure)


class FilterModule(object):
    def filters(self):
        return {"devicemapper_containerd_report": devicemapper_containerd_report}
