# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""dm_name filter: the device-mapper name LVM gives an LV, from the modules' own function."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dm_name
short_description: The device-mapper name LVM gives a logical volume
version_added: 1.0.0
description:
  - The name of C(VG/LV) under C(/dev/mapper/), as LVM makes it. Every C(-) inside each name is doubled, and the two
    are joined by one C(-), so C(docker-vg/thin-pool) is C(docker--vg-thin--pool).
  - The same function the modules use, so a role names the pool's device as M(container_storage.devicemapper.thinpool)
    does.
  - The names are not checked; test them with P(container_storage.devicemapper.lvm_name#test) first.
options:
  _input:
    description: The volume group's name.
    type: str
    required: true
  lv:
    description: The logical volume's name.
    type: str
    required: true
seealso:
  - plugin: container_storage.devicemapper.lvm_name
    plugin_type: test
"""

EXAMPLES = r"""
- name: The pool's device, as Docker's dm.thinpooldev wants it
  ansible.builtin.set_fact:
    pool_device: "/dev/mapper/{{ 'docker-vg' | container_storage.devicemapper.dm_name('thinpool') }}"
    # /dev/mapper/docker--vg-thinpool
"""

RETURN = r"""
_value:
  description: The device-mapper name, without C(/dev/mapper/).
  type: str
  sample: docker--vg-thin--pool
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.six import string_types

from ansible_collections.container_storage.devicemapper.plugins.module_utils._dm import dm_name as _dm_name


def dm_name(vg, lv):
    for what, value in (("the VG (input)", vg), ("the LV", lv)):
        if not isinstance(value, string_types) or not value:
            raise AnsibleFilterError("dm_name: %s must be a non-empty string, not %r" % (what, value))
    return _dm_name(vg, lv)


class FilterModule(object):
    def filters(self):
        return {"dm_name": dm_name}
