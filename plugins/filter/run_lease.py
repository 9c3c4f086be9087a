# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""run_lease filter: what a run of the devicemapper or migrate role does with the host's run lease."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: run_lease
short_description: Decide, from the host's run lease as read, whether this run may go on, and take it
version_added: 1.0.0
description:
  - Used by the C(container_storage.devicemapper.devicemapper) and C(container_storage.devicemapper.migrate)
    roles; private to them, its fields may change.
  - Takes the sections of the roles' C(lease.sh read) (the lease file, its sha256, the host's time) and decides
    with this run's identity (controller host, user, ansible-playbook's PID, playbook). A lease of another run
    that has not expired is a refusal naming its holder and expiry, unless the role's break variable is true;
    an expired one is taken over; in check mode none is taken.
options:
  _input:
    description: The C(sections) of M(container_storage.devicemapper.run_script)'s result for C(lease.sh read).
    type: dict
    required: true
  role:
    description: Which role runs; its variables are C(<role>_lease_seconds) and C(<role>_break_lease).
    type: str
    choices: [devicemapper, migrate]
    required: true
  variables:
    description: The role's lease variables, by their names.
    type: dict
    required: true
  check_mode:
    description: Whether the run is in check mode (then no lease is taken).
    type: bool
    default: false
  host:
    description: The host's inventory name, for the messages.
    type: str
    default: localhost
"""

EXAMPLES = r"""
- name: Decide what this run does with the host's run lease
  ansible.builtin.set_fact:
    lease_plan: >-
      {{ lease_read.sections | container_storage.devicemapper.run_lease(
           'devicemapper', {'devicemapper_lease_seconds': 3900}, check_mode=ansible_check_mode,
           host=inventory_hostname) }}
"""

RETURN = r"""
_value:
  description:
    - C(state) (free, mine, expired, broken, held), C(refusals), C(take), C(notice), C(broke), and the
      arguments of C(lease.sh) C(take_args), C(renew_args) (a step's name follows) and C(release_args).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.container_storage.devicemapper.plugins.plugin_utils._lease import (
    ROLES, check_sections, controller_identity, plan_lease,
)


def run_lease(sections, role, variables, check_mode=False, host="localhost"):
    if role not in ROLES:
        raise AnsibleFilterError("run_lease: role must be one of %s, not %r" % (", ".join(sorted(ROLES)), role))
    try:
        return plan_lease(check_sections(sections), controller_identity(), role, dict(variables or {}),
                          check_mode=bool(check_mode), host=host)
    except ValueError as exc:
        raise AnsibleFilterError("run_lease: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"run_lease": run_lease}
