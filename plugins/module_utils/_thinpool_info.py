# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The thinpool_info module's backend: every pool's facts, flags, autoextend headroom and engines.

One read: ``pvs``, ``vgs``, ``lvs -a`` (the thinpool module's fields plus
``vg_profile``), ``dmsetup status --target thin-pool``, then one ``lvmconfig``
per autoextend profile in force among the pools reported. The pool facts are
``_thinpool.pool_facts`` (what the thinpool module returns); usage, health
flags, autoextend headroom and engines are ``_pool_health.pool_health`` (what
the thin-pool collector exports), computed from the same snapshot. Nothing here
writes, and no lock is taken.

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.container_storage.devicemapper.plugins.module_utils._lvm import (
    LV_FIELDS, PV_FIELDS, VG_FIELDS, LvmReportError, LvmState, read_report,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._pool_health import (
    HealthReadError, Snapshot, effective_profile, pool_health,
    read_autoextend, read_engine_pools,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._runner import (
    CommandError, CommandRunner,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._thinpool import (
    PlanError, pool_facts, pool_flags, read_pool_statuses, validate_name,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._validate import (
    InputError, percent, refuse_empty,
)

# vg_profile: LVM applies the VG's profile to a pool that has none of its own.
INFO_LV_FIELDS = LV_FIELDS + ["vg_profile"]

# _pool_health.health_flags keys, in the order they are listed in ``flags``
HEALTH_FLAGS = ("out_of_data_space", "read_only", "needs_check", "failed")


def audit_flags(facts, health, params):
    """``pool_flags`` (inactive, not_monitored, above thresholds, unhealthy), then what the
    kernel reports and what autoextend can still do."""
    flags = pool_flags(facts, params["data_threshold"], params["metadata_threshold"])
    flags.extend(flag for flag in HEALTH_FLAGS if health["flags"][flag])
    autoextend = health["autoextend"]
    if autoextend["enabled"] and autoextend["headroom_steps"] == 0:
        flags.append("no_autoextend_headroom")
    elif params.get("require_autoextend") and not autoextend["enabled"]:
        flags.append("autoextend_disabled")
    return flags


def audited_pool(facts, health, params):
    """The thinpool module's pool dict with the collector's fields added (no key replaced)."""
    facts = dict(facts)
    facts.update({
        "autoextend": dict(health["autoextend"], profile=health["profile"],
                           profile_source=health["profile_source"]),
        "health_flags": health["flags"],
        "engines": health["engines"],
        "data_used_bytes": health["data_used_bytes"],
        "data_used_ratio": health["data_used_ratio"],
        "metadata_used_bytes": health["metadata_used_bytes"],
        "metadata_used_ratio": health["metadata_used_ratio"],
        "vg_free_bytes": health["vg_free_bytes"],
    })
    facts["flags"] = audit_flags(facts, health, params)
    return facts


class ThinPoolAudit(object):
    def __init__(self, module):
        self.module = module
        self.runner = CommandRunner(module)

    def fail(self, msg):
        self.module.fail_json(msg=msg, commands=self.runner.commands)

    def validate(self):
        params = self.module.params
        # an empty config path would read as "no such file": no engine, silently
        refuse_empty(params, ("vg", "name", "docker_config", "containerd_config"))
        for option in ("vg", "name"):
            if params.get(option) is not None:
                validate_name(option, params[option])
        for option in ("data_threshold", "metadata_threshold"):
            params[option] = percent(option, params[option])
        return params

    def selected(self, state, params):
        return [lv for lv in state.thin_pools()
                if (not params.get("vg") or lv.vg == params["vg"])
                and (not params.get("name") or lv.name == params["name"])]

    def run(self):
        """The module's result, for exit_json; a refusal or failure ends the run with fail_json."""
        try:
            params = self.validate()
        except (PlanError, InputError) as exc:
            self.fail(str(exc))
        try:
            pvs = read_report(self.runner, "pvs", PV_FIELDS)
            vgs = read_report(self.runner, "vgs", VG_FIELDS)
            lvs = read_report(self.runner, "lvs", INFO_LV_FIELDS, all_lvs=True)
            state = LvmState(pvs, vgs, lvs)
            snapshot = Snapshot(state, lvs, read_pool_statuses(self.runner), {})
            chosen = self.selected(state, params)
            snapshot.autoextend = read_autoextend(
                self.runner, [effective_profile(snapshot.lv_rows.get((lv.vg, lv.name), {}))[0]
                              for lv in chosen])
        except (CommandError, LvmReportError, HealthReadError) as exc:
            self.fail(str(exc))
        engine_pools, errors = read_engine_pools(params["docker_config"], params["containerd_config"])
        for error in errors:
            self.module.warn("engines: %s; the pools' engines leave that file out" % error)
        health = dict(((pool["vg"], pool["name"]), pool) for pool in pool_health(snapshot, engine_pools))
        pools, flagged = [], []
        for lv in chosen:
            facts = audited_pool(pool_facts(state, snapshot.statuses, lv.vg, lv.name),
                                 health[(lv.vg, lv.name)], params)
            if facts["flags"]:
                flagged.append("%s/%s: %s" % (lv.vg, lv.name, ", ".join(facts["flags"])))
            pools.append(facts)
        return dict(changed=False, pools=pools, flagged=flagged, engine_pools=engine_pools,
                    commands=self.runner.commands)
