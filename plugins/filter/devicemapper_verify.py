# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""devicemapper_verify filter: what Docker reports after the devicemapper role's run, against its plan."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: devicemapper_verify
short_description: Compare what Docker reports with what the devicemapper role configured
version_added: 1.0.0
description:
  - Used by the C(container_storage.devicemapper.devicemapper) role; private to it, its fields may change.
  - As Docker's guide does, C(docker info) must show the devicemapper driver, the expected Pool Name, no
    C(Data loop file) outside loop-lvm mode and the deferred removal and deletion wanted; after C(absent),
    any driver but devicemapper.
extends_documentation_fragment:
  - container_storage.devicemapper.role_plan
options:
  _input:
    description:
      - What M(container_storage.devicemapper.docker_storage_info) read, or the
        P(container_storage.devicemapper.docker_info#filter) reading of the role's start.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check what Docker reports
  ansible.builtin.assert:
    that: verified.mismatches | length == 0
    fail_msg: "{{ verified.fail_msg }}"
  vars:
    verified: "{{ storage_info | container_storage.devicemapper.devicemapper_verify(plan, inventory_hostname) }}"
"""

RETURN = r"""
_value:
  description: C(mismatches), each a sentence (empty when Docker runs as configured); C(fail_msg); C(success_msg).
  type: dict
"""

from ansible_collections.container_storage.devicemapper.plugins.plugin_utils._devicemapper_plan import verify_docker


def devicemapper_verify(state_now, plan, host="localhost"):
    return verify_docker(state_now, plan, host)


class FilterModule(object):
    def filters(self):
        return {"devicemapper_verify": devicemapper_verify}
