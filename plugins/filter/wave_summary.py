# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wave_summary filter: what happened on each host of a rollout's wave, and whether the rollout stops."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: wave_summary
short_description: Sum up one wave of a rollout of the devicemapper or migrate role, and decide whether it stops
version_added: 1.0.0
description:
  - Used by the playbooks C(container_storage.devicemapper.direct_lvm) and C(container_storage.devicemapper.migrate)
    after each wave (C(serial)) of hosts. A host of the wave finished when its role left its result fact
    (C(devicemapper_role_result), or C(migrate_report)) without a C(message); every other host of the wave (failed,
    rolled back, unreachable) is lost.
  - The rollout stops when more than O(max_fail_percentage) percent of the wave is lost.
options:
  _input:
    description: The hosts of the wave, in order (C(ansible_play_batch) at the wave's start).
    type: list
    elements: str
    required: true
  hostvars:
    description: C(hostvars), or a dictionary of host name to that host's variables; only the role's result fact is read.
    type: dict
    required: true
  role:
    description: Which role ran, and so which fact holds its result and how a finished host is reported.
    type: str
    choices: [devicemapper, migrate]
    required: true
  max_fail_percentage:
    description:
      - The percentage of the wave that may be lost. As given on the command line (a text is read as
        Jinja's C(int) filter reads it), and named as given in RV(_value.fail_msg).
    type: raw
    default: 0
  check_mode:
    description: Whether the run is in check mode (C(ansible_check_mode)); a host that would switch then says so.
    type: bool
    default: false
  reporter:
    description: The host the summing-up task runs on (C(inventory_hostname)), named in RV(_value.fail_msg).
    type: str
"""

EXAMPLES = r"""
- name: Say what happened on each host of this wave, and stop the rollout when too many failed
  ansible.builtin.assert:
    that: not wave.stop
    success_msg: "{{ wave.summary }}"
    fail_msg: "{{ wave.fail_msg }}"
  vars:
    wave: >-
      {{ devicemapper_wave | container_storage.devicemapper.wave_summary(hostvars, 'devicemapper',
         devicemapper_max_fail_percentage | default(0), ansible_check_mode, inventory_hostname) }}
  run_once: true
  any_errors_fatal: true
"""

RETURN = r"""
_value:
  description: The wave's summary.
  type: dict
  contains:
    done:
      description: The hosts of the wave that finished.
      type: list
      elements: str
    lost:
      description: The other hosts of the wave (failed, rolled back or unreachable), in the wave's order.
      type: list
      elements: str
    lines:
      description: Host name to what happened there (C(ok, ...), C(FAILED ...)).
      type: dict
    summary:
      description: One line, C(Wave of N) and each host's line, separated by C( | ).
      type: str
      sample: "Wave of 2: h1: ok, Docker on devicemapper:direct-lvm (switched by this run) | h2: FAILED or unreachable, ..."
    stop:
      description: Whether more of the wave was lost than O(max_fail_percentage) allows; the rollout then stops.
      type: bool
    fail_msg:
      description: The message that stops the rollout, with the lost hosts, the percentage and the summary.
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.container_storage.devicemapper.plugins.plugin_utils._wave import ROLES, WaveError, summarize_wave


def wave_summary(wave, hostvars, role, max_fail_percentage=0, check_mode=False, reporter=None):
    fact = ROLES.get(role, {}).get("fact")
    results = {}
    if fact:
        for host in wave or []:
            try:
                variables = hostvars[host]
            except KeyError:
                continue
            if fact in variables:
                results[host] = variables[fact]
    try:
        return summarize_wave(wave, results, role, max_fail_percentage, check_mode, reporter)
    except WaveError as exc:
        raise AnsibleFilterError("wave_summary: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"wave_summary": wave_summary}
