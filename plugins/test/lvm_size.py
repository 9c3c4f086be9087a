# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lvm_size test: is a value an LVM size, as the thinpool module reads its size options."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lvm_size
short_description: Whether a value is an LVM size, or a percentage of the VG, its free space or its PVs
version_added: 1.0.0
description:
  - True for what M(container_storage.devicemapper.thinpool) accepts in its O(container_storage.devicemapper.thinpool#module:size)
    option, with the same parser. A number with an optional unit C(b), C(s), C(k), C(m), C(g), C(t), C(p) or C(e)
    (binary, any case), larger than zero (C(100G), C(512k), C(1.5t), C(2048)); or, unless O(allow_percent=false),
    C(N%VG), C(N%FREE) or C(N%PVS) with C(N) more than 0 and at most 100.
  - False for anything else, also for a value that is no string or number (a boolean, null, a list).
options:
  _input:
    description: The value to test.
    type: raw
    required: true
  allow_percent:
    description: Whether a percentage (C(95%VG), C(100%FREE), C(50%PVS)) is a size.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Refuse a size LVM would not take, before anything changes
  ansible.builtin.assert:
    that: migrate_lv_size is container_storage.devicemapper.lvm_size
    fail_msg: "migrate_lv_size: {{ migrate_lv_size }} is not a size (like 20G, or 100%FREE)"

- name: Only an absolute size
  ansible.builtin.assert:
    that: chunk is container_storage.devicemapper.lvm_size(allow_percent=false)
"""

RETURN = r"""
_value:
  description: Whether the value is a valid LVM size.
  type: bool
"""

from ansible_collections.container_storage.devicemapper.plugins.module_utils._sizes import SizeError, parse_size


def lvm_size(value, allow_percent=True):
    if isinstance(value, float):
        # parse_size reads a text; a YAML float (1.5) is the number it wrote
        value = repr(value)
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return False
    try:
        parse_size(value, allow_percent=allow_percent)
    except SizeError:
        return False
    return True


class TestModule(object):
    def tests(self):
        return {"lvm_size": lvm_size}
