# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""devicemapper_containerd_switch filter: what the devicemapper role restarts on containerd's snapshotter path."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: devicemapper_containerd_switch
short_description: What the devicemapper role restarts on containerd's snapshotter path
version_added: 1.0.0
description:
  - Used by the C(container_storage.devicemapper.devicemapper) role; private to it, its fields may change.
  - Once containerd's config.toml is written (or would be, in check mode), whether containerd and Docker
    restart, the arguments of their starts, the check-mode steps and whether what runs can be verified.
options:
  _input:
    description: The role's plan (P(container_storage.devicemapper.devicemapper_plan#filter)).
    type: dict
    required: true
  variables:
    description: The role's variables, by their names (C(devicemapper_containerd_service), ...).
    type: dict
    required: true
  containerd_config_plan:
    description:
      - The check-mode run of M(container_storage.devicemapper.containerd_devmapper) that planned config.toml.
    type: dict
    required: true
  snapshotter_config:
    description: The registered write of config.toml (skipped when nothing is written).
    type: dict
    required: true
  dropin_removed:
    description: The registered removal of the activation drop-in (skipped when it stays).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Decide what is restarted
  ansible.builtin.set_fact:
    switch: >-
      {{ plan | container_storage.devicemapper.devicemapper_containerd_switch(role_variables, config_plan,
                                                                              written, removed) }}
"""

RETURN = r"""
_value:
  description:
    - C(containerd_restart), C(docker_restart), C(containerd_start), C(containerd_start_args), C(check_steps),
      C(check_message), C(say_check_steps), C(verify), C(reload_units), C(config_changed).
  type: dict
"""

from ansible_collections.container_storage.devicemapper.plugins.plugin_utils._devicemapper_plan import (
    plan_containerd_switch,
)


def devicemapper_containerd_switch(plan, variables, containerd_config_plan, snapshotter_config, dropin_removed):
    return plan_containerd_switch(plan, variables, containerd_config_plan, snapshotter_config, dropin_removed)


class FilterModule(object):
    def filters(self):
        return {"devicemapper_containerd_switch": devicemapper_containerd_switch}
