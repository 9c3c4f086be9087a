#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: lvm_profile
short_description: Manage an LVM metadata profile and the logical volumes that use it
version_added: 1.0.0
description:
  - Writes an LVM metadata profile C(<profile_dir>/<name>.profile), for example the
    autoextend policy of a thin pool from Docker's direct-lvm guide, and attaches it to
    logical volumes with C(lvchange --metadataprofile).
  - Autoextend only happens when the pool's profile sets a threshold below 100, the pool
    is monitored by dmeventd (C(lvs -o seg_monitor)) and its volume group has free space.
    The module warns when a thin pool it attaches the profile to misses one of these.
  - The file is written atomically (a temporary file in the same directory, then a
    rename), owned by root with mode C(0644) and a header saying it is managed.
    Any other content, such as a hand edit, is replaced and C(--diff) shows the change.
  - Keys in O(settings) are checked against the list the host's own LVM prints with
    C(lvmconfig --typeconfig profilable-metadata), not a list kept in this collection.
  - Docker Engine 25 removed the devicemapper storage driver; the profile is plain LVM
    and works with any thin pool.
author:
  - container_storage developers (@container-storage)
extends_documentation_fragment:
  - container_storage.devicemapper.host_lock
attributes:
  check_mode:
    support: full
    description: Nothing is written or attached; RV(commands) lists what would run.
  diff_mode:
    support: full
    description: The file's content and the list of LVs using the profile, before and after.
options:
  name:
    description:
      - The profile name. The file is C(<profile_dir>/<name>.profile).
      - Only letters, digits and C(+ _ . -) are accepted, not starting with C(-), at most 127
        characters (the names LVM accepts for volume groups). Anything else, such as C(/),
        whitespace, quotes, backslashes, C(#) or a trailing newline, is refused, because LVM writes the
        name unescaped into the volume group metadata.
      - An empty string is refused (a template that rendered to nothing).
    type: str
    required: true
  state:
    description:
      - V(present) writes the file and attaches the profile to O(attach_to).
      - V(absent) detaches the profile from every LV that uses it, then removes the file.
      - The file is never removed while a volume group uses the profile (C(vgs -o vg_profile)),
        also a volume group without LVs; the module fails instead, naming the volume groups and
        the LVs that use it, and changes nothing. Detach it with C(vgchange --detachprofile).
    type: str
    choices: [present, absent]
    default: present
  thin_pool_autoextend_threshold:
    description:
      - C(activation/thin_pool_autoextend_threshold) in the profile, in percent of the pool
        used before dmeventd extends it.
      - From 50 (LVM ignores lower values) to 100 (autoextend off).
    type: int
  thin_pool_autoextend_percent:
    description:
      - C(activation/thin_pool_autoextend_percent) in the profile, how much to grow the
        pool by, in percent of its size. From 0 to 100.
    type: int
  settings:
    description:
      - "Any other profilable LVM settings as C({section: {key: value}}), for example
        C({allocation: {thin_pool_zero: 0}})."
      - A section or key that the host's LVM does not accept in a metadata profile
        is refused. Values are converted to the type of LVM's default (C("1") becomes
        C(1) for a number). A dictionary value writes a subsection (C(cache_settings)).
      - Where LVM has no default to learn the type from (C(allocation/thin_pool_chunk_size),
        C(allocation/cache_policy)), a string of digits is a number and the host's LVM checks
        the type with C(lvmconfig --validate) before anything is written, so C("512K") for an
        integer setting is refused.
      - NaN, infinities, empty strings and null values are refused for every setting.
      - The two autoextend settings may be given here instead of as options, not both.
    type: dict
  attach_to:
    description:
      - Logical volumes, as C(vg/lv), that must use this profile (C(lvchange --metadataprofile)).
        What they use is read back from C(lvs -o lv_profile).
      - The volume group and the LV name are checked like O(name) (and LVM's reserved LV names,
        such as C(snapshot*) or C(*_tdata), are refused) before anything runs.
      - An LV that does not exist is an error naming it.
      - LVs that use the profile but are not listed keep it, unless O(exclusive=true).
    type: list
    elements: str
  exclusive:
    description:
      - With V(true), the profile is detached (C(lvchange --detachprofile)) from every LV
        that uses it and is not in O(attach_to). O(attach_to=[]) then detaches it from all.
    type: bool
    default: false
  profile_dir:
    description:
      - Directory of LVM's profiles. Default is what C(lvmconfig --typeconfig full config/profile_dir) says
        on the host, normally C(/etc/lvm/profile).
      - An empty string is refused, it does not mean the default.
    type: path
  backup:
    description:
      - Keep the previous file, with a timestamp in its name, before it is replaced or removed.
    type: bool
    default: false
notes:
  - A pool reads its profile each time dmeventd runs C(lvextend --use-policies), so a
    changed value applies without re-attaching.
  - Every refusal of an input comes before the host lock is taken and before any command runs.
    When a command fails after the module changed something, the result is C(changed=true) and
    the message lists what was done.
seealso:
  - name: Docker's devicemapper guide (direct-lvm)
    description: The procedure this profile comes from.
    link: https://docs.docker.com/engine/storage/drivers/device-mapper-driver/
  - name: lvmthin(7)
    description: Thin pool autoextend and monitoring.
    link: https://man7.org/linux/man-pages/man7/lvmthin.7.html
"""

EXAMPLES = r"""
- name: Docker's guide profile - grow the pool by 20% when 80% is used
  container_storage.devicemapper.lvm_profile:
    name: docker-thinpool
    thin_pool_autoextend_threshold: 80
    thin_pool_autoextend_percent: 20
    attach_to:
      - docker/thinpool

- name: Another profilable setting, checked against the host's LVM
  container_storage.devicemapper.lvm_profile:
    name: thin-nozero
    settings:
      allocation:
        thin_pool_zero: 0
        thin_pool_discards: nopassdown

- name: This pool and only this pool uses the profile; keep the old file
  container_storage.devicemapper.lvm_profile:
    name: docker-thinpool
    thin_pool_autoextend_threshold: 70
    thin_pool_autoextend_percent: 25
    attach_to: [docker/thinpool]
    exclusive: true
    backup: true

- name: Detach the profile from every LV and remove the file
  container_storage.devicemapper.lvm_profile:
    name: docker-thinpool
    state: absent
"""

RETURN = r"""
path:
  description: The profile file.
  returned: always
  type: str
  sample: /etc/lvm/profile/docker-thinpool.profile
content:
  description: The file's desired content; null with O(state=absent).
  returned: always
  type: str
  sample: "# LVM metadata profile 'docker-thinpool', managed by Ansible
    (container_storage.devicemapper.lvm_profile).\n# Local changes are overwritten on the
    next run.\nactivation {\n\tthin_pool_autoextend_threshold = 80\n\tthin_pool_autoextend_percent = 20\n}\n"
attached:
  description: The LVs (C(vg/lv)) that use the profile after the run (in check mode, that would).
  returned: always
  type: list
  elements: str
  sample: [docker/thinpool]
state:
  description: The requested state.
  returned: always
  type: str
  sample: present
backup_file:
  description: The copy of the previous file made because of O(backup=true).
  returned: when a backup was made
  type: str
  sample: /etc/lvm/profile/docker-thinpool.profile.2131.2024-05-01@12:00:00~
commands:
  description:
    - The commands run, in order; in check mode followed by the changing ones that would run.
    - The file itself is written by the module, not by a command.
  returned: always
  type: list
  elements: str
  sample:
    - lvm lvmconfig --typeconfig full config/profile_dir
    - lvm lvs --reportformat json --units b --nosuffix -o vg_name,lv_name,lv_profile,segtype,seg_monitor,vg_free
    - lvm lvchange --metadataprofile docker-thinpool docker/thinpool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.container_storage.devicemapper.plugins.module_utils._lock import LOCK_ARGUMENT_SPEC
from ansible_collections.container_storage.devicemapper.plugins.module_utils._lvm_profile import LvmProfile


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        thin_pool_autoextend_threshold=dict(type="int"),
        thin_pool_autoextend_percent=dict(type="int"),
        settings=dict(type="dict"),
        attach_to=dict(type="list", elements="str"),
        exclusive=dict(type="bool", default=False),
        profile_dir=dict(type="path"),
        backup=dict(type="bool", default=False),
    )
    argument_spec.update(LOCK_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_json(**LvmProfile(module).run())


if __name__ == "__main__":
    main()
