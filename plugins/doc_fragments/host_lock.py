# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The host lock every mutating module takes, described once."""

    DOCUMENTATION = r"""
options:
  lock_timeout:
    description:
      - Seconds to wait for the host lock when another run of a module of this collection holds it.
      - Every module of this collection that changes something holds one lock per host
        (C(flock) on C(/run/lock/container-storage-devicemapper.lock)) from its first read to its
        last write, so two runs at once never act on each other's half-made changes.
      - When the wait runs out the module fails, naming the holder, and changes nothing.
      - The kernel drops the lock when its holder ends, even when it is killed.
    type: int
    default: 300
notes:
  - Every command runs under C(timeout) (coreutils); one that hangs is stopped and the module fails
    with an error naming it.
"""
