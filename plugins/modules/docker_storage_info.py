#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: docker_storage_info
short_description: Report which storage driver and pool a host's Docker uses
version_added: 1.0.0
description:
  - Reads, without changing anything, what decides Docker's storage on a host in one call, the
    version of C(dockerd) (Docker Engine 25 and newer have no devicemapper driver), the state of
    the Docker service and socket, C(daemon.json), C(docker info) when Docker is running, and the
    data root.
  - RV(current) says what Docker runs on now (from C(docker info)), or, when it is stopped, what
    it would start with (from C(daemon.json), or the one driver its data root already holds).
  - The P(container_storage.devicemapper.devicemapper#role) role uses it to decide whether storage is
    about to change, so that Docker is stopped only then.
  - C(daemon.json) is read first, as bytes decoded as UTF-8 whatever the locale, with the same reader
    as M(container_storage.devicemapper.docker_daemon_config). When it exists but cannot be used the
    module fails, before running any command, with a message naming the file and the key or byte, and
    returns it in RV(daemon_json_error); what Docker would start with, and its data root, cannot be
    told from such a file, and a guess (such as C(/var/lib/docker)) would be reported as a fact.
    That is a file that is not valid JSON, not valid UTF-8, starts with a byte order mark, holds
    V(NaN), V(Infinity) or a number too large for dockerd, is not a JSON object, or has a
    C(storage-driver), C(storage-opts), C(data-root), C(graph) or C(features) value of a type dockerd
    cannot read (or an empty C(data-root)). dockerd refuses to start with each of those.
  - A key given twice in one object is read as dockerd reads it, the last one wins.
  - Docker Engine 24 and newer can keep images in containerd (the containerd image store,
    C(features.containerd-snapshotter) in C(daemon.json)); C(docker info) then shows the containerd
    snapshotter's name as the driver and C(driver-type) V(io.containerd.snapshotter.v1).
    RV(current.image_store) and RV(current.snapshotter) say so. When containerd is installed, the
    module also runs C(containerd --version) and C(ctr plugins ls) and reports containerd's version and
    the status of its devmapper snapshotter plugin in RV(containerd).
  - When Docker uses (or C(daemon.json) sets) the devmapper snapshotter and containerd reports that
    plugin as V(skip) or V(error), the module warns (measured in the Debian 13 lab, with the plugin in
    error, its pool missing, dockerd still starts and C(docker info) still shows C(devmapper)).
extends_documentation_fragment:
  - container_storage.devicemapper.attributes.info_module
options:
  path:
    description:
      - Path of Docker's daemon configuration file. A missing file is reported as RV(daemon_json=null).
      - Must not be empty.
    type: path
    default: /etc/docker/daemon.json
  service:
    description:
      - Name of Docker's systemd service, without C(.service); its C(.socket) is read too.
      - Letters, digits, C(_), C(.), C(:), C(@), a backslash (systemd's escapes) and C(-), not
        starting with C(-); a name with a C(.service) or C(.socket) suffix, or an empty one, is refused.
    type: str
    default: docker
  read_containerd:
    description:
      - Whether to run C(containerd --version) and C(ctr plugins ls) (when containerd is installed) and
        report them in RV(containerd).
      - V(false) skips both commands (each costs a second or more on a slow host); the devicemapper
        role does so, as Docker's graph driver does not use containerd's snapshotters. The warning
        about an unusable devmapper snapshotter plugin then cannot be given.
    type: bool
    default: true
  read_storage_flags:
    description:
      - Whether to read the storage flags C(dockerd) gets outside C(daemon.json) (C(--storage-driver),
        C(-s), C(--storage-opt) in the unit's C(ExecStart) or C(Environment), or in its environment files
        C(/etc/sysconfig/docker-storage), C(/etc/sysconfig/docker), C(/etc/default/docker)), as
        M(container_storage.devicemapper.docker_daemon_config) reads them, and report them in
        RV(storage_flags). One C(systemctl cat) more.
      - With RV(daemon_json), RV(daemon_json_problem) and RV(dockerd_version) this is everything the
        P(container_storage.devicemapper.daemon_json_plan#filter) filter needs to plan C(daemon.json) on the
        controller as the module would, without a module run; the devicemapper role does so.
    type: bool
    default: false
    version_added: 1.0.0
seealso:
  - module: container_storage.devicemapper.docker_daemon_config
  - module: container_storage.devicemapper.thinpool_info
author:
  - container_storage.devicemapper contributors (@container-storage)
"""

EXAMPLES = r"""
- name: Read Docker's storage
  container_storage.devicemapper.docker_storage_info:
  register: docker_storage

- name: Fail on hosts that still run loop-lvm
  ansible.builtin.assert:
    that: not docker_storage.current.loop
    fail_msg: "{{ inventory_hostname }} runs devicemapper on loop files (testing only)"
"""

RETURN = r"""
dockerd:
  description: Path of C(dockerd), or null when it is not installed.
  returned: always
  type: str
  sample: /usr/sbin/dockerd
dockerd_version:
  description: Major and minor version of C(dockerd), or null.
  returned: always
  type: str
  sample: "20.10"
dockerd_version_text:
  description: What C(dockerd --version) printed.
  returned: always
  type: str
  sample: Docker version 20.10.24+dfsg1, build 5d6db84
devicemapper_supported:
  description: Whether this C(dockerd) still has the devicemapper driver (false from Engine 25); null when unknown.
  returned: always
  type: bool
service:
  description: State of the Docker service.
  returned: always
  type: dict
  contains:
    loaded:
      description: The unit exists.
      type: bool
      returned: always
    active:
      description: The unit is running.
      type: bool
      returned: always
    enabled:
      description: The unit starts at boot.
      type: bool
      returned: always
socket:
  description: State of the Docker socket unit, with the same keys as RV(service).
  returned: always
  type: dict
daemon_json:
  description: The parsed C(daemon.json), or null when it does not exist.
  returned: success
  type: dict
daemon_json_problem:
  description:
    - Why M(container_storage.devicemapper.docker_daemon_config) would refuse to rewrite C(daemon.json)
      although dockerd reads it (a key twice in one object, which dockerd takes as the last one), or null.
  returned: success
  type: str
  version_added: 1.0.0
storage_flags:
  description:
    - With O(read_storage_flags=true), the storage flags C(dockerd) gets outside C(daemon.json), each as
      "<file>" followed by a colon and the flag; null when not read. dockerd refuses to start when a setting is both a flag and in
      the file.
  returned: success
  type: list
  elements: str
  sample: ["/etc/default/docker: --storage-driver overlay2"]
  version_added: 1.0.0
daemon_json_error:
  description:
    - Why C(daemon.json) cannot be used (for example invalid JSON, with line and column); the module
      failed. The same text as C(msg).
  returned: when daemon.json cannot be used
  type: str
  sample: '/etc/docker/daemon.json: "storage-opts" must be an array of "key=value" strings, not 5 (a number)
    (dockerd refuses to start); the file was left untouched'
info:
  description: From C(docker info) when Docker runs, else null.
  returned: always
  type: dict
  contains:
    driver:
      description: Storage driver.
      type: str
      returned: success
    driver_type:
      description:
        - The C(driver-type) status line, V(io.containerd.snapshotter.v1) with the containerd image store;
          null with a graph driver.
      type: str
      returned: success
      sample: io.containerd.snapshotter.v1
    driver_status:
      description: The driver's status lines, as a dict (C(Pool Name), C(Data loop file), C(driver-type), ...).
      type: dict
      returned: success
    root_dir:
      description: Docker's data root.
      type: str
      returned: success
    server_version:
      description: Docker Engine's version.
      type: str
      returned: success
info_error:
  description: Why C(docker info) failed while the service is active, or null.
  returned: always
  type: str
current:
  description: What Docker runs on now, or would start with.
  returned: always
  type: dict
  contains:
    source:
      description: Where this comes from, C(docker info), C(daemon.json), C(data root) or C(none).
      type: str
      returned: always
    driver:
      description: Storage driver, or null when nothing says.
      type: str
      returned: always
    pool:
      description: Device-mapper thin pool name, or null.
      type: str
      returned: always
    loop:
      description: Whether devicemapper runs on loop files (loop-lvm).
      type: bool
      returned: always
    image_store:
      description:
        - V(containerd) when Docker keeps its images in containerd (the containerd image store, with
          RV(current.driver) the snapshotter's name), V(graphdriver) when a Docker storage driver
          keeps them, null when nothing says.
        - From C(daemon.json), V(containerd) means C(features.containerd-snapshotter) is true; a
          dockerd older than 24 ignores that flag.
      type: str
      returned: always
      sample: containerd
    snapshotter:
      description:
        - The containerd snapshotter Docker uses (for example V(devmapper) or V(overlayfs)), or null with a
          graph driver. From C(daemon.json) without C(storage-driver) it is containerd's default, V(overlayfs).
        - The devmapper snapshotter's pool is set in containerd's C(config.toml) (see
          M(container_storage.devicemapper.containerd_devmapper)), so RV(current.pool) is null then.
      type: str
      returned: always
      sample: devmapper
containerd:
  description:
    - containerd on the host; the commands run only when C(containerd) is installed and
      O(read_containerd=true). With O(read_containerd=false) only RV(containerd.installed) and
      RV(containerd.path) are filled in (they need no command); the other fields are null.
  returned: always
  type: dict
  contains:
    installed:
      description: Whether C(containerd) is installed.
      type: bool
      returned: always
    path:
      description: Path of C(containerd), or null.
      type: str
      returned: always
      sample: /usr/bin/containerd
    version:
      description: containerd's version (major.minor.patch) from C(containerd --version), or null.
      type: str
      returned: always
      sample: 1.7.24
    version_text:
      description: What C(containerd --version) printed, or null.
      type: str
      returned: always
      sample: containerd github.com/containerd/containerd 1.7.24~ds1 1.7.24~ds1-6+deb13u1
    devmapper_plugin:
      description:
        - Status of the C(io.containerd.snapshotter.v1 devmapper) plugin in C(ctr plugins ls),
          V(ok) (configured and working), V(skip) (not configured) or V(error) (configured, but it
          failed to start, for example a missing pool); null when it could not be read or is not listed.
      type: str
      returned: always
      sample: ok
    plugins_error:
      description: Why C(ctr plugins ls) could not be read (for example containerd is not running), or null.
      type: str
      returned: always
data_root:
  description: Docker's data root.
  returned: always
  type: str
  sample: /var/lib/docker
data_root_entries:
  description: Names in the data root.
  returned: always
  type: list
  elements: str
data_root_is_mount:
  description: Whether the data root is a mount point.
  returned: always
  type: bool
lvchange:
  description: Path of C(lvchange), or null when LVM is not installed.
  returned: always
  type: str
commands:
  description: The read-only commands run.
  returned: always
  type: list
  elements: str
check_mode:
  description:
    - Whether the module ran in check mode, asked for by C(--check) or by C(check_mode) on the task, a block,
      or an include's C(apply).
    - Roles read it here because C(ansible_check_mode) reflects only C(--check).
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.container_storage.devicemapper.plugins.module_utils._daemon_json import DEFAULT_PATH
from ansible_collections.container_storage.devicemapper.plugins.module_utils._docker_storage import DockerStorageInfo


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default=DEFAULT_PATH),
            service=dict(type="str", default="docker"),
            read_containerd=dict(type="bool", default=True),
            read_storage_flags=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**DockerStorageInfo(module).run())


if __name__ == "__main__":
    main()
