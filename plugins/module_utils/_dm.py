# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Device-mapper names, tables and thin-pool status.

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

SECTOR_BYTES = 512
MAPPER_DIR = "/dev/mapper/"


def dm_name(vg, lv):
    """The /dev/mapper name LVM gives ``vg/lv``: every '-' inside a name is doubled."""
    return "%s-%s" % (vg.replace("-", "--"), lv.replace("-", "--"))


def dm_path(vg, lv):
    return MAPPER_DIR + dm_name(vg, lv)


def strip_mapper_dir(value):
    """The dm name of a ``/dev/mapper/NAME`` path; any other value (a dm name, None) as it is.

    Docker's dm.thinpooldev, containerd's pool_name and dm_reload's name take either form.
    """
    if isinstance(value, str) and value.startswith(MAPPER_DIR):
        return value[len(MAPPER_DIR):]
    return value


LVM_UUID_PREFIX = "LVM-"


def is_lvm_uuid(uuid):
    """True for the device-mapper UUID of a device LVM made (``LVM-<vg uuid><lv uuid>[-layer]``)."""
    return (uuid or "").startswith(LVM_UUID_PREFIX)


def split_dm_name(name):
    """``(vg, lv, layer)`` of a name made by ``dm_name`` (``layer`` is "" or e.g. ``tpool``);
    None when ``name`` is not in that form. The inverse of ``dm_name``: "--" is one '-'."""
    parts, current, index = [], [], 0
    while index < len(name):
        if name[index] != "-":
            current.append(name[index])
            index += 1
        elif name[index + 1:index + 2] == "-":
            current.append("-")
            index += 2
        else:
            parts.append("".join(current))
            current = []
            index += 1
    parts.append("".join(current))
    if len(parts) not in (2, 3) or not all(parts):
        return None
    return parts[0], parts[1], parts[2] if len(parts) == 3 else ""


class TableLine(object):
    """One line of `dmsetup table`: start and length in 512-byte sectors."""

    def __init__(self, start, length, target, args):
        self.start = int(start)
        self.length = int(length)
        self.target = target
        self.args = list(args)

    @classmethod
    def parse(cls, line):
        fields = line.split()
        if len(fields) < 3:
            raise ValueError("not a device-mapper table line: %r" % line)
        try:
            return cls(fields[0], fields[1], fields[2], fields[3:])
        except ValueError:
            raise ValueError("start and length must be integers in table line %r" % line)

    def render(self):
        return " ".join([str(self.start), str(self.length), self.target] + self.args)


def parse_table(text):
    return [TableLine.parse(line) for line in text.splitlines() if line.strip()]


# "<name>: <start> <length> <target> [args]"; a name may itself hold ':'
# (Docker's loop-lvm pools are named "docker-8:1-1234-pool"), so the name is
# everything before the last ": " that is followed by two numbers and a target.
_STATUS_LINE = re.compile(r"\A(?P<name>.*): (?P<rest>\d+ \d+ [A-Za-z][\w-]*(?: .*)?)\Z")


def split_status_line(line):
    """``(name, "start length target args")`` of one line of `dmsetup status`/`table` with
    every device; None for a line that is not one ("No devices found")."""
    match = _STATUS_LINE.match(line.rstrip("\n"))
    if not match:
        return None
    return match.group("name"), match.group("rest")


def parse_thin_pool_status(line):
    """Parse a `dmsetup status` thin-pool line into a dict, or None if it is not one.

    ``[name: ]start length thin-pool transaction_id used_meta/total_meta
    used_data/total_data held_root mode [features...]``; ``mode`` is rw, ro or
    out_of_data_space; ``needs_check`` appears among the features. A pool in
    ``Fail`` state prints only that word after the target name.
    """
    named = split_status_line(line)
    fields = (named[1] if named else line).split()
    if len(fields) < 4 or fields[2] != "thin-pool":
        return None
    rest = fields[3:]
    if rest[0] in ("Fail", "Error"):
        return {"state": "failed", "fail": True, "needs_check": False, "mode": None}
    try:
        meta_used, meta_total = (int(v) for v in rest[1].split("/"))
        data_used, data_total = (int(v) for v in rest[2].split("/"))
    except (IndexError, ValueError):
        raise ValueError("unexpected thin-pool status: %r" % line)
    features = rest[5:]
    mode = rest[4] if len(rest) > 4 else None
    needs_check = "needs_check" in features
    if needs_check:
        state = "needs_check"
    elif mode == "out_of_data_space":
        state = "out_of_data_space"
    elif mode == "ro":
        state = "read_only"
    else:
        state = "ok"
    return {
        "transaction_id": int(rest[0]),
        "metadata_used_blocks": meta_used,
        "metadata_total_blocks": meta_total,
        "data_used_blocks": data_used,
        "data_total_blocks": data_total,
        "held_metadata_root": rest[3] if len(rest) > 3 else None,
        "mode": mode,
        "needs_check": needs_check,
        "fail": False,
        "state": state,
        "features": features,
    }


def parse_pool_statuses(out):
    """Every thin-pool line of `dmsetup status --target thin-pool`, parsed, by dm name."""
    statuses = {}
    for line in out.splitlines():
        named = split_status_line(line)
        if named is None:
            continue  # "No devices found"
        try:
            parsed = parse_thin_pool_status(line)
        except ValueError:
            parsed = {"state": "unknown", "fail": False, "needs_check": False, "mode": None}
        if parsed:
            statuses[named[0]] = parsed
    return statuses


def pool_status(statuses, vg, name):
    """The status of pool ``vg/name``: with thin LVs LVM puts the thin-pool target in
    ``<dm>-tpool`` under a linear ``<dm>``; without, ``<dm>`` is the pool itself."""
    mapper = dm_name(vg, name)
    return statuses.get(mapper + "-tpool") or statuses.get(mapper)


# ---------------------------------------------------------------- dmsetup

def is_device_ref(arg):
    """True for a table argument that names a block device: ``MAJ:MIN`` or a /dev path."""
    if arg.startswith("/dev/"):
        return True
    major, sep, minor = arg.partition(":")
    return bool(sep) and major.isdigit() and minor.isdigit()


def render_table(lines):
    """The table as `dmsetup table` prints it, one segment a line, single spaces."""
    return "\n".join(line.render() for line in lines)


def parse_info(text):
    """Parse ``dmsetup info -c --noheadings --nameprefixes`` output (one device).

    Returns a dict with ``name``, ``uuid``, ``devno``, ``open`` and, from
    the attr field, ``live`` / ``inactive`` (table slots filled),
    ``suspended`` and ``read_only``.
    """
    fields = {}
    for key, value in re.findall(r"DM_([A-Z_]+)='((?:[^'\\]|\\.)*)'", text):
        fields[key.lower()] = value.replace("\\'", "'")
    if "name" not in fields:
        raise ValueError("unexpected dmsetup info output: %r" % text)
    attr = fields.get("attr", "")
    fields["live"] = "L" in attr
    fields["inactive"] = "I" in attr
    fields["suspended"] = "s" in attr
    fields["read_only"] = "r" in attr
    return fields


def is_missing_device(message):
    """Whether dmsetup's error says the named device does not exist (ENXIO),
    as opposed to a failure to read one that does."""
    return "No such device or address" in (message or "")


class Dmsetup(object):
    """One method per dmsetup operation, each returning the argument list.

    Nothing here runs a command: the lists go to ``CommandRunner.run`` or
    into a plan, so no module assembles dmsetup argv by hand.
    """

    INFO_FIELDS = "name,attr,uuid,devno,open"

    @staticmethod
    def info(name):
        return ["dmsetup", "info", "-c", "--noheadings", "--nameprefixes",
                "-o", Dmsetup.INFO_FIELDS, name]

    @staticmethod
    def table(name, inactive=False):
        return ["dmsetup", "table"] + (["--inactive"] if inactive else []) + [name]

    @staticmethod
    def status(name=None, target=None):
        """One device's status, or (no name) every device's, optionally of one target type."""
        return ["dmsetup", "status"] + (["--target", target] if target else []) + ([name] if name else [])

    @staticmethod
    def ls(target=None):
        return ["dmsetup", "ls"] + (["--target", target] if target else [])

    @staticmethod
    def suspend(name, noflush=False):
        return ["dmsetup", "suspend"] + (["--noflush"] if noflush else []) + [name]

    @staticmethod
    def reload(name, table):
        """Load ``table`` (text, one segment a line) as the inactive table."""
        return ["dmsetup", "reload", name, "--table", table]

    @staticmethod
    def resume(name):
        return ["dmsetup", "resume", name]

    @staticmethod
    def clear(name):
        """Drop the inactive table (the live one is untouched)."""
        return ["dmsetup", "clear", name]
