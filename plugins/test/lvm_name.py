# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lvm_name test: is a value a name LVM accepts, as the modules check their vg and name options."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lvm_name
short_description: Whether a value is a valid LVM volume group, logical volume or profile name
version_added: 1.0.0
description:
  - True for a name the modules of this collection accept in their VG and LV options, with the same check (lvm(8)
    "VALID NAMES"). At most 127 characters of letters, digits and C(+ _ . -), not starting with C(-), not C(.) or
    C(..).
  - A logical volume's name must besides not start with C(snapshot) or C(pvmove), nor contain a part LVM
    keeps for its hidden volumes (C(_tdata), C(_tmeta), C(_cpool) and the others lvm(8) lists).
  - False for anything else, also for a value that is no string.
options:
  _input:
    description: The value to test.
    type: raw
    required: true
  kind:
    description: What the name is for.
    type: str
    choices: [lv, vg, profile]
    default: lv
"""

EXAMPLES = r"""
- name: Refuse names LVM would not take, before anything changes
  ansible.builtin.assert:
    that:
      - migrate_vg is container_storage.devicemapper.lvm_name('vg')
      - migrate_lv is container_storage.devicemapper.lvm_name
"""

RETURN = r"""
_value:
  description: Whether the value is a valid name of that kind.
  type: bool
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.container_storage.devicemapper.plugins.module_utils._validate import InputError
from ansible_collections.container_storage.devicemapper.plugins.module_utils._validate import lvm_name as _lvm_name

KINDS = ("lv", "vg", "profile")


def lvm_name(value, kind="lv"):
    if kind not in KINDS:
        raise AnsibleFilterError("lvm_name: kind must be one of %s, not %r" % (", ".join(KINDS), kind))
    try:
        _lvm_name("name", value, kind)
    except InputError:
        return False
    return True


class TestModule(object):
    def tests(self):
        return {"lvm_name": lvm_name}
