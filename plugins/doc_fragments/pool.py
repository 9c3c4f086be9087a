# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The volume group and pool names, described once for every module that takes them."""

    # For modules that manage one pool: thinpool.
    DOCUMENTATION = r"""
options:
  vg:
    description:
      - Name of the LVM volume group that holds the thin pool.
      - LVM's name rules apply (letters, digits, C(+_.-), no C(/), no leading C(-)); they are
        checked before any command runs.
    type: str
    required: true
  name:
    description:
      - Name of the thin pool logical volume in O(vg).
      - Docker's device-mapper name of the pool doubles every C(-) inside each name, so
        VG C(docker) and pool C(thinpool) give C(/dev/mapper/docker-thinpool), the value of
        Docker's C(dm.thinpooldev).
    type: str
    default: thinpool
"""

    # For modules that read pools: thinpool_info.
    INFO = r"""
options:
  vg:
    description:
      - Only report thin pools in this LVM volume group.
      - LVM's name rules apply (letters, digits, C(+_.-), no C(/), no leading C(-)).
    type: str
  name:
    description:
      - Only report the thin pool logical volume with this name.
      - Docker's device-mapper name of the pool doubles every C(-) inside each name
        (C(my-vg)/C(my-pool) is C(/dev/mapper/my--vg-my--pool)).
    type: str
"""
