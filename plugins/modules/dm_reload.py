#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: dm_reload
short_description: Change the table of a live device-mapper device safely
version_added: 1.0.0
description:
  - Loads a new table into a device-mapper device and makes it live with
    C(dmsetup reload), C(dmsetup suspend) and C(dmsetup resume), the way Docker's
    devicemapper guide resizes a loop-lvm thin pool by hand, but idempotent, previewable
    and safe.
  - Either give the complete desired O(table), or set O(grow=true) to extend a one-segment
    C(thin-pool) or C(linear) table to the current size of its device (after refreshing
    the capacity of loop devices, so a grown backing file is seen).
  - The new table is loaded before the device is suspended, so a table that dmsetup rejects
    never suspends it. Once the device is suspended, any failure (a resume the kernel
    refuses, a command stopped by its timeout, the module receiving SIGTERM, SIGHUP or
    SIGINT) is followed by reloading the previous table if needed and a resume, so a run
    never leaves the device suspended; the error says what happened. Only SIGKILL cannot be
    handled. After the resume the table is read back and the task fails if it is not the
    desired one.
  - Every suspend, reload and resume runs under a timeout (O(suspend_timeout) for the
    suspend). A suspend that does not finish in time is stopped, the new inactive table is
    discarded and the device resumed before the task fails, and the message says so.
  - A device found suspended (for example by an interrupted manual resize) is resumed, and
    an inactive table left loaded by someone else is discarded first, with a warning.
  - LVM logical volumes (device-mapper UUID C(LVM-...)) are refused unless
    O(allow_lvm_owned=true), and O(grow=true) on one is always refused, because the space after an LV
    on its PV may belong to another LV, which growing the table would map into it. Use
    C(lvextend) for LVM volumes.
  - A table whose target types differ from the live table's (for example C(error) replacing
    C(thin-pool)) is refused unless O(allow_target_change=true).
  - Every refusal comes before anything is suspended, loaded or refreshed.
  - Docker's devicemapper storage driver was removed in Docker Engine 25; loop-lvm mode is
    for testing only.
author:
  - container_storage developers (@container-storage)
options:
  name:
    description:
      - The device-mapper name, as C(dmsetup ls) shows it (for example
        C(docker-8:1-123141-pool)). A leading C(/dev/mapper/) is removed.
      - Only letters, digits and C(+), C(_), C(.), C(:), C(@), C(-) are accepted, and the name must not start
        with C(-); anything else (an empty string, spaces, C(/)) is refused before any
        command runs.
    type: str
    required: true
  table:
    description:
      - The complete desired table, one segment a line (C(start length target args)),
        lengths in 512-byte sectors.
      - Compared with C(dmsetup table) after normalising whitespace and device references
        (C(/dev/loop1) and C(7:1) name the same device); equal means no change.
      - Segments must start at 0 and follow each other without gaps.
      - Mutually exclusive with O(grow). An empty string is refused.
      - Its target types must be the live table's unless O(allow_target_change=true).
    type: str
  grow:
    description:
      - Set the length of a one-segment C(thin-pool) or C(linear) table to what its device
        now offers. For a thin pool, the size of its data device; for a linear target, the
        size of its device minus the target's offset.
      - Mutually exclusive with O(table); one of the two is required.
    type: bool
    default: false
  refresh_loop:
    description:
      - Before computing sizes, refresh the capacity (C(losetup --set-capacity)) of every loop
        device in the table whose backing file changed size, so a file grown with C(truncate)
        is seen.
      - Defaults to V(true) with O(grow=true) and V(false) with O(table).
      - A refresh that would make a loop device smaller is refused unless O(allow_shrink=true).
    type: bool
  noflush:
    description:
      - Pass C(--noflush) to C(dmsetup suspend), so I/O queued in the device is not flushed
        first (needed for a thin pool that is out of data space, whose queued writes would
        otherwise hold the suspend).
    type: bool
    default: false
  allow_shrink:
    description:
      - Allow a table whose total length is smaller than the current one. Anything stored
        past the new end is lost.
      - Shrinking a thin pool's data length is always refused, whatever this says.
    type: bool
    default: false
  allow_lvm_owned:
    description:
      - Allow loading O(table) into a device that belongs to LVM (its device-mapper UUID
        starts with C(LVM-)). LVM keeps its own mapping in the VG metadata and writes it back
        on the next activation; a table that maps another LV's extents corrupts that LV.
      - Never allows O(grow=true) on an LVM device; use C(lvextend).
    type: bool
    default: false
  allow_target_change:
    description:
      - Allow a O(table) whose target types differ from the live table's, for example an
        C(error) table replacing a C(thin-pool) one. A different target changes what the
        device is; its data may become unreadable.
    type: bool
    default: false
  suspend_timeout:
    description:
      - Seconds C(dmsetup suspend) may take (it waits for the I/O in flight, and without
        O(noflush) flushes what is queued) before it is stopped. The device is then resumed
        with its previous table and the task fails.
      - C(dmsetup reload), C(resume) and C(clear) get 60 seconds each.
    type: int
    default: 120
extends_documentation_fragment:
  - container_storage.devicemapper.host_lock
attributes:
  check_mode:
    support: full
    description: Reads the device and reports the commands it would run; nothing is
      suspended, reloaded, resumed or refreshed.
  diff_mode:
    support: full
    description: The table before and after.
notes:
  - Needs C(dmsetup), C(lsblk) and C(blockdev); C(losetup) and C(stat) when loop devices are
    refreshed. Runs as root.
  - In check mode the size of a loop device after its refresh is computed from its backing
    file, the way the kernel does.
seealso:
  - name: Docker's devicemapper storage driver guide
    description: Resizing a loop-lvm or direct-lvm thin pool.
    link: https://docs.docker.com/engine/storage/drivers/device-mapper-driver/
"""

EXAMPLES = r"""
- name: Grow Docker's loop-lvm pool after its data file was enlarged with truncate
  container_storage.devicemapper.dm_reload:
    name: docker-8:1-123141-pool
    grow: true

- name: Set an explicit table (device paths or MAJ:MIN, either works)
  container_storage.devicemapper.dm_reload:
    name: scratch
    table: "0 4194304 linear /dev/loop0 2048"

- name: Replace a device's linear table with an error target (a different target type)
  container_storage.devicemapper.dm_reload:
    name: scratch
    table: "0 4194304 error"
    allow_target_change: true

- name: Preview a change
  container_storage.devicemapper.dm_reload:
    name: scratch
    grow: true
  check_mode: true
  diff: true
  register: preview
"""

RETURN = r"""
name:
  description: The device-mapper name the task worked on.
  returned: always
  type: str
  sample: docker-8:1-123141-pool
table_before:
  description: The live table when the task started, as C(dmsetup table) prints it.
  returned: when the device exists
  type: str
  sample: "0 4194304 thin-pool 7:4 7:3 128 32768 1 skip_block_zeroing"
table_after:
  description:
    - The table live after the task; in check mode, the table it would load.
    - Device references are in C(MAJ:MIN) form.
  returned: when the device exists
  type: str
  sample: "0 6291456 thin-pool 7:4 7:3 128 32768 1 skip_block_zeroing"
length_sectors:
  description: Total length of RV(table_after) in 512-byte sectors.
  returned: when the device exists
  type: int
  sample: 6291456
loop_devices_refreshed:
  description: Loop devices whose capacity was (in check mode, would be) refreshed.
  returned: always
  type: list
  elements: str
  sample: [/dev/loop3]
commands:
  description: Commands run, in order; in check mode followed by the mutating commands
    it would run.
  returned: always
  type: list
  elements: str
msg:
  description: What happened, in a sentence.
  returned: always
  type: str
  sample: "refreshed /dev/loop3 to 6291456 sectors; grew 'docker-8:1-123141-pool' from 4194304 to 6291456 sectors"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.container_storage.devicemapper.plugins.module_utils._dm_reload import (
    SUSPEND_TIMEOUT,
    DmReloadModule,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._lock import LOCK_ARGUMENT_SPEC


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        table=dict(type="str"),
        grow=dict(type="bool", default=False),
        refresh_loop=dict(type="bool"),
        noflush=dict(type="bool", default=False),
        allow_shrink=dict(type="bool", default=False),
        allow_lvm_owned=dict(type="bool", default=False),
        allow_target_change=dict(type="bool", default=False),
        suspend_timeout=dict(type="int", default=SUSPEND_TIMEOUT),
    )
    argument_spec.update(LOCK_ARGUMENT_SPEC)
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("table", "grow")],
        supports_check_mode=True,
    )
    module.exit_json(**DmReloadModule(module).run())


if __name__ == "__main__":
    main()
