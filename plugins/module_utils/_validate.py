# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One validator per kind of input, shared by every module.

Each raises ``InputError`` with a message that starts with the option's name
and says what is wrong, before any command runs. Allowlists, never
blocklists: a name reaches LVM, dmsetup and file paths, so only what those
all accept safely passes.

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

# ``\Z``, not ``$``: ``$`` also matches before a trailing newline ("docker\n").
_LVM_NAME = re.compile(r"\A[A-Za-z0-9+_.][A-Za-z0-9+_.-]*\Z")
# Device-mapper names LVM makes use the same characters; dmsetup allows more,
# but a name that is not a plain word reaches dmsetup's option parser or a path.
_DM_NAME = re.compile(r"\A[A-Za-z0-9+_.:@][A-Za-z0-9+_.:@-]*\Z")
# A systemd unit name without its type suffix (systemd.unit(5)): no '/', no space,
# and no leading '-' that systemctl would read as an option.
_UNIT_NAME = re.compile(r"\A[A-Za-z0-9_.:\\@][A-Za-z0-9_.:\\@-]*\Z")
UNIT_NAME_MAX = 200
LVM_NAME_MAX = 127
DM_NAME_MAX = 127
# Parts of LV names LVM keeps for its own hidden sub-volumes (lvm(8), "VALID NAMES").
LVM_RESERVED_PARTS = ("_cdata", "_cmeta", "_corig", "_cpool", "_cvol", "_mimage", "_mlog",
                      "_pmspare", "_rimage", "_rmeta", "_tdata", "_tmeta", "_vdata", "_vorigin",
                      "_wcorig")


class InputError(ValueError):
    """A module option is unusable; nothing has been run or changed."""


def not_empty(option, value, what="a value"):
    """Refuse an empty or blank string: a template that rendered empty must never fall back
    to a default (``name: ""`` must not mean the default pool)."""
    if value is None:
        return value
    if not isinstance(value, str):
        return value
    if not value.strip():
        raise InputError("%s: must not be empty (%s is required; did a template render to an "
                         "empty string?)" % (option, what))
    return value


def refuse_empty(params, options):
    """``not_empty`` for each of ``options`` that the user set (None means not given)."""
    for option in options:
        value = params.get(option)
        if isinstance(value, list):
            for index, item in enumerate(value):
                not_empty("%s[%d]" % (option, index), item)
        else:
            not_empty(option, value)


def lvm_name(option, value, kind="lv"):
    """An LVM VG or LV name (lvm(8) "VALID NAMES"); ``kind`` is ``vg``, ``lv`` or ``profile``."""
    not_empty(option, value, "a name")
    if not isinstance(value, str):
        raise InputError("%s: %r is not a string" % (option, value))
    if len(value) > LVM_NAME_MAX:
        raise InputError("%s: %r is longer than LVM's %d characters"
                         % (option, value, LVM_NAME_MAX))
    if value.startswith("-"):
        raise InputError("%s: %r must not start with '-' (LVM would read it as an option)"
                         % (option, value))
    if value in (".", "..") or not _LVM_NAME.match(value):
        raise InputError("%s: %r may only contain letters, digits and + _ . - (no '/', spaces, "
                         "quotes, backslashes, '#' or control characters)" % (option, value))
    if kind == "lv":
        if value.startswith("snapshot") or value.startswith("pvmove"):
            raise InputError("%s: %r: LVM reserves names starting with snapshot or pvmove"
                             % (option, value))
        for part in LVM_RESERVED_PARTS:
            if part in value:
                raise InputError("%s: %r: LVM reserves names containing %s" % (option, value, part))
    return value


def dm_device_name(option, value):
    """A device-mapper device name as given to dmsetup (not a path)."""
    not_empty(option, value, "a device-mapper name")
    if not isinstance(value, str):
        raise InputError("%s: %r is not a string" % (option, value))
    if len(value) > DM_NAME_MAX:
        raise InputError("%s: %r is longer than device-mapper's %d characters"
                         % (option, value, DM_NAME_MAX))
    if value.startswith("-"):
        raise InputError("%s: %r must not start with '-' (dmsetup would read it as an option)"
                         % (option, value))
    if value in (".", "..") or not _DM_NAME.match(value):
        raise InputError("%s: %r is not a device-mapper name: only letters, digits and "
                         "+ _ . : @ - are accepted (no '/', spaces or control characters)"
                         % (option, value))
    return value


def systemd_unit_name(option, value):
    """A systemd unit name given without its suffix (``docker``, not ``docker.service``):
    modules read both ``<name>.service`` and ``<name>.socket``."""
    not_empty(option, value, "a systemd unit name")
    if not isinstance(value, str):
        raise InputError("%s: %r is not a string" % (option, value))
    if value.endswith((".service", ".socket")):
        raise InputError("%s: give the name without its suffix (%r, not %r): the module reads "
                         "both <name>.service and <name>.socket" % (option, value.rsplit(".", 1)[0], value))
    if not _UNIT_NAME.match(value) or len(value) > UNIT_NAME_MAX:
        raise InputError("%s: %r is not a systemd unit name: only letters, digits and _ . : @ \\ - "
                         "are accepted, and it must not start with '-'" % (option, value))
    return value


def percent(option, value, low=0.0, high=100.0):
    """A finite number from ``low`` to ``high`` (thresholds): NaN and infinities are refused."""
    if isinstance(value, bool):
        raise InputError("%s: %r is not a number" % (option, value))
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError("%s: %r is not a number" % (option, value))
    if math.isnan(number) or math.isinf(number):
        raise InputError("%s: %r is not a finite number" % (option, value))
    if not low <= number <= high:
        raise InputError("%s: %s is outside %s to %s" % (option, value, _num(low), _num(high)))
    return number


def positive_int(option, value, low=0, high=None):
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError("%s: %r is not a whole number" % (option, value))
    if value < low or (high is not None and value > high):
        upper = high if high is not None else "any"
        raise InputError("%s: %d is outside %d to %s" % (option, value, low, upper))
    return value


def _num(value):
    return ("%d" % value) if float(value).is_integer() else ("%s" % value)
