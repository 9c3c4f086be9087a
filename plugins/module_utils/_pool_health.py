# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How close each LVM thin pool is to trouble: usage, health flags, autoextend headroom, engine.

Shared by the thin-pool collector (``roles/thinpool_monitor/files/thinpool_monitor.py``,
which runs on hosts without Ansible) and by the modules. So this file and
everything it imports must stay standard-library only: the role installs
them next to the collector under the same package path, and
``tests/unit/monitor`` checks that the shipped set is closed under imports.

Shape: ``read_snapshot(runner)`` runs one vgs, one lvs, one
``dmsetup status --target thin-pool`` and one ``lvmconfig`` per profile in
use; ``pool_health(snapshot, engine_pools)`` is a pure function of that.

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.container_storage.devicemapper.plugins.module_utils._containerd import (
    DEVMAPPER_TABLE, ConfigError, read_document,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._daemon_json import (
    DaemonJsonError, read_daemon_json,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._dm import (
    Dmsetup, dm_name, parse_pool_statuses, pool_status, strip_mapper_dir,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._docker_storage import (
    storage_from_config,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._lvm import (
    LvmReportError, LvmState, read_report,
)

# The fields the health read needs, and no segment-per-device field, so a
# pool is one row. vg_profile: LVM uses the VG's profile when the LV has none.
VG_FIELDS = ["vg_name", "vg_size", "vg_free", "vg_extent_size", "vg_extent_count", "vg_free_count"]
LV_FIELDS = ["lv_name", "vg_name", "lv_attr", "lv_size", "segtype", "data_percent",
             "metadata_percent", "chunk_size", "lv_metadata_size", "seg_monitor", "lv_when_full",
             "lv_profile", "vg_profile"]

THRESHOLD_KEY = "activation/thin_pool_autoextend_threshold"
PERCENT_KEY = "activation/thin_pool_autoextend_percent"
# dmeventd treats a threshold below 50 as 50; 100 (or percent 0) switches autoextend off.
THRESHOLD_FLOOR = 50
# Thin-pool metadata is counted in 4 KiB blocks by the kernel, whatever the chunk size.
METADATA_BLOCK_BYTES = 4096
# Headroom is counted step by step; past this many steps the answer is "at least this many".
HEADROOM_CAP = 1000

DOCKER_DAEMON_JSON = "/etc/docker/daemon.json"
CONTAINERD_CONFIG = "/etc/containerd/config.toml"
ENGINES = ("docker", "containerd")


class HealthReadError(Exception):
    """A command or report needed for the health read failed; the message says which."""


# ---------------------------------------------------------------- commands and parsers

def lvmconfig_autoextend(profile=None):
    """The argv that prints the autoextend settings LVM applies under ``profile`` (None: lvm.conf)."""
    argv = ["lvm", "lvmconfig", "--type", "full"]
    if profile:
        argv += ["--metadataprofile", profile]
    return argv + [THRESHOLD_KEY, PERCENT_KEY]


def parse_autoextend(out):
    """``(threshold, percent)`` from lvmconfig's ``key=value`` lines; ValueError when one is missing."""
    values = {}
    for line in out.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep:
            values[key.strip()] = value.strip()
    try:
        return int(values["thin_pool_autoextend_threshold"]), int(values["thin_pool_autoextend_percent"])
    except (KeyError, ValueError):
        raise ValueError("lvmconfig printed no autoextend threshold and percent: %r" % out[:200])


def health_flags(status):
    """The pool's state as the kernel reports it; all False when there is no status (inactive)."""
    status = status or {}
    return {
        "out_of_data_space": status.get("mode") == "out_of_data_space",
        "read_only": status.get("mode") == "ro",
        "needs_check": bool(status.get("needs_check")),
        "failed": bool(status.get("fail")),
    }


def effective_profile(row):
    """(profile, where): the LV's metadata profile, else its VG's, else (None, None)."""
    if row.get("lv_profile"):
        return row["lv_profile"], "lv"
    if row.get("vg_profile"):
        return row["vg_profile"], "vg"
    return None, None


def autoextend_enabled(threshold, percent):
    return threshold is not None and percent is not None and threshold < 100 and percent > 0


def autoextend_headroom(pool_bytes, extent_bytes, free_extents, percent, cap=HEADROOM_CAP):
    """How many autoextend steps the VG's free extents still allow, and the next step's size.

    Each step grows the pool's data by ``percent`` of its current size,
    rounded up to whole extents (what ``lvextend --use-policies`` asks for);
    0 means the next threshold crossing fails. Metadata growth is not
    counted. Returns (steps, next_step_bytes); (None, None) when there is
    nothing to count (autoextend off or sizes unknown).
    """
    if not percent or percent <= 0 or extent_bytes <= 0 or pool_bytes <= 0:
        return None, None
    extents = pool_bytes // extent_bytes
    free = free_extents
    steps = 0
    first_step = None
    while steps < cap:
        step = -(-extents * percent // 100)  # ceil without floats
        if first_step is None:
            first_step = step
        if step > free:
            break
        free -= step
        extents += step
        steps += 1
    return steps, first_step * extent_bytes


# ---------------------------------------------------------------- engines

# containerd 1.x configs without `version` (version 1) named the plugin "devmapper".
_DEVMAPPER_V1_TABLE = ("plugins", "devmapper")


def containerd_pool_name(text, path=CONTAINERD_CONFIG):
    """``pool_name`` of containerd's devmapper snapshotter in a config.toml (its /dev/mapper name), or None.

    Read with the collection's TOML reader, as the containerd_devmapper module
    reads it; ConfigError when the file is not TOML.
    """
    document = read_document(text, path)
    for table in (DEVMAPPER_TABLE, _DEVMAPPER_V1_TABLE):
        settings = document.lookup(table)
        if isinstance(settings, dict) and isinstance(settings.get("pool_name"), str) and settings["pool_name"]:
            return strip_mapper_dir(settings["pool_name"])
    return None


def docker_pool_name(document):
    """The thin pool a daemon.json document gives Docker's devicemapper graph driver, or None."""
    storage = storage_from_config(document or {})
    if storage["driver"] != "devicemapper":
        return None
    return storage["pool"]


def _read_optional(path):
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HealthReadError("%s is not valid UTF-8: %s" % (path, exc))
    except (IOError, OSError) as exc:
        if not os.path.exists(path):
            return None
        raise HealthReadError("cannot read %s: %s" % (path, exc))


def read_engine_pools(daemon_json=DOCKER_DAEMON_JSON, containerd_config=CONTAINERD_CONFIG):
    """({engine: pool dm name or None}, [errors]) from the engines' configuration files.

    An engine uses a pool when its configuration names it (Docker:
    ``storage-driver: devicemapper`` with ``dm.thinpooldev`` or
    ``dm.directlvm_device``; containerd: the devmapper snapshotter's
    ``pool_name``). A missing file means the engine uses none.
    """
    pools = dict((engine, None) for engine in ENGINES)
    errors = []
    try:
        # dockerd lets the last of two equal keys win; so does this read
        pools["docker"] = docker_pool_name(read_daemon_json(daemon_json, refuse_duplicates=False)[0])
    except DaemonJsonError as exc:
        errors.append(str(exc))
    try:
        text = _read_optional(containerd_config)
        if text is not None:
            pools["containerd"] = containerd_pool_name(text, containerd_config)
    except (HealthReadError, ConfigError) as exc:
        errors.append(str(exc))
    return pools, errors


def _as_dm_name(pool):
    """A pool as an engine names it (dm name, /dev/mapper/NAME or /dev/VG/LV) as a dm name."""
    parts = pool.split("/")
    if len(parts) == 4 and pool.startswith("/dev/") and parts[2] != "mapper":
        return dm_name(parts[2], parts[3])
    return strip_mapper_dir(pool)


def engines_of(vg, name, engine_pools):
    """The engines (sorted) whose configuration names pool ``vg/name``."""
    mapper = dm_name(vg, name)
    return sorted(engine for engine, pool in (engine_pools or {}).items()
                  if pool and _as_dm_name(pool) in (mapper, mapper + "-tpool"))


# ---------------------------------------------------------------- read and compute

class Snapshot(object):
    """What one health read saw: the LVM state, lvs rows, pool statuses, autoextend by profile."""

    def __init__(self, state, lv_rows, statuses, autoextend):
        self.state = state
        self.lv_rows = dict(((row["vg_name"], row["lv_name"]), row) for row in lv_rows)
        self.statuses = statuses
        self.autoextend = autoextend


def read_snapshot(runner):
    """Run the health read's commands through ``runner`` (``run(argv)`` -> (rc, out, err),
    raising on failure); HealthReadError when a report cannot be read."""
    try:
        vgs = read_report(runner, "vgs", VG_FIELDS)
        lvs = read_report(runner, "lvs", LV_FIELDS)
    except LvmReportError as exc:
        raise HealthReadError(str(exc))
    state = LvmState([], vgs, lvs)
    statuses = {}
    if state.thin_pools():
        statuses = parse_pool_statuses(runner.run(Dmsetup.status(target="thin-pool"))[1])
    autoextend = read_autoextend(runner, [effective_profile(_row(lvs, lv))[0] for lv in state.thin_pools()])
    return Snapshot(state, lvs, statuses, autoextend)


def read_autoextend(runner, profiles):
    """{profile: (threshold, percent)}: one lvmconfig per distinct profile, in the order given
    (None: lvm.conf's settings); HealthReadError when lvmconfig prints no values."""
    autoextend = {}
    for profile in profiles:
        if profile not in autoextend:
            out = runner.run(lvmconfig_autoextend(profile))[1]
            try:
                autoextend[profile] = parse_autoextend(out)
            except ValueError as exc:
                raise HealthReadError(str(exc))
    return autoextend


def _row(rows, lv):
    for row in rows:
        if row["vg_name"] == lv.vg and row["lv_name"] == lv.name:
            return row
    return {}


def _ratio(used, total):
    if used is None or not total:
        return None
    return float(used) / total


def pool_health(snapshot, engine_pools=None):
    """One dict per visible thin pool (sorted by VG, name) with sizes in bytes, ratios 0..1,
    health flags, the autoextend settings in force and the headroom they leave."""
    pools = []
    state = snapshot.state
    for lv in state.thin_pools():
        row = snapshot.lv_rows.get((lv.vg, lv.name), {})
        vg = state.vgs.get(lv.vg)
        status = pool_status(snapshot.statuses, lv.vg, lv.name)
        profile, profile_source = effective_profile(row)
        threshold, percent = snapshot.autoextend.get(profile, (None, None))
        if threshold is not None and threshold < THRESHOLD_FLOOR:
            threshold = THRESHOLD_FLOOR
        enabled = autoextend_enabled(threshold, percent)
        steps, next_step = (None, None)
        if enabled and vg is not None:
            steps, next_step = autoextend_headroom(lv.size, vg.extent_size, vg.free_count, percent)

        data_size, data_used = lv.size, None
        meta_size, meta_used = lv.metadata_size, None
        if status and not status.get("fail") and "data_used_blocks" in status:
            data_size = status["data_total_blocks"] * lv.chunk_size or lv.size
            data_used = status["data_used_blocks"] * lv.chunk_size
            meta_size = status["metadata_total_blocks"] * METADATA_BLOCK_BYTES
            meta_used = status["metadata_used_blocks"] * METADATA_BLOCK_BYTES
        elif lv.data_percent is not None:
            data_used = int(round(lv.size * lv.data_percent / 100))
            if lv.metadata_percent is not None:
                meta_used = int(round(lv.metadata_size * lv.metadata_percent / 100))

        pools.append({
            "vg": lv.vg,
            "name": lv.name,
            "dm_name": dm_name(lv.vg, lv.name),
            "active": lv.active,
            "monitored": lv.seg_monitor == "monitored",
            "profile": profile,
            "profile_source": profile_source,
            "when_full": lv.when_full or None,
            "chunk_size_bytes": lv.chunk_size,
            "data_size_bytes": data_size,
            "data_used_bytes": data_used,
            "data_used_ratio": _ratio(data_used, data_size),
            "metadata_size_bytes": meta_size,
            "metadata_used_bytes": meta_used,
            "metadata_used_ratio": _ratio(meta_used, meta_size),
            "autoextend": {
                "threshold_percent": threshold,
                "percent": percent,
                "enabled": enabled,
                "headroom_steps": steps,
                "next_step_bytes": next_step,
            },
            "vg_free_bytes": vg.free if vg is not None else None,
            "vg_free_extents": vg.free_count if vg is not None else None,
            "flags": health_flags(status),
            "engines": engines_of(lv.vg, lv.name, engine_pools),
        })
    return pools
