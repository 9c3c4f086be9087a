#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: thinpool
short_description: LVM thin pool for Docker's devicemapper storage driver in direct-lvm mode
version_added: 1.0.0
description:
  - Creates, grows, tunes and removes an LVM thin pool on dedicated block devices, as Docker's
    direct-lvm guide does by hand (C(pvcreate), C(vgcreate), a 95%/1% data and metadata split,
    a 512K chunk, zeroing off, dmeventd monitoring), idempotently and with a plan shown in check
    mode.
  - The pool is made in one C(lvcreate --type thin-pool) command. A run that was interrupted at
    any point is finished by the next run with the same arguments; the guide's half-done manual
    layout (a data LV and a C(<name>meta) LV never converted) is converted with
    O(convert_existing=true).
  - The whole result is planned on the predicted volume group before the first command that
    changes anything, so every refusal (no room, a chunk size that cannot change, an LV in the
    way) leaves the devices untouched, in check mode and for real alike. When a command fails
    after others changed the host, the result is C(changed) and the message lists what was done.
  - An empty string for any name or size option is refused; it never falls back to the default.
  - One run reads LVM's state once (one C(pvs), C(vgs), C(lvs) and C(dmsetup status)); a run with
    nothing to change runs only those read-only commands.
  - Docker's devicemapper storage driver exists in Docker Engine 24 and older only; Engine 25
    removed it. The pool itself is plain LVM and also serves containerd's devmapper snapshotter.
extends_documentation_fragment:
  - container_storage.devicemapper.pool
  - container_storage.devicemapper.host_lock
attributes:
  check_mode:
    description: Reports the commands it would run in RV(commands) and runs none that change anything.
    support: full
  diff_mode:
    description: Shows the pool before and after.
    support: full
options:
  devices:
    description:
      - Block devices for the volume group. Required when O(vg) does not exist yet.
      - A device that is not yet in O(vg) is added to it (C(vgextend)); a device already a PV of
        O(vg) is left alone; devices of the VG not listed are kept (a VG never shrinks here).
      - Symlinks such as C(/dev/disk/by-id/...) are resolved to the device they point to.
      - A device with any signature (filesystem, partition table, RAID, LUKS, as C(wipefs -n)
        reports them) is refused unless O(force=true). A device that is mounted, held by another
        device (device-mapper, md) or a PV of another volume group is refused even with O(force).
    type: list
    elements: path
    default: []
  size:
    description:
      - Size of the pool's data, in LVM's binary units (C(100G), C(512M), any case; a bare number
        is MiB), or C(N%VG), C(N%FREE), C(N%PVS) (of the PVs listed in O(devices)).
      - On an existing pool, an absolute, C(%VG) or C(%PVS) size at least one extent larger than
        the pool grows it (C(lvextend)); a smaller one never shrinks it (thin pools cannot shrink)
        and gives a warning. So adding a device to O(devices) with the default C(95%VG) grows the
        pool, the guide's "resize a direct-lvm thin pool" procedure in one task.
      - C(N%FREE) sizes a new pool only.
    type: str
    default: 95%VG
  metadata_size:
    description:
      - Size of the pool's metadata, in the same forms as O(size), grown the same way
        (C(lvextend --poolmetadatasize)).
      - Clamped to LVM's range of 2 MiB to 15.81 GiB, with a warning.
      - The first pool in a VG also gets a hidden C(lvol0_pmspare) LV of this size, which
        C(lvconvert --repair) needs; the module checks that data, metadata and spare fit.
    type: str
    default: 1%VG
  chunk_size:
    description:
      - Chunk size of the pool, a multiple of 64K from 64K to 1G (a bare number is KiB).
      - It cannot change on an existing pool; a different value fails and names the current one.
    type: str
    default: 512K
  zero:
    description:
      - Zero newly provisioned chunks (C(-Z y)). Docker's guide turns it off, the default here.
    type: bool
    default: false
  discards:
    description:
      - How the pool handles discards. Not set means LVM's default (C(passdown)) for a new pool
        and no change for an existing one.
      - LVM changes it to or from V(ignore) only while the pool is inactive, and says so.
    type: str
    choices: [ignore, nopassdown, passdown]
  error_when_full:
    description:
      - V(true) fails writes at once when the pool is full; V(false) queues them for 60 s first
        (LVM's default). Not set means no change.
    type: bool
  monitor:
    description:
      - Have dmeventd monitor the pool (C(lvchange --monitor y)), which autoextend needs; checked
        with C(lvs -o seg_monitor) after any change.
    type: bool
    default: true
  activate:
    description:
      - Make the pool active (C(lvchange -ay)), the guide's after-reboot step. V(false) leaves
        activation as it is.
    type: bool
    default: true
  force:
    description:
      - Wipe signatures on O(devices) (C(wipefs --all)) before C(pvcreate). That is all it does.
      - Never takes a mounted device, a held device, a PV of another volume group, or a disk with a
        partition that is a PV or carries a signature (wiping the disk would destroy what the
        partition holds).
    type: bool
    default: false
  convert_existing:
    description:
      - Convert an existing LV named O(name) that is not a thin pool, together with its
        C(<name>meta) LV, into the pool (C(lvconvert -y --thinpool)), the guide's manual steps
        interrupted before C(lvconvert). The metadata LV's content is overwritten.
      - Without it such a layout is refused and nothing is changed.
    type: bool
    default: false
    version_added: 1.0.0
  replace_existing:
    description:
      - Remove an existing LV named O(name) that is not a thin pool (and has no C(<name>meta) LV)
        and make the pool in its place. Everything the LV holds is lost.
      - Without it such an LV is refused and nothing is changed. An open LV is never replaced.
    type: bool
    default: false
    version_added: 1.0.0
  profile:
    description:
      - An LVM metadata profile for the pool (the guide's C(lvchange --metadataprofile)). A new pool is
        created with it (C(lvcreate --metadataprofile)), an existing pool that has another profile, or
        none, gets it with C(lvchange --metadataprofile).
      - With O(autoextend_threshold) or O(autoextend_percent) the module also writes the profile file,
        C(<profile_dir>/<profile>.profile), root:root 0644, atomically, as
        M(container_storage.devicemapper.lvm_profile) writes it, before it attaches it. Without them the
        file must exist already; a missing one is refused before anything changes.
      - Not set means the pool's profile is left as it is.
    type: str
    version_added: 1.0.0
  autoextend_threshold:
    description:
      - C(activation/thin_pool_autoextend_threshold) written into O(profile), how full (in percent, 50
        to 100) the pool gets before dmeventd extends it. 100 turns autoextend off. Needs O(profile).
    type: int
    version_added: 1.0.0
  autoextend_percent:
    description:
      - C(activation/thin_pool_autoextend_percent) written into O(profile), by how much (in percent of
        its size, 0 to 100) the pool grows each time. Needs O(profile).
    type: int
    version_added: 1.0.0
  profile_dir:
    description:
      - LVM's profile directory. Not set means C(lvmconfig config/profile_dir) is read (one command),
        only when O(profile) is set.
    type: path
    version_added: 1.0.0
  state:
    description:
      - V(present) makes the pool as described; V(absent) removes the pool LV (and its thin
        volumes, with everything they hold), refusing while the pool or one of its thin volumes
        is open; no option overrides that. An LV of that name that is not a thin pool is never
        removed by V(absent).
    type: str
    choices: [present, absent]
    default: present
  remove_vg:
    description:
      - With O(state=absent), also remove O(vg) and its PVs (C(vgremove), C(pvremove)) when
        nothing else is in the VG; otherwise the VG is kept with a warning.
    type: bool
    default: false
notes:
  - Needs LVM2 (C(lvm)), C(dmsetup), C(lsblk) and C(wipefs) on the host, and thin-provisioning-tools
    (Debian) or device-mapper-persistent-data (RHEL) for C(thin_check).
  - Whether a pool without LVM thin volumes is in use is read from its open flag; Docker's
    devicemapper driver holds the pool open while it runs.
seealso:
  - module: container_storage.devicemapper.thinpool_info
  - name: Docker's devicemapper guide, configure direct-lvm mode manually
    description: The manual procedure this module performs.
    link: https://docs.docker.com/engine/storage/drivers/device-mapper-driver/
author:
  - container_storage.devicemapper contributors (@container-storage)
"""

EXAMPLES = r"""
- name: Docker's direct-lvm layout (VG docker, pool thinpool, 95%/1%, 512K chunk, no zeroing)
  container_storage.devicemapper.thinpool:
    vg: docker
    name: thinpool
    devices:
      - /dev/xvdf
    size: 95%VG
    metadata_size: 1%VG
    chunk_size: 512K
    zero: false
  register: pool

- name: Use it in daemon.json as dm.thinpooldev
  ansible.builtin.debug:
    msg: "dm.thinpooldev={{ pool.pool.dm_path }}"

- name: Grow the pool onto a second disk (the guide's resize procedure in one task)
  container_storage.devicemapper.thinpool:
    vg: docker
    devices:
      - /dev/xvdf
      - /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123
  check_mode: true
  diff: true

- name: Reuse a disk that once held a filesystem, failing writes at once when full
  container_storage.devicemapper.thinpool:
    vg: docker
    devices: [/dev/xvdg]
    force: true
    error_when_full: true
    discards: passdown

- name: The pool with the guide's autoextend profile (80% full grows it by 20%), written and attached in one task
  container_storage.devicemapper.thinpool:
    vg: docker
    devices: [/dev/xvdf]
    profile: docker-thinpool
    autoextend_threshold: 80
    autoextend_percent: 20

- name: Finish the guide's manual steps (data LV and thinpoolmeta LV made, never converted)
  container_storage.devicemapper.thinpool:
    vg: docker
    convert_existing: true

- name: Remove the pool, the VG and its PVs (Docker stopped first)
  container_storage.devicemapper.thinpool:
    vg: docker
    state: absent
    remove_vg: true
"""

RETURN = r"""
pool:
  description: The pool after the run (predicted in check mode); empty with O(state=absent).
  returned: always
  type: dict
  contains:
    vg: {description: Volume group., type: str, returned: success, sample: docker}
    name: {description: Pool LV name., type: str, returned: success, sample: thinpool}
    lv_path: {description: LVM path., type: str, returned: success, sample: /dev/docker/thinpool}
    dm_name:
      description: Device-mapper name (each C(-) in a name doubled).
      type: str
      returned: success
      sample: docker-thinpool
    dm_path:
      description: The C(/dev/mapper) path, the value for Docker's C(dm.thinpooldev).
      type: str
      returned: success
      sample: /dev/mapper/docker-thinpool
    size: {description: Data size in bytes., type: int, returned: success, sample: 5096079360}
    metadata_size: {description: Metadata size in bytes., type: int, returned: success, sample: 50331648}
    chunk_size: {description: Chunk size in bytes., type: int, returned: success, sample: 524288}
    data_percent: {description: 'Data used in percent (null when inactive or predicted).', type: float, returned: success}
    metadata_percent: {description: 'Metadata used in percent.', type: float, returned: success}
    zero: {description: Whether new chunks are zeroed., type: bool, returned: success}
    discards: {description: Discards mode., type: str, returned: success, sample: passdown}
    error_when_full: {description: Whether writes fail at once when full., type: bool, returned: success}
    monitored: {description: Whether dmeventd monitors the pool (C(lvs -o seg_monitor))., type: bool, returned: success}
    profile: {description: 'Attached LVM metadata profile (null when none).', type: str, returned: success}
    active: {description: Whether the pool is active., type: bool, returned: success}
    open: {description: Whether the pool device is open., type: bool, returned: success}
    devices: {description: PVs under the pool's data and metadata., type: list, elements: str, returned: success}
    thin_volumes: {description: LVM thin volumes in the pool., type: list, elements: str, returned: success}
    health:
      description:
        - The pool's C(dmsetup status); null when inactive. C(state) is C(ok), C(read_only),
          C(out_of_data_space), C(needs_check) or C(failed).
      type: dict
      returned: success
      sample: {state: ok, mode: rw, needs_check: false, transaction_id: 0, data_used_blocks: 0,
               data_total_blocks: 9720, metadata_used_blocks: 1341, metadata_total_blocks: 13312}
commands:
  description: Commands run, in order, or in check mode the read-only ones run and the ones that would run.
  returned: always
  type: list
  elements: str
  sample:
    - lvm pvs --reportformat json --units b --nosuffix -o pv_name,vg_name,pv_size,pv_free,dev_size,pv_pe_count
    - lvm vgcreate docker /dev/vdb
    - lvm lvcreate --type thin-pool -L 4860m --poolmetadatasize 48m --chunksize 512k -Z n -n thinpool docker
profile_file:
  description: The profile file O(profile) names, with O(state=present) and O(profile) set.
  returned: when O(profile) is set and O(state=present)
  type: dict
  version_added: 1.0.0
  contains:
    path:
      description: Where the file is.
      type: str
      sample: /etc/lvm/profile/docker-thinpool.profile
    content:
      description: Its content after the run (predicted in check mode).
      type: str
    changed:
      description: Whether the run wrote the file (or fixed its owner and mode).
      type: bool
diff:
  description:
    - With C(--diff), the pool's settings before and after.
    - With O(profile) set, a list of two entries instead, the pool's settings and the profile file's text.
  returned: when diff mode is on
  type: raw
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.container_storage.devicemapper.plugins.module_utils._lock import LOCK_ARGUMENT_SPEC
from ansible_collections.container_storage.devicemapper.plugins.module_utils._thinpool import ThinPoolModule


def main():
    argument_spec = dict(
        vg=dict(type="str", required=True),
        name=dict(type="str", default="thinpool"),
        devices=dict(type="list", elements="path", default=[]),
        size=dict(type="str", default="95%VG"),
        metadata_size=dict(type="str", default="1%VG"),
        chunk_size=dict(type="str", default="512K"),
        zero=dict(type="bool", default=False),
        discards=dict(type="str", choices=["ignore", "nopassdown", "passdown"]),
        error_when_full=dict(type="bool"),
        monitor=dict(type="bool", default=True),
        activate=dict(type="bool", default=True),
        force=dict(type="bool", default=False),
        convert_existing=dict(type="bool", default=False),
        replace_existing=dict(type="bool", default=False),
        profile=dict(type="str"),
        autoextend_threshold=dict(type="int"),
        autoextend_percent=dict(type="int"),
        profile_dir=dict(type="path"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        remove_vg=dict(type="bool", default=False),
    )
    argument_spec.update(LOCK_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_json(**ThinPoolModule(module).run())


if __name__ == "__main__":
    main()
