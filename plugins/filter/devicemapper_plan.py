# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""devicemapper_plan filter: the devicemapper role's decisions, made on the controller from its reads."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: devicemapper_plan
short_description: The devicemapper role's decisions, from what it read
version_added: 1.0.0
description:
  - Used by the C(container_storage.devicemapper.devicemapper) role; private to it, its fields may change.
  - Takes what M(container_storage.devicemapper.docker_storage_info) read and the sections of the role's host
    read, with the role's variables, and returns every decision the role's tasks act on, the refusals first
    (their messages in C(refusals), in the order the role checks them; empty when there is none).
  - Booleans given as strings (C(-e devicemapper_force=no)) are converted as Ansible converts them.
options:
  _input:
    description: The registered result of M(container_storage.devicemapper.docker_storage_info).
    type: dict
    required: true
  sections:
    description: The C(sections) of M(container_storage.devicemapper.run_script)'s result for the role's host read.
    type: dict
    required: true
  variables:
    description: The role's variables, by their names (C(devicemapper_state), ...).
    type: dict
    required: true
  stamp:
    description: The time, UTC, as C(%Y%m%dT%H%M%SZ), for the name of a backup.
    type: str
    required: true
  config_plan:
    description: daemon.json's plan, when the role made it with a module run; otherwise it is made here.
    type: dict
  check_mode:
    description: Whether the run is in check mode.
    type: bool
    default: false
  host:
    description: The host's inventory name, for the messages.
    type: str
    default: localhost
  dropin_wanted:
    description:
      - The activation drop-in as the role would write it, by runtime (C(docker-graphdriver),
        C(containerd-snapshotter)); with it, whether it is written.
    type: dict
  pool_info:
    description:
      - M(container_storage.devicemapper.thinpool_info)'s result for the pool C(devicemapper_remove_pool) removes
        (skipped when it stays); with it, C(pool_removal) says what removing the pool destroys.
    type: dict
  lease:
    description:
      - The C(container_storage.devicemapper.run_lease) filter's decision on the host's run lease; its
        refusal (another run holds the lease, or a lease variable is wrong) comes first in C(refusals).
    type: dict
"""

EXAMPLES = r"""
# As the devicemapper role calls it (roles/devicemapper/tasks/probe.yml): storage_info is
# docker_storage_info's result, host_read run_script's result for the role's files/host_read.sh,
# and role_variables maps every devicemapper_* variable of the role to its value.
- name: Decide what the role does, and what it refuses
  ansible.builtin.set_fact:
    plan: >-
      {{ storage_info | container_storage.devicemapper.devicemapper_plan(
           host_read.sections, role_variables, now(utc=true, fmt='%Y%m%dT%H%M%SZ')) }}
"""

RETURN = r"""
_value:
  description: The decisions; C(refusals) lists the messages of what the role refuses, before any change.
  type: dict
"""

import base64

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.container_storage.devicemapper.plugins.plugin_utils._devicemapper_plan import (
    plan_devicemapper, plan_dropin, pool_removal_warning,
)


def devicemapper_plan(probe, sections, variables, stamp, config_plan=None, check_mode=False, host="localhost",
                      dropin_wanted=None, pool_info=None, lease=None):
    if not isinstance(probe, dict) or "data_root" not in probe:
        raise AnsibleFilterError("devicemapper_plan: its input must be docker_storage_info's registered result")
    if not isinstance(sections, dict):
        raise AnsibleFilterError("devicemapper_plan: sections must be run_script's sections of the host read")
    try:
        plan = plan_devicemapper(probe, sections, variables, stamp, config_plan=config_plan, check_mode=check_mode,
                                 host=host)
    except KeyError as exc:
        raise AnsibleFilterError("devicemapper_plan: %s is missing from its input" % exc)
    if dropin_wanted is not None and not plan["refusals"]:
        wanted = dropin_wanted[plan["runtime"]]
        plan.update(plan_dropin(plan, wanted, to_text(base64.b64encode(to_bytes(wanted)))))
    if pool_info is not None and "remove_vg_words" in plan:
        plan["pool_removal"] = pool_removal_warning(plan, pool_info, host)
    if lease is not None:
        plan["refusals"][:0] = lease["refusals"]
        # Also in a check mode that only the probe saw (migrate runs the role with apply: check_mode).
        plan["take_lease"] = bool(lease["take"] and not plan["refusals"] and not plan.get("check_mode", True))
    return plan


class FilterModule(object):
    def filters(self):
        return {"devicemapper_plan": devicemapper_plan}
