#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: docker_daemon_config
short_description: Set Docker's storage driver and storage options in daemon.json, validated first
version_added: 1.0.0
description:
  - Manages only the C(storage-driver) and C(storage-opts) keys of Docker's C(daemon.json), and the
    C(containerd-snapshotter) entry of its C(features) object (O(containerd_snapshotter)).
    Every other key stays as it was, in its order, also the other C(features) entries.
  - Validates C(dm.*) options with the rules Docker Engine 24 applies when the devicemapper
    driver starts (unknown keys, sizes, booleans, percentages, option combinations), so a
    configuration Docker would refuse is never written.
  - Fails before writing when the same settings are also given as dockerd flags
    (C(--storage-driver), C(-s), C(--storage-opt)) in the C(docker.service) unit, its drop-ins
    or environment files such as C(/etc/sysconfig/docker-storage), because dockerd refuses to start then.
  - Docker Engine 25 removed the devicemapper driver. On a host whose C(dockerd --version) is 25 or
    newer the module warns, and fails when O(storage_driver=devicemapper) is asked for.
  - On Docker Engine 24 and newer a thin pool can serve Docker through containerd's devmapper snapshotter
    instead, with the containerd image store, O(containerd_snapshotter=true) and O(storage_driver=devmapper).
    The pool itself is set in containerd's C(config.toml) (M(container_storage.devicemapper.containerd_devmapper)).
  - Does not restart Docker; notify a handler that restarts the C(docker) service.
  - Holds the collection's host lock from reading the file to writing it, so two runs at once never
    lose each other's edit. A file that something else changed between the read and the write is not
    overwritten; the module fails and keeps that change.
author:
  - container_storage developers (@container-storage)
options:
  path:
    description:
      - Path of Docker's daemon configuration file.
      - A missing file is created (mode C(0644), owned by root) only when there is something to write.
        An existing file is replaced atomically and keeps its mode, owner, group and SELinux context;
        when the owner cannot be kept (the module does not run as root) it fails and changes nothing.
      - The file is read as bytes and decoded as UTF-8 whatever the locale. A file that cannot be used
        is never overwritten, also with O(state=absent); the module fails naming the file and what is
        wrong, and changes nothing. That is a file that is not valid JSON (with the line and column),
        not valid UTF-8 (with the byte offset; no byte is ever replaced), starts with a byte order mark,
        holds V(NaN), V(Infinity) or a number too large for dockerd, has a key twice in one object, is
        not a JSON object, or has a C(storage-driver), C(storage-opts), C(data-root), C(graph) or
        C(features) value of a type dockerd cannot read.
      - Must not be empty.
    type: path
    default: /etc/docker/daemon.json
  state:
    description:
      - V(present) sets the storage settings given in O(storage_driver) and O(storage_opts).
      - V(absent) removes the C(storage-driver) and C(storage-opts) keys and nothing else (C(features),
        with C(containerd-snapshotter), stays). A file left with no keys is kept as C({}).
    type: str
    choices: [present, absent]
    default: present
  storage_driver:
    description:
      - The C(storage-driver) value, for example V(devicemapper).
      - With Docker's graph drivers (C(features.containerd-snapshotter) not true in the resulting file),
        one of the storage drivers Docker Engine has, V(overlay2), V(devicemapper), V(btrfs), V(zfs),
        V(aufs), V(overlay), V(vfs), V(fuse-overlayfs) or V(windowsfilter); any other name makes
        dockerd fail to start, so it is refused.
      - With the containerd image store (O(containerd_snapshotter=true), or already on in the file) it names
        a containerd snapshotter, V(devmapper) for a thin pool (or V(overlayfs), V(native), V(btrfs), V(zfs),
        V(blockfile), V(erofs), V(aufs)). A graph driver's name is refused then, naming the snapshotter
        that does the same job (V(devicemapper) is the legacy graph driver; the snapshotter is V(devmapper)).
      - When not given, an existing C(storage-driver) is left as it is. An empty string is refused
        (it is not a way to remove the key; use O(state=absent)).
    type: str
  storage_opts:
    description:
      - Storage options as a dictionary of full option names to values, for example
        C(dm.thinpooldev) set to V(/dev/mapper/docker-thinpool) and C(dm.use_deferred_removal) set to V(true).
      - Rendered as the C(storage-opts) list of C(key=value) strings in the order given; booleans
        become C(true)/C(false). The whole list is replaced, so the file ends up with exactly these
        options; an empty dictionary removes C(storage-opts).
      - C(dm.mkfsarg) and C(dm.mountopt), which dockerd reads repeatedly, may be given a list of values.
      - Keys are compared trimmed and lower-cased, as dockerd does. With C(storage-driver) V(devicemapper)
        every key must be a C(dm.*) option Docker 24 knows, and values must pass its checks.
      - When not given, an existing C(storage-opts) is left as it is (and still validated).
      - Empty values, empty lists, V(NaN) and infinite numbers are refused. So is an empty
        C(dm.thinpooldev) (or just V(/dev/mapper/)), C(dm.directlvm_device), C(dm.datadev),
        C(dm.metadatadev), C(dm.mkfsarg) or C(dm.mountopt), given here or already in the file,
        because dockerd would take it without a word and, for the devices, fall back to loop-lvm.
    type: dict
  containerd_snapshotter:
    description:
      - Sets C(features.containerd-snapshotter) in C(daemon.json), the containerd image store. V(true) makes
        Docker keep images in containerd, using the snapshotter that O(storage_driver) names (containerd's
        default, V(overlayfs), without one); V(false) keeps Docker on its graph drivers.
      - The other entries of C(features) stay as they are.
      - When not given, C(features) is left as it is; what it says still decides how O(storage_driver) and
        the file's C(storage-driver) and C(storage-opts) are checked.
      - With the image store on, C(dm.*) storage options are refused (they belong to the legacy devicemapper
        graph driver; the devmapper snapshotter takes its pool from containerd's C(config.toml)), and so is
        C(userns-remap) in the file (dockerd cannot combine the two, moby/moby#47377).
      - V(true) is refused on a C(dockerd) older than 24.0, which has no containerd image store (Docker Engine
        24.0 introduced it as experimental, moby/moby#43735); on 24 the module warns that it is experimental.
      - Ignored with O(state=absent), which never changes C(features).
      - Switching the image store hides the images and containers of the other store until it is switched
        back (nothing is deleted).
    type: bool
  backup:
    description:
      - Keep a copy of the previous file beside it, with a timestamp in its name, before changing it.
    type: bool
    default: false
  check_conflicts:
    description:
      - Fail when the file would hold storage settings and dockerd also gets storage flags
        (C(--storage-driver), C(-s), C(--storage-opt)) from the effective C(ExecStart=) or an
        C(Environment=) of C(docker.service) and its drop-ins, from an C(EnvironmentFile=) of the unit,
        or from one of O(env_files).
      - The unit is read with C(systemctl cat docker); without systemctl, or when it fails, the files in
        O(systemd_unit_dirs) are read.
    type: bool
    default: true
  service:
    description:
      - The systemd unit that runs dockerd, without its C(.service) suffix, as the host names it
        (C(docker), C(docker-ce), C(snap.docker.dockerd)). O(check_conflicts) reads this unit
        (C(systemctl cat <service>), or C(<service>.service) under O(systemd_unit_dirs)).
    type: str
    default: docker
    version_added: 1.0.0
  systemd_unit_dirs:
    description:
      - Directories to read C(docker.service) and C(docker.service.d/*.conf) from, highest priority first.
      - When given, they are read instead of asking C(systemctl cat docker) (useful for a chroot or image).
      - When not given, C(/etc/systemd/system), C(/run/systemd/system), C(/lib/systemd/system) and
        C(/usr/lib/systemd/system) are read when systemctl is not available.
      - An empty string in the list is refused.
    type: list
    elements: path
  env_files:
    description:
      - Environment files searched for dockerd storage flags, besides those the unit names in C(EnvironmentFile=).
      - An empty string in the list is refused.
    type: list
    elements: path
    default: [/etc/sysconfig/docker-storage, /etc/sysconfig/docker, /etc/default/docker]
  dockerd_version:
    description:
      - The Docker Engine version (C(MAJOR.MINOR), as RV(container_storage.devicemapper.docker_storage_info#module:dockerd_version)
        returns it) when the caller has just read it; the module then does not run C(dockerd --version) itself.
      - The checks that depend on the version (devicemapper only up to 24, the containerd image store from 24)
        use it as given.
    type: str
extends_documentation_fragment:
  - container_storage.devicemapper.host_lock
attributes:
  check_mode:
    description: Reports what would change and writes nothing.
    support: full
  diff_mode:
    description: Shows the file's JSON before and after.
    support: full
notes:
  - Docker reads C(daemon.json) only at start; restart the C(docker) service for changes to take effect.
  - Docker Engine 23 and later never choose devicemapper by themselves; set O(storage_driver=devicemapper).
  - With the containerd image store, restart containerd (after changing its C(config.toml)) before Docker.
  - Values that name devices (C(dm.thinpooldev), C(dm.directlvm_device)) are not looked up on the host;
    Docker checks them when it starts.
seealso:
  - name: Use the Device Mapper storage driver
    description: Docker's guide to devicemapper in direct-lvm mode.
    link: https://docs.docker.com/engine/storage/drivers/device-mapper-driver/
  - name: containerd image store with Docker Engine
    description: Docker's guide to the containerd image store and its snapshotters.
    link: https://docs.docker.com/engine/storage/containerd/
  - module: container_storage.devicemapper.containerd_devmapper
"""

EXAMPLES = r"""
- name: Point Docker at an existing LVM thin pool, keeping the rest of daemon.json
  container_storage.devicemapper.docker_daemon_config:
    storage_driver: devicemapper
    storage_opts:
      dm.thinpooldev: /dev/mapper/docker-thinpool
      dm.use_deferred_removal: true
      dm.use_deferred_deletion: true
    backup: true
  notify: Restart docker

- name: Let Docker build its own pool on a spare disk
  container_storage.devicemapper.docker_daemon_config:
    storage_driver: devicemapper
    storage_opts:
      dm.directlvm_device: /dev/xvdf
      dm.thinp_percent: 95
      dm.thinp_metapercent: 1
      dm.thinp_autoextend_threshold: 80
      dm.thinp_autoextend_percent: 20
      dm.directlvm_device_force: false

- name: Docker 25+ on a thin pool, through containerd's devmapper snapshotter (containerd configured first)
  container_storage.devicemapper.docker_daemon_config:
    containerd_snapshotter: true
    storage_driver: devmapper
  notify: Restart docker

- name: Drop the storage settings again (other keys stay)
  container_storage.devicemapper.docker_daemon_config:
    state: absent
"""

RETURN = r"""
config:
  description: The daemon.json document as it is (or, in check mode, would be) after the task.
  returned: success
  type: dict
  sample: {"log-level": "warn", "features": {"containerd-snapshotter": true}, "storage-driver": "devmapper"}
backup_file:
  description: Path of the backup copy of the previous file; null when none was made.
  returned: success
  type: str
  sample: /etc/docker/daemon.json.12345.2024-01-01@10:00:00~
path:
  description: The daemon.json path.
  returned: always
  type: str
  sample: /etc/docker/daemon.json
dockerd_version:
  description: Docker Engine version reported by C(dockerd --version), or as given in O(dockerd_version); null when dockerd is not installed.
  returned: success
  type: str
  sample: "20.10"
conflicts:
  description: Storage flags dockerd also gets outside daemon.json, each as the file, a colon and the flag.
  returned: always
  type: list
  elements: str
  sample: ["/etc/systemd/system/docker.service.d/10-storage.conf: ExecStart has --storage-driver overlay2"]
commands:
  description: Commands the module ran (all read-only).
  returned: always
  type: list
  elements: str
  sample: ["dockerd --version", "systemctl cat docker"]
diff:
  description: The file's JSON before and after, with C(--diff).
  returned: when diff mode is on
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.container_storage.devicemapper.plugins.module_utils._daemon_json import DEFAULT_PATH
from ansible_collections.container_storage.devicemapper.plugins.module_utils._docker import DaemonConfigManager
from ansible_collections.container_storage.devicemapper.plugins.module_utils._dockerd_flags import DEFAULT_ENV_FILES
from ansible_collections.container_storage.devicemapper.plugins.module_utils._lock import LOCK_ARGUMENT_SPEC


def main():
    argument_spec = dict(LOCK_ARGUMENT_SPEC)
    argument_spec.update(
        path=dict(type="path", default=DEFAULT_PATH),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        storage_driver=dict(type="str"),
        storage_opts=dict(type="dict"),
        containerd_snapshotter=dict(type="bool"),
        backup=dict(type="bool", default=False),
        check_conflicts=dict(type="bool", default=True),
        systemd_unit_dirs=dict(type="list", elements="path"),
        service=dict(type="str", default="docker"),
        env_files=dict(type="list", elements="path", default=list(DEFAULT_ENV_FILES)),
        dockerd_version=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_json(**DaemonConfigManager(module).run())


if __name__ == "__main__":
    main()
