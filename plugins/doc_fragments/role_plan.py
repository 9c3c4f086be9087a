# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The devicemapper role's plan and host, described once for the filters that take both."""

    DOCUMENTATION = r"""
options:
  plan:
    description: The role's plan (P(container_storage.devicemapper.devicemapper_plan#filter)).
    type: dict
    required: true
  host:
    description: The host's inventory name, for the messages.
    type: str
    default: localhost
"""

    # For the filters that explain a failure of the role's switch.
    FAILURE = r"""
options:
  failed_task:
    description: C(ansible_failed_task), or an empty dict when there is none.
    type: dict
  failed_result:
    description: C(ansible_failed_result), or an empty dict when there is none.
    type: dict
"""
