# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""LVM reports read as JSON into plain Python objects.

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

# Sizes in bytes with no suffix, so nothing is parsed from "1.00g".
REPORT_OPTIONS = ["--reportformat", "json", "--units", "b", "--nosuffix"]


class LvmReportError(Exception):
    pass


def read_report(runner, command, fields, names=None, all_lvs=False):
    """Run ``lvm <command>`` (pvs, vgs or lvs) in JSON form; return a list of dicts.

    ``names`` restricts the report to these VGs/LVs/PVs; a name that does not
    exist makes LVM exit non-zero, so pass none and filter instead when
    absence is an expected answer.
    """
    argv = ["lvm", command] + REPORT_OPTIONS + ["-o", ",".join(fields)]
    if all_lvs:
        argv.append("-a")
    argv += list(names or [])
    rc, out, err = runner.run(argv)
    try:
        document = json.loads(out)
        rows = []
        for report in document["report"]:
            for value in report.values():
                rows.extend(value)
        return rows
    except (ValueError, KeyError, TypeError) as exc:
        raise LvmReportError("cannot read `lvm %s` JSON output (%s): %r" % (command, exc, out[:200]))


# ---------------------------------------------------------------- one snapshot per run

PV_FIELDS = ["pv_name", "vg_name", "pv_size", "pv_free", "dev_size", "pv_pe_count"]
VG_FIELDS = ["vg_name", "vg_size", "vg_free", "vg_extent_size", "vg_extent_count",
             "vg_free_count", "lv_count", "pv_count"]
# Segment fields (chunk_size, seg_monitor, discards) give one row per segment:
# rows of one LV are merged by LvmState.
LV_FIELDS = ["lv_name", "vg_name", "lv_attr", "lv_size", "segtype", "pool_lv", "data_percent",
             "metadata_percent", "chunk_size", "lv_metadata_size", "seg_monitor", "discards",
             "lv_when_full", "lv_profile", "lv_active", "devices"]


def _int(value, default=0):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class LogicalVolume(object):
    def __init__(self, row):
        self.name = row["lv_name"].strip("[]")
        self.hidden = row["lv_name"].startswith("[")
        self.vg = row["vg_name"]
        self.attr = row.get("lv_attr") or ""
        self.size = _int(row.get("lv_size"))
        self.segtype = row.get("segtype") or ""
        self.pool_lv = row.get("pool_lv") or ""
        self.data_percent = _float(row.get("data_percent"))
        self.metadata_percent = _float(row.get("metadata_percent"))
        self.chunk_size = _int(row.get("chunk_size"))
        self.metadata_size = _int(row.get("lv_metadata_size"))
        self.seg_monitor = row.get("seg_monitor") or ""
        self.discards = row.get("discards") or ""
        self.when_full = row.get("lv_when_full") or ""
        self.profile = row.get("lv_profile") or ""
        self.devices = []
        self.add_segment(row)

    def add_segment(self, row):
        for device in (row.get("devices") or "").split(","):
            device = device.split("(")[0].strip()
            if device and device not in self.devices:
                self.devices.append(device)

    @property
    def is_thin_pool(self):
        return self.attr[:1] == "t" or self.segtype == "thin-pool"

    @property
    def active(self):
        return self.attr[4:5] == "a"

    @property
    def open(self):
        return self.attr[5:6] == "o"

    @property
    def zero(self):
        return self.attr[7:8] == "z"


class VolumeGroup(object):
    def __init__(self, row):
        self.name = row["vg_name"]
        self.size = _int(row.get("vg_size"))
        self.free = _int(row.get("vg_free"))
        self.extent_size = _int(row.get("vg_extent_size"))
        self.extent_count = _int(row.get("vg_extent_count"))
        self.free_count = _int(row.get("vg_free_count"))


class LvmState(object):
    """PVs, VGs and LVs (hidden ones too) from one pvs, one vgs and one lvs call."""

    def __init__(self, pvs, vgs, lvs):
        self.pvs = pvs
        self.vg_rows = vgs
        self.lv_rows = lvs
        self.vgs = dict((row["vg_name"], VolumeGroup(row)) for row in vgs)
        self.lvs = {}
        for row in lvs:
            key = (row["vg_name"], row["lv_name"].strip("[]"))
            if key in self.lvs:
                self.lvs[key].add_segment(row)
            else:
                self.lvs[key] = LogicalVolume(row)

    @classmethod
    def read(cls, runner):
        return cls(read_report(runner, "pvs", PV_FIELDS),
                   read_report(runner, "vgs", VG_FIELDS),
                   read_report(runner, "lvs", LV_FIELDS, all_lvs=True))

    def with_new_pvs_vgs(self, runner):
        """After pvcreate/vgcreate/vgextend only PVs and VGs changed: re-read those two."""
        return LvmState(read_report(runner, "pvs", PV_FIELDS), read_report(runner, "vgs", VG_FIELDS),
                        self.lv_rows)

    def with_new_lvs(self, runner):
        """After lvcreate/lvextend/lvchange only LVs changed: re-read lvs."""
        return LvmState(self.pvs, self.vg_rows, read_report(runner, "lvs", LV_FIELDS, all_lvs=True))

    def pv(self, device):
        """The pvs row of ``device`` (a resolved path): LVM may name a PV by any of its links."""
        for row in self.pvs:
            if row["pv_name"] == device or os.path.realpath(row["pv_name"]) == device:
                return row
        return None

    def vg_pvs(self, vg):
        return [row for row in self.pvs if row.get("vg_name") == vg]

    def lv(self, vg, name):
        return self.lvs.get((vg, name))

    def vg_lvs(self, vg):
        return [lv for key, lv in sorted(self.lvs.items()) if key[0] == vg]

    def thin_pools(self):
        return [lv for key, lv in sorted(self.lvs.items()) if lv.is_thin_pool and not lv.hidden]

    def thin_volumes(self, vg, pool):
        return [lv for lv in self.vg_lvs(vg) if lv.pool_lv == pool and lv.segtype == "thin"]

    def pool_devices(self, vg, pool):
        """The PVs under a pool: those of its hidden data and metadata LVs."""
        devices = []
        for suffix in ("_tdata", "_tmeta"):
            lv = self.lv(vg, pool + suffix)
            for device in (lv.devices if lv else []):
                device = os.path.realpath(device)
                if device not in devices:
                    devices.append(device)
        return sorted(devices)


# ---------------------------------------------------------------- one method per command

class Lvm(object):
    """Argument lists for the LVM (and wipefs) commands the modules run; nothing runs here."""

    @staticmethod
    def wipefs(device):
        return ["wipefs", "--all", device]

    @staticmethod
    def pvcreate(devices):
        return ["lvm", "pvcreate"] + list(devices)

    @staticmethod
    def vgcreate(vg, devices):
        return ["lvm", "vgcreate", vg] + list(devices)

    @staticmethod
    def vgextend(vg, devices):
        return ["lvm", "vgextend", vg] + list(devices)

    @staticmethod
    def lvcreate_thin_pool(vg, name, size, metadata_size, chunk_size, zero, discards=None, profile=None):
        argv = ["lvm", "lvcreate", "--type", "thin-pool", "-L", size, "--poolmetadatasize",
                metadata_size, "--chunksize", chunk_size, "-Z", "y" if zero else "n"]
        if discards:
            argv += ["--discards", discards]
        if profile:
            # attached from the start: the pool autoextends from its first write
            argv += ["--metadataprofile", profile]
        return argv + ["-n", name, vg]

    @staticmethod
    def lvconvert_thin_pool(vg, name, metadata_lv, chunk_size, zero):
        return ["lvm", "lvconvert", "-y", "--zero", "y" if zero else "n", "-c", chunk_size,
                "--thinpool", "%s/%s" % (vg, name), "--poolmetadata", "%s/%s" % (vg, metadata_lv)]

    @staticmethod
    def lvextend_size(vg, name, size):
        return ["lvm", "lvextend", "-L", size, "%s/%s" % (vg, name)]

    @staticmethod
    def lvextend_metadata(vg, name, size):
        return ["lvm", "lvextend", "--poolmetadatasize", size, "%s/%s" % (vg, name)]

    @staticmethod
    def lvchange(vg, name, activate=None, monitor=None, discards=None, error_when_full=None,
                 zero=None):
        argv = ["lvm", "lvchange"]
        if activate is not None:
            argv += ["-ay" if activate else "-an"]
        if monitor is not None:
            argv += ["--monitor", "y" if monitor else "n"]
        if discards is not None:
            argv += ["--discards", discards]
        if error_when_full is not None:
            argv += ["--errorwhenfull", "y" if error_when_full else "n"]
        if zero is not None:
            argv += ["-Z", "y" if zero else "n"]
        return argv + ["%s/%s" % (vg, name)]

    @staticmethod
    def attach_profile(lv_path, profile):
        return ["lvm", "lvchange", "--metadataprofile", profile, lv_path]

    @staticmethod
    def detach_profile(lv_path):
        return ["lvm", "lvchange", "--detachprofile", lv_path]

    @staticmethod
    def lvremove(vg, name):
        return ["lvm", "lvremove", "-y", "%s/%s" % (vg, name)]

    @staticmethod
    def vgremove(vg):
        return ["lvm", "vgremove", "-y", vg]

    @staticmethod
    def pvremove(devices):
        return ["lvm", "pvremove", "-y"] + list(devices)
