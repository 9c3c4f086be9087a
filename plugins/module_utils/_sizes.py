# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""LVM sizes: parse ``100G``/``512k``/``95%VG``, resolve them, format them back.

LVM's command-line units are binary whatever their case (``g`` and ``G`` are
both GiB), ``s`` is a 512-byte sector, and a bare number is in the command's
default unit (MiB for ``-L``, KiB for ``--chunksize``).

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

KIB = 1024
MIB = 1024 ** 2
GIB = 1024 ** 3

UNITS = {
    "b": 1,
    "s": 512,
    "k": KIB,
    "m": MIB,
    "g": GIB,
    "t": 1024 ** 4,
    "p": 1024 ** 5,
    "e": 1024 ** 6,
}

PERCENT_BASES = ("VG", "FREE", "PVS")

_ABSOLUTE = re.compile(r"^(?P<number>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>[bskmgtpe])?$", re.IGNORECASE)
_PERCENT = re.compile(r"^(?P<number>[0-9]+(?:\.[0-9]+)?)\s*%\s*(?P<base>[a-z]+)$", re.IGNORECASE)


class SizeError(ValueError):
    pass


class Size(object):
    """A parsed size: absolute bytes, or a percentage of the VG, its free space or given PVs."""

    def __init__(self, text, nbytes=None, percent=None, base=None):
        self.text = text
        self.bytes = nbytes
        self.percent = percent
        self.base = base

    @property
    def is_percent(self):
        return self.percent is not None

    def __repr__(self):
        return "Size(%r)" % self.text

    def extents(self, extent_size, vg_extents=0, free_extents=0, pvs_extents=0, round_up=True):
        """The size in whole extents.

        An absolute size is rounded up to the extent boundary, as LVM does;
        a percentage is rounded down, as ``lvcreate -l N%VG`` does.
        """
        if extent_size <= 0:
            raise SizeError("extent size must be positive")
        if not self.is_percent:
            whole, rest = divmod(self.bytes, extent_size)
            return whole + (1 if rest and round_up else 0)
        total = {"VG": vg_extents, "FREE": free_extents, "PVS": pvs_extents}[self.base]
        # Integer arithmetic on hundredths of a percent keeps 95%VG exact.
        hundredths = int(round(self.percent * 100))
        return (total * hundredths) // 10000


def parse_size(text, default_unit="m", allow_percent=True, what="size"):
    """Parse an LVM size; raise SizeError saying what is wrong and naming ``what``."""
    if isinstance(text, bool) or text is None:
        raise SizeError("%s: %r is not a size" % (what, text))
    if isinstance(text, int):
        text = str(text)
    raw = str(text).strip()
    match = _PERCENT.match(raw)
    if match:
        if not allow_percent:
            raise SizeError("%s: %r must be an absolute size (like 512K), not a percentage" % (what, raw))
        base = match.group("base").upper()
        if base not in PERCENT_BASES:
            raise SizeError("%s: %r: a percentage must be of VG, FREE or PVS (like 95%%VG)" % (what, raw))
        percent = float(match.group("number"))
        if percent <= 0 or percent > 100:
            raise SizeError("%s: %r: the percentage must be more than 0 and at most 100" % (what, raw))
        return Size(raw, percent=percent, base=base)
    match = _ABSOLUTE.match(raw)
    if not match:
        raise SizeError(
            "%s: %r is not a size: use a number with an optional unit b, s, k, m, g, t, p or e "
            "(binary, any case)%s" % (what, raw, ", or N%VG, N%FREE, N%PVS" if allow_percent else ""))
    unit = (match.group("unit") or default_unit).lower()
    number = match.group("number")
    if "." in number:
        whole, frac = number.split(".")
        nbytes = int(whole) * UNITS[unit] + (int(frac) * UNITS[unit]) // (10 ** len(frac))
    else:
        nbytes = int(number) * UNITS[unit]
    if nbytes <= 0:
        raise SizeError("%s: %r must be larger than zero" % (what, raw))
    return Size(raw, nbytes=nbytes)


def lvm_arg(nbytes):
    """Exact LVM argument for a byte count, in the largest unit that divides it (``4860m``)."""
    nbytes = int(nbytes)
    for unit in ("e", "p", "t", "g", "m", "k"):
        if nbytes and nbytes % UNITS[unit] == 0:
            return "%d%s" % (nbytes // UNITS[unit], unit)
    return "%db" % nbytes


def human(nbytes):
    """Bytes as a person reads them: ``4.75 GiB``."""
    if nbytes is None:
        return "unknown"
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            if unit == "B":
                return "%d B" % nbytes
            return "%.2f %s" % (value, unit)
        value /= 1024
    return "%d B" % nbytes
