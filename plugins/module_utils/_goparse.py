# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Go's parsers for the values Docker and containerd read: strconv's ParseBool, ParseUint,
ParseInt and ParseFloat, and go-units' RAMInBytes.

Each returns what Go would get, or None where Go would return an error, so a value
dockerd or containerd would refuse is refused before it is written.

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_GO_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_GO_FALSE = ("0", "f", "F", "FALSE", "false", "False")

_GO_DEC_FLOAT = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_GO_HEX_FLOAT = re.compile(r"^[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+$")
_SIZE_MULTIPLIERS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def go_parse_bool(value):
    """Go's strconv.ParseBool: True/False, or None when Go would reject it."""
    if value in _GO_TRUE:
        return True
    if value in _GO_FALSE:
        return False
    return None


def go_parse_uint(value, bits):
    """Go's strconv.ParseUint(value, 10, bits): an int, or None when Go would reject it."""
    if not re.match(r"^[0-9]+$", value or ""):
        return None
    number = int(value)
    return number if number < (1 << bits) else None


def go_parse_int(value, bits):
    """Go's strconv.ParseInt(value, 10, bits): an int, or None when Go would reject it."""
    if not re.match(r"^[+-]?[0-9]+$", value or ""):
        return None
    number = int(value)
    limit = 1 << (bits - 1)
    return number if -limit <= number < limit else None


def _go_parse_float(text):
    if _GO_DEC_FLOAT.match(text):
        number = float(text)
    elif _GO_HEX_FLOAT.match(text):
        sign = -1.0 if text.startswith("-") else 1.0
        number = sign * float.fromhex(text.lstrip("+-"))
    else:
        return None
    if number in (float("inf"), float("-inf")):
        return None  # Go: value out of range
    return number


def ram_in_bytes(value):
    """go-units RAMInBytes (v0.5, as vendored by Docker 24): bytes, or None if invalid.

    A number (Go float syntax, no negatives), an optional single space, then an
    optional case-insensitive suffix: b, or k/m/g/t/p optionally followed by
    b or ib (binary multiples either way).
    """
    if not isinstance(value, str):
        return None
    sep = max(value.rfind(ch) for ch in "0123456789. ")
    if sep == -1:
        return None
    if value[sep] == " ":
        number, suffix = value[:sep], value[sep + 1:]
    else:
        number, suffix = value[:sep + 1], value[sep + 1:]
    size = _go_parse_float(number)
    if size is None or size < 0:
        return None
    if not suffix:
        return int(size)
    if len(suffix) > 3:
        return None
    suffix = suffix.lower()
    if suffix[0] == "b":
        return int(size) if len(suffix) == 1 else None
    if suffix[0] not in _SIZE_MULTIPLIERS:
        return None
    if len(suffix) == 2 and suffix[1] != "b":
        return None
    if len(suffix) == 3 and suffix[1:] != "ib":
        return None
    return int(size * _SIZE_MULTIPLIERS[suffix[0]])
