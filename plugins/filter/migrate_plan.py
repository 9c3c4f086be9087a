# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""migrate_plan filter: the migrate role's decisions, made on the controller from the role's reads."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: migrate_plan
short_description: Plan the migrate role's run on the controller from what it read on the host
version_added: 1.0.0
description:
  - Decides what the P(container_storage.devicemapper.migrate#role) role does on a host - migrate, roll back, confirm
    or nothing, whether an unfinished migration resumes, the record the migration writes, the images carried, and
    every refusal with its message, before anything changes.
  - Its input is the role's reads; the decisions are plain Python (C(plugin_utils/_migrate_plan.py)) with unit tests
    on recorded reads. Sizes are read by the thinpool module's parser, LV names checked by the modules' validator.
options:
  _input:
    description:
      - The reads. C(probe), the registered result of M(container_storage.devicemapper.docker_storage_info);
        C(host), the RV(container_storage.devicemapper.run_script#module:sections) of the role's C(files/read.sh);
        C(measured), those of C(files/measure.sh) once read (omitted or null before); C(inventory), those of
        C(files/inventory.sh) read with them (the whole store before any change, checked against docker info's
        counts); C(after), those of C(files/inventory.sh) read after the switch or before a confirmation, compared
        with the inventory the record keeps.
    type: dict
    required: true
  variables:
    description:
      - The role's variables (C(migrate_*), C(devicemapper_vg), C(devicemapper_pool), C(devicemapper_devices)),
        C(inventory_hostname) and C(state_file), the role's record on the host. Booleans may be strings (C(-e)).
    type: dict
    required: true
  epoch:
    description: The time, in seconds since the epoch (names of the backup and the record's times).
    type: int
    required: true
"""

EXAMPLES = r"""
- name: Decide what this run does
  ansible.builtin.set_fact:
    plan: >-
      {{ {'probe': docker_storage, 'host': host_read.sections}
         | container_storage.devicemapper.migrate_plan(variables, now(utc=true, fmt='%s') | int) }}
"""

RETURN = r"""
_value:
  description:
    - C(action) (C(migrate), C(rollback), C(confirm) or C(none)), C(resume), C(measure) (Docker's images must be read
      before the migration can be planned), C(target), C(phase), C(record), C(record_new) (what the migration
      records), C(refusals) and C(msg) (the first refusal, empty when none), C(text) (the plan in words),
      C(save_args), C(units), C(mounted), C(containers_inspected), C(read_before_confirm) (the store must be read
      again before a confirmation), C(differences) (what the store read as C(after) lacks of the inventory, one
      line each), C(inventory_after_args).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.container_storage.devicemapper.plugins.plugin_utils._migrate_plan import (
    MigratePlanError, plan_migration,
)


def migrate_plan(reads, variables, epoch):
    if not isinstance(reads, dict) or "probe" not in reads or "host" not in reads:
        raise AnsibleFilterError("migrate_plan: its input must be the role's reads: probe and host")
    try:
        return plan_migration(reads, variables, int(epoch))
    except MigratePlanError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {"migrate_plan": migrate_plan}
