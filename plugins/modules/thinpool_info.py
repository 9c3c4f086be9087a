#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: thinpool_info
short_description: Report LVM thin pools and flag the ones that need attention
version_added: 1.0.0
description:
  - Returns every LVM thin pool on the host (or those in O(vg), or the one named O(name)) with the
    same fields as M(container_storage.devicemapper.thinpool)'s RV(container_storage.devicemapper.thinpool#module:pool).
  - Flags pools that are inactive, not monitored by dmeventd (so autoextend never happens), above
    a usage threshold, or unhealthy in C(dmsetup status), so a fleet is audited with one ad-hoc
    command.
  - Read-only; runs one C(pvs), C(vgs), C(lvs) and C(dmsetup status).
extends_documentation_fragment:
  - container_storage.devicemapper.pool.info
  - container_storage.devicemapper.attributes.info_module
options:
  data_threshold:
    description: Flag a pool whose data use is at or above this percentage (0 to 100; NaN and infinities are refused).
    type: float
    default: 80.0
  metadata_threshold:
    description: Flag a pool whose metadata use is at or above this percentage (0 to 100; NaN and infinities are refused).
    type: float
    default: 80.0
seealso:
  - module: container_storage.devicemapper.thinpool
author:
  - container_storage.devicemapper contributors (@container-storage)
"""

EXAMPLES = r"""
- name: Audit every thin pool (ad hoc, ansible all -m container_storage.devicemapper.thinpool_info)
  container_storage.devicemapper.thinpool_info:
    data_threshold: 70
  register: info

- name: Fail when a pool needs attention
  ansible.builtin.assert:
    that: info.flagged | length == 0
    fail_msg: "{{ info.flagged }}"

- name: Docker's pool only
  container_storage.devicemapper.thinpool_info:
    vg: docker
    name: thinpool
"""

RETURN = r"""
pools:
  description:
    - Each thin pool, with the fields of M(container_storage.devicemapper.thinpool)'s C(pool)
      (vg, name, lv_path, dm_name, dm_path, size, metadata_size, chunk_size, data_percent,
      metadata_percent, zero, discards, error_when_full, monitored, profile, active, open, devices,
      thin_volumes, health) and C(flags).
    - C(flags) lists C(inactive), C(not_monitored), C(data_above_threshold),
      C(metadata_above_threshold) and C(unhealthy) as they apply.
  returned: always
  type: list
  elements: dict
  sample:
    - vg: docker
      name: thinpool
      dm_path: /dev/mapper/docker-thinpool
      size: 5096079360
      chunk_size: 524288
      data_percent: 12.5
      monitored: true
      health: {state: ok, mode: rw, needs_check: false}
      flags: []
flagged:
  description: "One line per pool with flags: C(vg/name: flag, flag)."
  returned: always
  type: list
  elements: str
  sample: ["docker/thinpool: not_monitored"]
commands:
  description: The read-only commands run.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.container_storage.devicemapper.plugins.module_utils._thinpool import (
    INFO_ARGUMENT_SPEC, ThinPoolInfo,
)


def main():
    module = AnsibleModule(argument_spec=INFO_ARGUMENT_SPEC, supports_check_mode=True)
    ThinPoolInfo(module).run()


if __name__ == "__main__":
    main()
