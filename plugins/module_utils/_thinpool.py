# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""An LVM thin pool for Docker's direct-lvm mode: read, plan, apply.

The shape: ``LvmState.read`` once (pvs, vgs, lvs) plus one
``dmsetup status``; ``plan_devices`` and ``plan_pool`` are pure functions of
that snapshot and return the argument lists to run; ``ThinPoolModule`` runs
them (or, in check mode, only reports them).

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.container_storage.devicemapper.plugins.module_utils._dm import (
    Dmsetup, dm_name, dm_path, parse_pool_statuses, pool_status,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._lvm import (
    Lvm, LvmReportError, LvmState,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._lvm_profile import (
    PERCENT_RANGE, PROFILE_SUFFIX, THRESHOLD_RANGE, FilePlan, ProfileError, autoextend_warnings, check_range,
    desired_settings, read_profile_dir,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._lock import (
    locked,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._runner import (
    CommandError, CommandRunner, failure_report, run_steps,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._validate import (
    InputError, lvm_name, refuse_empty,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._sizes import (
    MIB, SizeError, human, lvm_arg, parse_size,
)

DEFAULT_EXTENT = 4 * MIB
# pvcreate's default data alignment: the first extent starts 1 MiB in.
PV_DATA_OFFSET = 1 * MIB
METADATA_MIN = 2 * MIB
# LVM's long-standing limit (16192 MiB); newer LVM allows slightly more.
METADATA_MAX = 16192 * MIB
CHUNK_MIN = 64 * 1024
CHUNK_MAX = 1024 * MIB
PMSPARE = "lvol0_pmspare"

# Options whose empty value must never fall back to a default: a template that
# renders "" must not mean "the default pool" (state=absent would remove it).
POOL_STRING_OPTIONS = ("vg", "name", "devices", "size", "metadata_size", "chunk_size", "discards",
                       "profile", "profile_dir")

# What --diff compares: fields that change only when the module changes something.
DIFF_FIELDS = ("vg", "name", "size", "metadata_size", "chunk_size", "zero", "discards",
               "error_when_full", "monitored", "profile", "active", "devices")


class PlanError(Exception):
    """A refusal: nothing has been changed; the message names the option or device."""


# ---------------------------------------------------------------- validation

def validate_name(option, value):
    """LVM's name rules, through the collection's one LVM name validator."""
    try:
        lvm_name(option, value, kind="vg" if option == "vg" else "lv")
    except InputError as exc:
        raise PlanError(str(exc))


def _given(params, option, default):
    value = params.get(option)
    return default if value is None else value


class PoolSpec(object):
    """The module's options, validated and parsed, before anything runs."""

    def __init__(self, params):
        try:
            refuse_empty(params, POOL_STRING_OPTIONS)
        except InputError as exc:
            raise PlanError(str(exc))
        self.vg = params["vg"]
        self.name = params["name"] if params.get("name") is not None else "thinpool"
        validate_name("vg", self.vg)
        validate_name("name", self.name)
        self.state = params.get("state") or "present"
        self.force = bool(params.get("force"))
        self.convert_existing = bool(params.get("convert_existing"))
        self.replace_existing = bool(params.get("replace_existing"))
        self.remove_vg = bool(params.get("remove_vg"))
        self.zero = bool(params.get("zero"))
        self.discards = params.get("discards")
        self.error_when_full = params.get("error_when_full")
        self.monitor = params.get("monitor", True) is not False
        self.activate = params.get("activate", True) is not False
        self.devices = []
        for device in params.get("devices") or []:
            # by-id and by-path links name the same disk as the /dev node pvs reports
            resolved = os.path.realpath(device)
            if resolved not in self.devices:
                self.devices.append(resolved)
        self.device_given = dict((os.path.realpath(d), d) for d in params.get("devices") or [])
        try:
            self.size = parse_size(_given(params, "size", "95%VG"), default_unit="m", what="size")
            self.metadata_size = parse_size(_given(params, "metadata_size", "1%VG"),
                                            default_unit="m", what="metadata_size")
            chunk = parse_size(_given(params, "chunk_size", "512K"), default_unit="k",
                               allow_percent=False, what="chunk_size")
        except SizeError as exc:
            raise PlanError(str(exc))
        if chunk.bytes % CHUNK_MIN or not CHUNK_MIN <= chunk.bytes <= CHUNK_MAX:
            raise PlanError("chunk_size: %r must be a multiple of 64K from 64K to 1G" % chunk.text)
        self.chunk_size = chunk.bytes
        self.profile = params.get("profile")
        self.profile_dir = params.get("profile_dir")
        threshold, percent = params.get("autoextend_threshold"), params.get("autoextend_percent")
        # The profile's settings when this module writes it; None: attach the file that is there.
        self.profile_sections = None
        if self.profile is not None:
            try:
                lvm_name("profile", self.profile, kind="profile")
            except InputError as exc:
                raise PlanError(str(exc))
        if threshold is not None or percent is not None:
            if self.profile is None:
                raise PlanError("%s: needs profile, the name of the LVM metadata profile that holds it"
                                % ("autoextend_threshold" if threshold is not None else "autoextend_percent"))
            try:
                # named by this module's options (the profile's keys are thin_pool_autoextend_*)
                for option, value, bounds in (("autoextend_threshold", threshold, THRESHOLD_RANGE),
                                              ("autoextend_percent", percent, PERCENT_RANGE)):
                    if value is not None:
                        check_range(option, value, bounds)
                self.profile_sections = desired_settings(threshold, percent, None)
            except ProfileError as exc:
                raise PlanError(str(exc))

    def label(self, device):
        given = self.device_given.get(device, device)
        return given if given == device else "%s (%s)" % (given, device)


# ---------------------------------------------------------------- facts

def read_pool_statuses(runner):
    """``dmsetup status --target thin-pool`` for every pool, by dm name (one command)."""
    return parse_pool_statuses(runner.run(Dmsetup.status(target="thin-pool"))[1])


def pool_facts(state, statuses, vg, name):
    """The ``pool`` dict the modules return, from the snapshot; None when there is no pool."""
    lv = state.lv(vg, name)
    if lv is None or not lv.is_thin_pool:
        return None
    mapper = dm_name(vg, name)
    status = pool_status(statuses, vg, name)
    thin_volumes = [t.name for t in state.thin_volumes(vg, name)]
    health = None
    if status is not None:
        health = {
            "state": status.get("state"),
            "mode": status.get("mode"),
            "needs_check": status.get("needs_check", False),
            "transaction_id": status.get("transaction_id"),
            "data_used_blocks": status.get("data_used_blocks"),
            "data_total_blocks": status.get("data_total_blocks"),
            "metadata_used_blocks": status.get("metadata_used_blocks"),
            "metadata_total_blocks": status.get("metadata_total_blocks"),
        }
    return {
        "vg": vg,
        "name": name,
        "lv_path": "/dev/%s/%s" % (vg, name),
        "dm_name": mapper,
        "dm_path": dm_path(vg, name),
        "size": lv.size,
        "metadata_size": lv.metadata_size,
        "chunk_size": lv.chunk_size,
        "data_percent": lv.data_percent,
        "metadata_percent": lv.metadata_percent,
        "zero": lv.zero,
        "discards": lv.discards or None,
        "error_when_full": lv.when_full == "error",
        "monitored": lv.seg_monitor == "monitored",
        "profile": lv.profile or None,
        "active": lv.active,
        "open": lv.open,
        "devices": state.pool_devices(vg, name),
        "thin_volumes": thin_volumes,
        "health": health,
    }


def diff_view(facts):
    if not facts:
        return {}
    return dict((key, facts.get(key)) for key in DIFF_FIELDS)


def pool_flags(facts, data_threshold, metadata_threshold):
    """Why an auditor should look at a pool; empty when all is well."""
    flags = []
    if not facts["active"]:
        flags.append("inactive")
    elif not facts["monitored"]:
        flags.append("not_monitored")
    if facts["data_percent"] is not None and facts["data_percent"] >= data_threshold:
        flags.append("data_above_threshold")
    if facts["metadata_percent"] is not None and facts["metadata_percent"] >= metadata_threshold:
        flags.append("metadata_above_threshold")
    health = facts.get("health")
    if health and health.get("state") != "ok":
        flags.append("unhealthy")
    return flags


# ---------------------------------------------------------------- devices

class DeviceInfo(object):
    def __init__(self, path, size=0, mountpoints=None, holders=None, signatures=None):
        self.path = path
        self.size = size
        self.mountpoints = mountpoints or []
        self.holders = holders or []
        self.signatures = signatures or []
        # partitions of the device (whole-disk wipefs would destroy what they hold)
        self.partitions = []
        self.partition_signatures = {}
        self.reported = True


def _walk_lsblk(node, mounts, holders, partitions, top=True):
    for mount in (node.get("mountpoints") or []) + [node.get("mountpoint")]:
        if mount:
            mounts.append(mount)
    if not top:
        if node.get("type") == "part":
            partitions.append(node.get("name"))
        else:
            holders.append(node.get("name"))
    for child in node.get("children") or []:
        _walk_lsblk(child, mounts, holders, partitions, top=False)


def inspect_devices(runner, devices, with_signatures):
    """Sizes, mounts, holders and partitions from one lsblk; signatures from one ``wipefs -n``.

    A holder is anything stacked on the device other than its own partitions
    (device-mapper, md); a mount anywhere below it counts. lsblk reorders and
    de-duplicates its arguments, so its answer is matched to the devices by
    path, never by position; a device it does not report is marked so and
    refused by the planner. Partitions are probed with the device itself:
    wiping a disk destroys whatever its partitions hold.
    """
    info = dict((device, DeviceInfo(device)) for device in devices)
    if not devices:
        return info
    columns = "NAME,TYPE,SIZE,MOUNTPOINTS"
    rc, out, err = runner.run(["lsblk", "--json", "-b", "-p", "-o", columns] + list(devices),
                              check_rc=False)
    if rc != 0 and "unknown column" in err:
        # util-linux before 2.37 (RHEL 8) has only MOUNTPOINT
        rc, out, err = runner.run(["lsblk", "--json", "-b", "-p", "-o", columns[:-1]] + list(devices),
                                  check_rc=False)
    if rc != 0:
        raise PlanError("devices: %s. Nothing was changed." % (err.strip() or "lsblk failed (rc %d)" % rc))
    try:
        nodes = json.loads(out)["blockdevices"]
    except (ValueError, KeyError, TypeError):
        raise PlanError("devices: cannot read lsblk output: %r" % out[:200])
    by_path = {}
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, dict) and node.get("name"):
            by_path[os.path.realpath(node["name"])] = node
    for device in devices:
        node = by_path.get(device)
        if node is None:
            info[device].reported = False
            continue
        mounts, holders, partitions = [], [], []
        _walk_lsblk(node, mounts, holders, partitions)
        info[device].size = int(node.get("size") or 0)
        info[device].mountpoints = mounts
        info[device].holders = holders
        info[device].partitions = partitions
    # a mounted, held or unreported device is refused whatever it carries: no need to look
    probe = [d for d in with_signatures
             if info[d].reported and not (info[d].mountpoints or info[d].holders)]
    owner = {}
    for device in probe:
        owner[device] = (device, None)
        for partition in info[device].partitions:
            owner[partition] = (device, partition)
    if probe:
        targets = []
        for device in probe:
            targets.append(device)
            targets.extend(info[device].partitions)
        rc, out, err = runner.run(["wipefs", "--json", "--no-act"] + targets)
        by_base = dict((os.path.basename(path), where) for path, where in owner.items())
        if out.strip():
            try:
                signatures = json.loads(out).get("signatures") or []
            except (ValueError, AttributeError):
                raise PlanError("devices: cannot read wipefs output: %r" % out[:200])
            for signature in signatures:
                where = by_base.get(os.path.basename(signature.get("device") or ""))
                if where is None:
                    continue
                device, partition = where
                kind = signature.get("type") or "unknown"
                if partition is None:
                    info[device].signatures.append(kind)
                else:
                    found = info[device].partition_signatures.setdefault(partition, [])
                    if kind not in found:
                        found.append(kind)
    return info


# ---------------------------------------------------------------- planning

class Geometry(object):
    """The VG's extents as the pool step sees them (real or, before vgcreate, predicted)."""

    def __init__(self, extent_size, extent_count, free_count, pvs_count):
        self.extent_size = extent_size
        self.extent_count = extent_count
        self.free_count = free_count
        self.pvs_count = pvs_count

    @classmethod
    def of_vg(cls, vg, pv_extents):
        return cls(vg.extent_size, vg.extent_count, vg.free_count, pv_extents)


def predicted_extents(size, extent_size):
    return max(0, (size - PV_DATA_OFFSET) // extent_size)


def plan_devices(spec, state, info):
    """Steps that make every device in ``devices`` a PV of the VG; raise PlanError on refusal.

    Returns (steps, added, warnings); ``added`` are the devices new to the VG.
    """
    steps, added, warnings, refusals, new_pvs = [], [], [], [], []
    vg_exists = spec.vg in state.vgs
    for device in spec.devices:
        pv = state.pv(device)
        label = spec.label(device)
        if pv is not None and pv.get("vg_name") == spec.vg:
            continue  # already ours: left alone
        if pv is not None and pv.get("vg_name"):
            refusals.append("%s is a PV of volume group %s (even force does not take it)"
                            % (label, pv["vg_name"]))
            continue
        dev = info[device]
        if not dev.reported:
            refusals.append("%s is not reported by lsblk (not a block device?)" % label)
            continue
        if dev.mountpoints:
            refusals.append("%s is mounted at %s (even force does not take it)"
                            % (label, ", ".join(dev.mountpoints)))
            continue
        if dev.holders:
            refusals.append("%s is held by %s (even force does not take it)"
                            % (label, ", ".join(dev.holders)))
            continue
        used_partitions = []
        for partition in dev.partitions:
            part_pv = state.pv(partition)
            if part_pv is not None:
                used_partitions.append("%s is a PV%s" % (partition, (" of volume group %s" % part_pv["vg_name"])
                                                         if part_pv.get("vg_name") else ""))
            elif dev.partition_signatures.get(partition):
                used_partitions.append("%s carries %s" % (partition,
                                                          ", ".join(dev.partition_signatures[partition])))
        if used_partitions:
            # wipefs --all on the disk would take the partition table and with it whatever
            # the partitions hold: never, not even with force
            refusals.append("%s has partitions in use (%s); even force does not wipe it"
                            % (label, "; ".join(used_partitions)))
            continue
        if pv is None:
            if "LVM2_member" in dev.signatures:
                # a PV that pvs does not list is hidden by a filter or the devices file:
                # it may well belong to a volume group, so it is never wiped
                refusals.append("%s carries an LVM2_member signature but pvs does not list it (an "
                                "lvm.conf filter or devices file hides it?); it may belong to a "
                                "volume group, so even force does not wipe it" % label)
                continue
            if dev.signatures and not spec.force:
                refusals.append("%s carries %s signature(s); set force: true to wipe it"
                                % (label, ", ".join(dev.signatures)))
                continue
            if dev.signatures:
                steps.append(Lvm.wipefs(device))
                warnings.append("wiped %s signature(s) from %s (force: true)"
                                % (", ".join(dev.signatures), label))
            new_pvs.append(device)
        # else: a PV in no VG (an earlier run stopped after pvcreate): used as it is
        added.append(device)
    if refusals:
        raise PlanError("devices: " + "; ".join(refusals) + ". Nothing was changed.")
    if new_pvs:
        # One pvcreate for all: each LVM command rescans every device, so the cost stays
        # flat in the number of disks. A run stopped inside it leaves PVs in no VG,
        # which the next run takes as they are (above).
        steps.append(Lvm.pvcreate(new_pvs))
    if added:
        steps.append(Lvm.vgextend(spec.vg, added) if vg_exists else Lvm.vgcreate(spec.vg, added))
    return steps, added, warnings


def _metadata_extents(spec, geometry, warnings):
    extent = geometry.extent_size
    if spec.metadata_size.is_percent:
        wanted = spec.metadata_size.extents(extent, geometry.extent_count, geometry.free_count,
                                            geometry.pvs_count) * extent
    else:
        wanted = spec.metadata_size.bytes
    clamped = min(max(wanted, METADATA_MIN), METADATA_MAX)
    if clamped != wanted:
        warnings.append("metadata_size: %s (%s) is outside LVM's %s to %s; using %s"
                        % (spec.metadata_size.text, human(wanted), human(METADATA_MIN),
                           human(METADATA_MAX), human(clamped)))
    return -(-clamped // extent)


def _data_extents(spec, geometry):
    return max(1, spec.size.extents(geometry.extent_size, geometry.extent_count,
                                    geometry.free_count, geometry.pvs_count))


def _spare_extents(state, spec, geometry, meta_ext):
    """Extents the pool metadata spare still needs to cover ``meta_ext``."""
    spare = state.lv(spec.vg, PMSPARE)
    have = (spare.size // geometry.extent_size) if spare else 0
    return max(0, meta_ext - have)


def _room_check(spec, geometry, data_ext, meta_ext, spare_ext, free_ext, what):
    needed = data_ext + meta_ext + spare_ext
    if needed > free_ext:
        ext = geometry.extent_size
        raise PlanError(
            "size/metadata_size: %s needs %s (data %s + metadata %s + metadata spare %s) but volume "
            "group %s has %s free; use a smaller size or add devices. Nothing was changed."
            % (what, human(needed * ext), human(data_ext * ext), human(meta_ext * ext),
               human(spare_ext * ext), spec.vg, human(free_ext * ext)))


def plan_pool(spec, state, geometry, warnings):
    """Steps for the pool itself, and the pool as it will be afterwards (a dict)."""
    ext = geometry.extent_size
    lv = state.lv(spec.vg, spec.name)
    meta_lv = state.lv(spec.vg, spec.name + "meta")
    steps = []
    want_meta = _metadata_extents(spec, geometry, warnings)
    free = geometry.free_count

    if lv is not None and not lv.is_thin_pool:
        # Converting or replacing an existing LV destroys what it holds: each has its own
        # option, never force (force only wipes signatures on the listed devices).
        wanted = "convert_existing" if meta_lv is not None else "replace_existing"
        if not (spec.convert_existing if meta_lv is not None else spec.replace_existing):
            what = ("convert the guide's half-done layout (%s with %smeta) into a thin pool"
                    % (spec.name, spec.name)) if meta_lv is not None else (
                        "remove it and make the pool in its place (its data is lost)")
            raise PlanError(
                "name: %s/%s exists and is not a thin pool (%s); set %s: true to %s. Nothing "
                "was changed." % (spec.vg, spec.name, lv.segtype or lv.attr, wanted, what))
        if lv.open or (meta_lv is not None and meta_lv.open):
            raise PlanError("name: %s/%s is open (in use); not converting or replacing it. Nothing "
                            "was changed." % (spec.vg, spec.name))
        if meta_lv is not None:
            # the guide's data LV + <name>meta LV, left when lvconvert never ran
            spare = _spare_extents(state, spec, geometry, meta_lv.size // ext)
            if spare > free:
                raise PlanError("size: converting %s/%s needs %s free for the metadata spare; "
                                "volume group %s has %s. Nothing was changed."
                                % (spec.vg, spec.name, human(spare * ext), spec.vg, human(free * ext)))
            steps.append(Lvm.lvconvert_thin_pool(spec.vg, spec.name, meta_lv.name,
                                                 lvm_arg(spec.chunk_size), spec.zero))
            warnings.append("converted the existing %s/%s and %s/%s into a thin pool "
                            "(convert_existing: true)" % (spec.vg, spec.name, spec.vg, meta_lv.name))
            free -= spare
            current = {"data": lv.size // ext, "meta": meta_lv.size // ext, "chunk": spec.chunk_size,
                       "zero": spec.zero, "discards": "passdown", "when_full": False,
                       "monitored": True, "active": True, "profile": lv.profile or None}
        else:
            steps.append(Lvm.lvremove(spec.vg, spec.name))
            warnings.append("removed %s/%s, which was not a thin pool (replace_existing: true)"
                            % (spec.vg, spec.name))
            free += lv.size // ext
            lv = None
            current = None
    elif lv is not None:
        current = {"data": lv.size // ext, "meta": lv.metadata_size // ext, "chunk": lv.chunk_size,
                   "zero": lv.zero, "discards": lv.discards, "when_full": lv.when_full == "error",
                   "monitored": lv.seg_monitor == "monitored", "active": lv.active,
                   "profile": lv.profile or None}
    else:
        current = None

    if current is None:
        data_ext = _data_extents(spec, geometry)
        spare = _spare_extents(state, spec, geometry, want_meta)
        _room_check(spec, geometry, data_ext, want_meta, spare, free, "a %s pool" % spec.size.text)
        steps.append(Lvm.lvcreate_thin_pool(spec.vg, spec.name, lvm_arg(data_ext * ext),
                                            lvm_arg(want_meta * ext), lvm_arg(spec.chunk_size),
                                            spec.zero, spec.discards, spec.profile))
        after = {"data": data_ext, "meta": want_meta, "chunk": spec.chunk_size, "zero": spec.zero,
                 "discards": spec.discards or "passdown", "when_full": False, "monitored": True,
                 "active": True, "profile": spec.profile}
        if spec.error_when_full:
            steps.append(Lvm.lvchange(spec.vg, spec.name, error_when_full=True))
            after["when_full"] = True
        if not spec.monitor:
            steps.append(Lvm.lvchange(spec.vg, spec.name, monitor=False))
            after["monitored"] = False
        return steps, after

    after = dict(current)
    if current["chunk"] != spec.chunk_size:
        raise PlanError("chunk_size: the pool %s/%s has a chunk size of %s (%d bytes); it cannot "
                        "change on an existing pool (you asked for %s). Nothing was changed."
                        % (spec.vg, spec.name, lvm_arg(current["chunk"]), current["chunk"],
                           lvm_arg(spec.chunk_size)))
    grow_data = grow_meta = 0
    if spec.size.is_percent and spec.size.base == "FREE":
        pass  # N%FREE sizes a new pool only: it would grow on every run
    else:
        want_data = _data_extents(spec, geometry)
        if want_data > current["data"]:
            grow_data = want_data - current["data"]
        elif want_data < current["data"]:
            warnings.append("size: %s (%s) is smaller than the pool (%s); thin pools cannot shrink, "
                            "so the pool keeps its size" % (spec.size.text, human(want_data * ext),
                                                            human(current["data"] * ext)))
    if not (spec.metadata_size.is_percent and spec.metadata_size.base == "FREE"):
        if want_meta > current["meta"]:
            grow_meta = want_meta - current["meta"]
        elif want_meta < current["meta"]:
            warnings.append("metadata_size: %s (%s) is smaller than the pool's metadata (%s); "
                            "pool metadata cannot shrink, so it keeps its size"
                            % (spec.metadata_size.text, human(want_meta * ext),
                               human(current["meta"] * ext)))
    if grow_data or grow_meta:
        spare = _spare_extents(state, spec, geometry, current["meta"] + grow_meta) if grow_meta else 0
        _room_check(spec, geometry, grow_data, grow_meta, spare, free, "growing the pool")
    if grow_meta:
        after["meta"] = current["meta"] + grow_meta
        steps.append(Lvm.lvextend_metadata(spec.vg, spec.name, lvm_arg(after["meta"] * ext)))
    if grow_data:
        after["data"] = current["data"] + grow_data
        steps.append(Lvm.lvextend_size(spec.vg, spec.name, lvm_arg(after["data"] * ext)))
    if current["zero"] != spec.zero:
        steps.append(Lvm.lvchange(spec.vg, spec.name, zero=spec.zero))
        after["zero"] = spec.zero
    if spec.discards and current["discards"] != spec.discards:
        steps.append(Lvm.lvchange(spec.vg, spec.name, discards=spec.discards))
        after["discards"] = spec.discards
    if spec.error_when_full is not None and current["when_full"] != spec.error_when_full:
        steps.append(Lvm.lvchange(spec.vg, spec.name, error_when_full=spec.error_when_full))
        after["when_full"] = spec.error_when_full
    if spec.profile is not None and current["profile"] != spec.profile:
        steps.append(Lvm.attach_profile("%s/%s" % (spec.vg, spec.name), spec.profile))
        after["profile"] = spec.profile
    if spec.activate and not current["active"]:
        steps.append(Lvm.lvchange(spec.vg, spec.name, activate=True))
        after["active"] = True
    if after["active"]:
        # activation turns monitoring on when lvm.conf says so; ask explicitly either way
        if spec.monitor != current["monitored"] or (spec.monitor and not current["active"]):
            steps.append(Lvm.lvchange(spec.vg, spec.name, monitor=spec.monitor))
            after["monitored"] = spec.monitor
    elif spec.monitor and not current["monitored"]:
        warnings.append("monitor: the pool is inactive (activate: false), so dmeventd cannot "
                        "monitor it")
    return steps, after


def predicted_facts(spec, geometry, before, after, devices):
    facts = dict(before or {})
    ext = geometry.extent_size
    mapper = dm_name(spec.vg, spec.name)
    facts.update({
        "vg": spec.vg, "name": spec.name, "lv_path": "/dev/%s/%s" % (spec.vg, spec.name),
        "dm_name": mapper, "dm_path": dm_path(spec.vg, spec.name),
        "size": after["data"] * ext, "metadata_size": after["meta"] * ext,
        "chunk_size": after["chunk"], "zero": after["zero"], "discards": after["discards"],
        "error_when_full": after["when_full"], "monitored": after["monitored"],
        "profile": after["profile"], "active": after["active"],
    })
    facts.setdefault("data_percent", None)
    facts.setdefault("metadata_percent", None)
    facts.setdefault("open", False)
    facts.setdefault("thin_volumes", [])
    facts.setdefault("health", None)
    facts["devices"] = sorted(set(facts.get("devices") or []) | set(devices))
    return facts


def in_use_reasons(state, vg, name):
    """Why removing the pool would pull it from under someone (empty when nothing holds it)."""
    lv = state.lv(vg, name)
    thin = state.thin_volumes(vg, name)
    reasons = ["thin volume %s/%s is open" % (vg, t.name) for t in thin if t.open]
    # The pool's own open flag is set by its active thin LVs; with none, a holder is
    # something outside LVM, such as Docker's devicemapper driver.
    if lv.open and not any(t.active for t in thin):
        reasons.append("%s is open (in use, e.g. by a running Docker)" % dm_name(vg, name))
    return reasons


def plan_absent(spec, state, warnings):
    steps = []
    lv = state.lv(spec.vg, spec.name)
    removed = set()
    if lv is not None:
        if not lv.is_thin_pool:
            raise PlanError("name: %s/%s is not a thin pool (%s); state=absent removes thin pools "
                            "only. Nothing was changed." % (spec.vg, spec.name, lv.segtype or lv.attr))
        reasons = in_use_reasons(state, spec.vg, spec.name)
        if reasons:
            # no option overrides this: removing an open pool pulls storage from under a user
            raise PlanError("state=absent: %s; stop its users first. Nothing was changed."
                            % "; ".join(reasons))
        steps.append(Lvm.lvremove(spec.vg, spec.name))
        removed.update([spec.name, spec.name + "_tdata", spec.name + "_tmeta"])
        removed.update(t.name for t in state.thin_volumes(spec.vg, spec.name))
    if spec.remove_vg and spec.vg in state.vgs:
        # hidden LVs (_tdata, _tmeta, the metadata spare) belong to the visible ones
        others = sorted(o.name for o in state.vg_lvs(spec.vg)
                        if not o.hidden and o.name not in removed)
        if others:
            warnings.append("remove_vg: volume group %s still holds %s, so it is kept"
                            % (spec.vg, ", ".join(others)))
        else:
            pvs = [row["pv_name"] for row in state.vg_pvs(spec.vg)]
            steps.append(Lvm.vgremove(spec.vg))
            if pvs:
                steps.append(Lvm.pvremove(pvs))
    return steps


# ---------------------------------------------------------------- the module backends

class ThinPoolModule(object):
    def __init__(self, module):
        self.module = module
        self.runner = CommandRunner(module)
        self.warnings = []

    def fail(self, msg, **extra):
        changed, msg = failure_report(self.runner, msg)
        for warning in self.warnings:
            self.module.warn(warning)
        self.module.fail_json(msg=msg, changed=changed,
                              commands=self.runner.commands + self.runner.planned, **extra)

    def run(self):
        """The module's result, for exit_json; a refusal or failure ends the run with fail_json."""
        try:
            spec = PoolSpec(self.module.params)
        except PlanError as exc:
            self.fail(str(exc))
        lock = locked(self.module, "container_storage.devicemapper.thinpool %s/%s"
                      % (spec.vg, spec.name))
        try:
            result = self._absent(spec) if spec.state == "absent" else self._present(spec)
        except PlanError as exc:
            self.fail(str(exc))
        except (CommandError, LvmReportError, ProfileError, OSError) as exc:
            self.fail(str(exc))
        finally:
            lock.release()
        for warning in self.warnings:
            self.module.warn(warning)
        result["commands"] = self.runner.commands + self.runner.planned
        return result

    def _read(self):
        state = LvmState.read(self.runner)
        statuses = read_pool_statuses(self.runner)
        return state, statuses

    def _present(self, spec):
        state, statuses = self._read()
        before = pool_facts(state, statuses, spec.vg, spec.name)
        vg = state.vgs.get(spec.vg)
        if vg is None and not spec.devices:
            raise PlanError("devices: volume group %s does not exist, so devices is required to "
                            "create it" % spec.vg)
        pending = [d for d in spec.devices
                   if not (state.pv(d) and state.pv(d).get("vg_name") == spec.vg)]
        # lsblk for every device new to the VG; wipefs only for those that are not PVs yet
        unlabelled = [d for d in pending if state.pv(d) is None]
        foreign = [d for d in pending if state.pv(d) and state.pv(d).get("vg_name")]
        info = inspect_devices(self.runner, [d for d in pending if d not in foreign], unlabelled)
        for device in foreign:
            info[device] = DeviceInfo(device)
        device_steps, added, warnings = plan_devices(spec, state, info)

        extent = vg.extent_size if vg else DEFAULT_EXTENT
        new_ext = sum(predicted_extents(info[d].size, extent) for d in added)
        listed = [row for row in state.vg_pvs(spec.vg) if os.path.realpath(row["pv_name"]) in spec.devices]
        pvs_ext = sum(int(row.get("pv_pe_count") or 0) for row in listed) + new_ext
        if vg is not None:
            geometry = Geometry(extent, vg.extent_count + new_ext, vg.free_count + new_ext,
                                pvs_ext or vg.extent_count + new_ext)
        else:
            geometry = Geometry(extent, new_ext, new_ext, new_ext)

        # The whole result is planned on the predicted geometry first: every refusal
        # (no room, a chunk size that cannot change, an LV in the way) comes before
        # the first pvcreate or wipefs, in check mode and for real alike.
        pool_warnings = []
        pool_steps, after = plan_pool(spec, state, geometry, pool_warnings)
        self.warnings.extend(warnings)
        profile_file = self._plan_profile_file(spec)

        # The profile first: lvcreate --metadataprofile needs its file.
        if profile_file and not self.module.check_mode:
            profile_file.apply(self.runner)
        if device_steps and not self.module.check_mode:
            # Size the pool from what vgcreate/vgextend really made, not the prediction.
            run_steps(self.runner, device_steps)
            state = state.with_new_pvs_vgs(self.runner)
            vg = state.vgs.get(spec.vg)
            if vg is None:
                raise PlanError("volume group %s is missing after `%s`" % (spec.vg, device_steps[-1][1]))
            pvs_ext = sum(int(row.get("pv_pe_count") or 0) for row in state.vg_pvs(spec.vg)
                          if os.path.realpath(row["pv_name"]) in spec.devices)
            geometry = Geometry.of_vg(vg, pvs_ext or vg.extent_count)
            device_steps = []
            pool_warnings = []
            pool_steps, after = plan_pool(spec, state, geometry, pool_warnings)
        self.warnings.extend(pool_warnings)
        steps = device_steps + pool_steps
        # device_steps already ran (and were emptied) when devices were added for real
        lvm_changed = bool(steps) or bool(added)
        changed = lvm_changed or bool(profile_file and profile_file.changed)
        run_steps(self.runner, steps)

        if self.module.check_mode or not lvm_changed:
            devices = [os.path.realpath(row["pv_name"]) for row in state.vg_pvs(spec.vg)] + added
            facts = predicted_facts(spec, geometry, before, after, devices) if lvm_changed else before
        else:
            state = state.with_new_lvs(self.runner)
            statuses = read_pool_statuses(self.runner)
            facts = pool_facts(state, statuses, spec.vg, spec.name)
            if facts is None:
                raise PlanError("the pool %s/%s is missing after the commands ran" % (spec.vg, spec.name))
            if spec.monitor and facts["active"] and not facts["monitored"]:
                raise PlanError(
                    "monitor: lvs -o seg_monitor does not show %s/%s as monitored after "
                    "`lvchange --monitor y`; is dmeventd (lvm2-monitor) available?" % (spec.vg, spec.name))
        result = {"changed": changed, "pool": facts}
        if profile_file:
            result["profile_file"] = {"path": profile_file.path, "content": profile_file.desired,
                                      "changed": profile_file.changed}
            self.warnings.extend(self._autoextend_warnings(spec, facts))
        if self.module._diff:
            result["diff"] = {"before": diff_view(before), "after": diff_view(facts)}
            if profile_file:
                # a second entry: the profile file's text, as lvm_profile shows it
                result["diff"] = [result["diff"], profile_file.diff()]
        return result

    def _plan_profile_file(self, spec):
        """The profile file's plan (FilePlan), or None without ``profile``; refuses a missing file."""
        if spec.profile is None:
            return None
        directory = read_profile_dir(self.runner, spec.profile_dir)
        plan = FilePlan(os.path.join(directory, spec.profile + PROFILE_SUFFIX), spec.profile,
                        spec.profile_sections)
        if plan.desired is None:
            raise PlanError("profile: %s does not exist, and LVM cannot attach a profile without its file; "
                            "give autoextend_threshold and autoextend_percent to have it written, or write it "
                            "with lvm_profile first. Nothing was changed." % plan.path)
        return plan

    def _autoextend_warnings(self, spec, facts):
        """Why the pool would still never autoextend (lvm_profile's checks, on the pool as it is now)."""
        if spec.profile_sections is None or not facts:
            return []
        # (the VG's free space is not checked: the snapshot was read before the pool took its share)
        row = {"segtype": "thin-pool", "seg_monitor": "monitored" if facts["monitored"] else "not monitored"}
        path = "%s/%s" % (spec.vg, spec.name)
        return autoextend_warnings(spec.profile_sections, {path: row}, [path])

    def _absent(self, spec):
        if spec.profile is not None:
            self.warnings.append("profile, autoextend_threshold and autoextend_percent are ignored with "
                                 "state=absent: the profile file stays (lvm_profile with state=absent removes it)")
        state, statuses = self._read()
        before = pool_facts(state, statuses, spec.vg, spec.name)
        steps = plan_absent(spec, state, self.warnings)
        run_steps(self.runner, steps)
        result = {"changed": bool(steps), "pool": {}}
        if self.module._diff:
            result["diff"] = {"before": diff_view(before), "after": {}}
        return result
