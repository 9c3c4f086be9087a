#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: containerd_devmapper
short_description: Configure containerd's devmapper snapshotter on an existing thin pool
version_added: 1.0.0
description:
  - Sets the C([plugins."io.containerd.snapshotter.v1.devmapper"]) section of containerd's
    C(config.toml), and optionally makes devmapper the CRI plugin's default snapshotter (for kubelet).
  - Docker Engine 25 and newer use thin pools only this way, through the containerd image store.
  - Edits only the lines of the settings it manages. Every other setting, its order, and every comment
    stay as they were; the edited file is parsed again and must hold exactly the old values plus the
    ones asked for before it is written.
  - Handles config version 2 (containerd 1.x), 3 (containerd 2.0 to 2.2) and 4 (containerd 2.3). A file
    that is not valid TOML, has no C(version) (version 1), or writes these sections as inline tables or
    dotted keys is refused and left untouched.
  - Checks, as containerd does, that O(base_image_size) is a go-units size and that O(pool_name) is an
    existing device-mapper device with a C(thin-pool) table (C(dmsetup table)). containerd never creates
    the pool; M(container_storage.devicemapper.thinpool) does.
  - Does not restart containerd; RV(restart_needed) says when the file changed. Restart containerd
    before Docker.
author:
  - container_storage developers (@container-storage)
extends_documentation_fragment:
  - container_storage.devicemapper.host_lock
attributes:
  check_mode:
    description: Reports what would change (and still checks the pool) and writes nothing.
    support: full
  diff_mode:
    description: Shows the file before and after.
    support: full
options:
  path:
    description:
      - containerd's configuration file.
      - A missing file, or one without any setting, is created or filled with C(version = 2) for
        containerd 1.x or C(version = 3) for 2.x (from C(containerd --version)), then the sections.
      - An existing file keeps its mode and owner and is replaced atomically.
    type: path
    default: /etc/containerd/config.toml
  state:
    description:
      - V(present) sets the settings given below; settings not given stay as they are in the file.
      - V(absent) removes a configured devmapper section (the plugin then reports C(skip)) and sets a CRI
        default snapshotter of devmapper back to C(overlayfs). It never touches the pool or O(root_path);
        the images and containers on the pool stay there.
    type: str
    choices: [present, absent]
    default: present
  pool_name:
    description:
      - The device-mapper name of the thin pool, as in C(/dev/mapper/) (for VG C(docker) and LV
        C(thinpool), V(docker-thinpool)). A C(/dev/mapper/) path is accepted and written as the name.
      - Required with O(state=present).
    type: str
  root_path:
    description:
      - Directory for the snapshotter's metadata (C(metadata.db) and the pool's device ids).
      - When not given, an existing value stays; containerd's default is
        C(/var/lib/containerd/io.containerd.snapshotter.v1.devmapper).
    type: path
  base_image_size:
    description:
      - Size of each container's thin volume, in go-units as containerd reads it, binary whatever the
        letters say (V(8GB) is 8 GiB). Required with O(state=present).
    type: str
  async_remove:
    description:
      - Remove thin devices in the background during containerd's garbage collection.
      - When not given, an existing value stays (containerd's default is false).
    type: bool
  discard_blocks:
    description:
      - Discard the blocks of a removed thin device, giving the space back to the pool at once.
      - When not given, an existing value stays (containerd's default is false).
    type: bool
  fs_type:
    description:
      - Filesystem made on the base thin volume. When not given, an existing value stays (containerd's
        default is ext4).
    type: str
    choices: [ext4, xfs]
  fs_options:
    description:
      - Extra options for that filesystem's mkfs (containerd applies them to ext4).
    type: str
  cri_default_snapshotter:
    description:
      - V(true) makes devmapper the CRI plugin's default snapshotter, so kubelet's pods use the pool
        (C(plugins."io.containerd.grpc.v1.cri".containerd) in version 2,
        C(plugins."io.containerd.cri.v1.images") in versions 3 and 4).
      - V(false) sets a CRI default of devmapper back to C(overlayfs); another value stays.
      - When not given, the CRI setting stays as it is. Docker does not read it.
    type: bool
  require_pool:
    description:
      - V(true) refuses a O(pool_name) that does not exist yet.
      - V(false) plans the file for a pool that is built later (the devicemapper role compares the
        file in check mode before it builds the pool, so a file it cannot use is refused before any
        change); the result's RV(pool) then has C(exists) V(false). A device of that name that is not a
        C(thin-pool) is refused either way. Outside check mode the file is written all the same, and
        containerd's devmapper plugin does not load until the pool exists.
    type: bool
    default: true
  backup:
    description:
      - Keep a copy of the previous file beside it, with a timestamp in its name, before changing it.
    type: bool
    default: false
notes:
  - containerd must be restarted to read the file; restart it before Docker, which uses it.
  - A setting in a file named by C(imports) overrides this file's; the module warns when the file
    imports others but does not read them.
seealso:
  - module: container_storage.devicemapper.thinpool
  - name: containerd's devmapper snapshotter
    description: The settings and their meaning.
    link: https://github.com/containerd/containerd/blob/main/docs/snapshotters/devmapper.md
"""

EXAMPLES = r"""
- name: Use the docker/thinpool LV for containerd's devmapper snapshotter
  container_storage.devicemapper.containerd_devmapper:
    pool_name: docker-thinpool
    root_path: /var/lib/containerd/devmapper
    base_image_size: 8GB
    discard_blocks: true
    fs_type: ext4
  notify: Restart containerd

- name: A Kubernetes node, whose pods use the pool too
  container_storage.devicemapper.containerd_devmapper:
    pool_name: docker-thinpool
    base_image_size: 10GB
    cri_default_snapshotter: true
  notify: Restart containerd

- name: Stop using the pool (the pool and its data stay)
  container_storage.devicemapper.containerd_devmapper:
    state: absent
    backup: true
  notify: Restart containerd
"""

RETURN = r"""
path:
  description: The configuration file.
  returned: always
  type: str
config_version:
  description: The file's config version (for a new file, the one written).
  returned: when the file was read
  type: int
  sample: 2
settings:
  description: The devmapper snapshotter's settings in the file after the run (what was planned, in check mode).
  returned: when the file was read
  type: dict
  sample: {pool_name: docker-thinpool, base_image_size: 8GB, discard_blocks: true, fs_type: ext4}
previous_settings:
  description: The devmapper snapshotter's settings in the file before the run.
  returned: when the file was read
  type: dict
cri_snapshotter:
  description: The CRI plugin's default snapshotter set in the file after the run; null when the file does not set it.
  returned: when the file was read
  type: str
  sample: devmapper
previous_cri_snapshotter:
  description: The same before the run.
  returned: when the file was read
  type: str
pool:
  description:
    - The thin pool as C(dmsetup table) showed it.
    - With O(require_pool=false) and no such device, only C(name) and C(exists=false).
  returned: with O(state=present), when the pool was checked
  type: dict
  sample: {name: docker-thinpool, exists: true, target: thin-pool, size_bytes: 2147483648, data_block_sectors: 1024}
containerd_version:
  description: containerd's version, read when a new file needed a config version.
  returned: when C(containerd --version) ran
  type: str
  sample: 1.7.24
restart_needed:
  description: The file changed (or would, in check mode); containerd reads it only when it starts.
  returned: always
  type: bool
backup_file:
  description: The copy made by O(backup), or null.
  returned: always
  type: str
commands:
  description: The commands run, in order.
  returned: always
  type: list
  elements: str
  sample: [dmsetup table docker-thinpool]
msg:
  description: What happened.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.container_storage.devicemapper.plugins.module_utils._containerd import (
    DEFAULT_PATH,
    FS_TYPES,
    DevmapperConfigManager,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._lock import LOCK_ARGUMENT_SPEC


def main():
    argument_spec = dict(LOCK_ARGUMENT_SPEC)
    argument_spec.update(
        path=dict(type="path", default=DEFAULT_PATH),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        pool_name=dict(type="str"),
        root_path=dict(type="path"),
        base_image_size=dict(type="str"),
        async_remove=dict(type="bool"),
        discard_blocks=dict(type="bool"),
        fs_type=dict(type="str", choices=list(FS_TYPES)),
        fs_options=dict(type="str"),
        cri_default_snapshotter=dict(type="bool"),
        require_pool=dict(type="bool", default=True),
        backup=dict(type="bool", default=False),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ("pool_name", "base_image_size"))],
        supports_check_mode=True,
    )
    module.exit_json(**DevmapperConfigManager(module).run())


if __name__ == "__main__":
    main()
