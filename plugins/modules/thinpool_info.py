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
    a usage threshold, unhealthy in C(dmsetup status), or whose autoextend can no longer grow them
    because their VG has no room for one more step, so a fleet is audited with one ad-hoc command.
  - Adds per pool what the collector of the C(thinpool_monitor) role exports, computed by the same
    code (see C(docs/monitoring.md)), that is the autoextend settings in force and the headroom they leave,
    the kernel's health flags, the used bytes and ratios, and the engines whose configuration names
    the pool (Docker's devicemapper graph driver, containerd's devmapper snapshotter).
  - Read-only, takes no lock; runs one C(pvs), C(vgs), C(lvs) and C(dmsetup status), one
    C(lvmconfig) per metadata profile in force among the pools reported (none when there is no
    pool), and reads O(docker_config) and O(containerd_config).
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
  require_autoextend:
    description:
      - Flag a pool whose autoextend is off (C(autoextend_disabled)), that is no profile or C(lvm.conf) in
        force sets C(thin_pool_autoextend_threshold) below 100 and C(thin_pool_autoextend_percent)
        above 0, so the pool never grows by itself.
      - Off by default, so an audit that passed before (a pool made without an autoextend profile)
        still passes.
    type: bool
    default: false
  docker_config:
    description:
      - Docker's C(daemon.json), read to tell whether Docker's devicemapper graph driver uses a pool
        (C(storage-driver) C(devicemapper) with C(dm.thinpooldev) or C(dm.directlvm_device)).
      - A missing file means Docker uses no pool; a file that cannot be read gives a warning.
    type: path
    default: /etc/docker/daemon.json
  containerd_config:
    description:
      - containerd's C(config.toml), read to tell whether containerd's devmapper snapshotter uses a
        pool (its C(pool_name)).
      - A missing file means containerd uses no pool; a file that cannot be read gives a warning.
    type: path
    default: /etc/containerd/config.toml
seealso:
  - module: container_storage.devicemapper.thinpool
  - module: container_storage.devicemapper.lvm_profile
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

- name: Hosts one bad day away from a full pool (ad hoc, -a require_autoextend=true)
  container_storage.devicemapper.thinpool_info:
    require_autoextend: true
  register: audit

- name: Say which pools cannot grow any more
  ansible.builtin.debug:
    msg: >-
      {{ item.vg }}/{{ item.name }} ({{ item.engines | join('+') or 'no engine' }}):
      {{ item.data_percent }}% used, the next autoextend step needs
      {{ item.autoextend.next_step_bytes }} bytes, VG has {{ item.vg_free_bytes }} free
  loop: "{{ audit.pools | selectattr('flags', 'contains', 'no_autoextend_headroom') }}"
  loop_control:
    label: "{{ item.vg }}/{{ item.name }}"
"""

RETURN = r"""
pools:
  description:
    - Each thin pool, with the fields of M(container_storage.devicemapper.thinpool)'s C(pool)
      (vg, name, lv_path, dm_name, dm_path, size, metadata_size, chunk_size, data_percent,
      metadata_percent, zero, discards, error_when_full, monitored, profile, active, open, devices,
      thin_volumes, health) and C(flags).
    - C(flags) lists C(inactive), C(not_monitored), C(data_above_threshold),
      C(metadata_above_threshold), C(unhealthy), C(out_of_data_space), C(read_only),
      C(needs_check), C(failed), C(no_autoextend_headroom) and (with O(require_autoextend))
      C(autoextend_disabled) as they apply, in that order.
    - The other keys below come from the code the C(thinpool_monitor) collector exports its
      metrics with (C(docs/monitoring.md) maps them to metric names).
  returned: always
  type: list
  elements: dict
  contains:
    flags:
      description:
        - Why an auditor should look at the pool; empty when all is well.
        - C(unhealthy) is C(health.state) other than C(ok); C(out_of_data_space), C(read_only),
          C(needs_check) and C(failed) are the RV(pools[].health_flags) that are true.
        - C(no_autoextend_headroom) is autoextend on with RV(pools[].autoextend.headroom_steps) 0, so
          the next time data use crosses the threshold, dmeventd cannot extend the pool.
      type: list
      elements: str
    autoextend:
      description: The autoextend settings in force for the pool and what the VG leaves them.
      type: dict
      contains:
        profile:
          description: The metadata profile in force (the pool's own, else its VG's); null means C(lvm.conf).
          type: str
        profile_source:
          description: C(lv) or C(vg), where RV(pools[].autoextend.profile) is attached; null when none is.
          type: str
        threshold_percent:
          description:
            - C(thin_pool_autoextend_threshold) in force, as dmeventd applies it (below 50 counts as 50).
            - 100 means autoextend is off.
          type: int
        percent:
          description: C(thin_pool_autoextend_percent) in force, how much one step adds (percent of the pool's size).
          type: int
        enabled:
          description: True when the threshold is below 100 and the percent above 0.
          type: bool
        headroom_steps:
          description:
            - How many more autoextend steps the VG's free extents allow, each step growing the data by
              RV(pools[].autoextend.percent) of the pool's size then, rounded up to whole extents.
            - 0 means the next threshold crossing fails; counted up to 1000. Metadata growth is not counted.
            - Null when autoextend is off.
          type: int
        next_step_bytes:
          description: Free VG space the next autoextend step needs; null when autoextend is off.
          type: int
    health_flags:
      description:
        - The kernel's view of the pool from C(dmsetup status); all false when the pool is inactive.
      type: dict
      contains:
        out_of_data_space:
          description: The pool's data space is full (writes queue or fail, see C(error_when_full)).
          type: bool
        read_only:
          description: The pool is in read-only mode (metadata full or damaged).
          type: bool
        needs_check:
          description: The metadata needs C(thin_check) before the next activation.
          type: bool
        failed:
          description: The thin-pool target reports C(Fail).
          type: bool
    engines:
      description:
        - The engines whose configuration names the pool, sorted; empty when none does.
        - C(docker) is Docker's devicemapper graph driver (O(docker_config)), C(containerd) is
          containerd's devmapper snapshotter (O(containerd_config)), which Docker 25+ uses through
          the containerd image store.
      type: list
      elements: str
    data_used_bytes:
      description: Data space in use (from C(dmsetup status), else from C(data_percent)); null when unknown.
      type: int
    data_used_ratio:
      description: Data space in use, 0 to 1; null when unknown.
      type: float
    metadata_used_bytes:
      description: Metadata space in use; null when unknown.
      type: int
    metadata_used_ratio:
      description: Metadata space in use, 0 to 1; null when unknown.
      type: float
    vg_free_bytes:
      description: Free space in the pool's VG (what autoextend grows into).
      type: int
  sample:
    - vg: docker
      name: thinpool
      dm_path: /dev/mapper/docker-thinpool
      size: 5096079360
      chunk_size: 524288
      data_percent: 12.5
      monitored: true
      health: {state: ok, mode: rw, needs_check: false}
      health_flags: {out_of_data_space: false, read_only: false, needs_check: false, failed: false}
      autoextend:
        profile: docker-thinpool
        profile_source: lv
        threshold_percent: 80
        percent: 20
        enabled: true
        headroom_steps: 0
        next_step_bytes: 1019215872
      engines: [docker]
      data_used_ratio: 0.125
      vg_free_bytes: 104857600
      flags: [no_autoextend_headroom]
flagged:
  description: "One line per pool with flags: C(vg/name: flag, flag)."
  returned: always
  type: list
  elements: str
  sample: ["docker/thinpool: not_monitored", "tank/pool: no_autoextend_headroom"]
engine_pools:
  description:
    - The thin pool each engine's configuration names (its C(/dev/mapper) name, or the path as
      written), null when it names none; a pool named here that is missing from RV(pools) is a
      configuration that points nowhere.
  returned: always
  type: dict
  sample: {docker: docker-thinpool, containerd: null}
commands:
  description: The read-only commands run.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.container_storage.devicemapper.plugins.module_utils._pool_health import (
    CONTAINERD_CONFIG, DOCKER_DAEMON_JSON,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._thinpool_info import ThinPoolAudit


def main():
    argument_spec = dict(
        vg=dict(type="str"),
        name=dict(type="str"),
        data_threshold=dict(type="float", default=80.0),
        metadata_threshold=dict(type="float", default=80.0),
        require_autoextend=dict(type="bool", default=False),
        docker_config=dict(type="path", default=DOCKER_DAEMON_JSON),
        containerd_config=dict(type="path", default=CONTAINERD_CONFIG),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_json(**ThinPoolAudit(module).run())


if __name__ == "__main__":
    main()
