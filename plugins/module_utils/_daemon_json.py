# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Docker's daemon.json as a file: the one strict read, the merge of the storage keys, the rewrite.

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import os
import re

DEFAULT_PATH = "/etc/docker/daemon.json"
STORAGE_DRIVER_KEY = "storage-driver"
STORAGE_OPTS_KEY = "storage-opts"
STORAGE_KEYS = (STORAGE_DRIVER_KEY, STORAGE_OPTS_KEY)
# features.containerd-snapshotter true turns on the containerd image store (_docker_options).
FEATURES_KEY = "features"
SNAPSHOTTER_FEATURE = "containerd-snapshotter"


class DaemonJsonError(Exception):
    """daemon.json cannot be used as it is; the message names the file and the key or byte."""

    def __init__(self, path, problem, key=None):
        self.path = path
        self.key = key
        self.problem = problem
        where = "%s: %s" % (path, json.dumps(key)) if key is not None else path
        super(DaemonJsonError, self).__init__("%s %s; the file was left untouched" % (where, problem))


def _json_kind(value):
    """What a parsed JSON value is, in JSON's words, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _cut(text, length=40):
    return text if len(text) <= length else text[:length] + "..."


def _shown(value):
    return "%s (%s)" % (_cut(json.dumps(value, ensure_ascii=False), 80), _json_kind(value))


def _check_string(path, key, value):
    if not isinstance(value, str):
        raise DaemonJsonError(path, "must be a string, not %s (dockerd refuses to start)" % _shown(value), key)


def _check_directory(path, key, value):
    _check_string(path, key, value)
    if not value.strip():
        raise DaemonJsonError(path, "is an empty string: Docker's data root cannot be told from it; "
                              "give a directory or remove the key", key)


def _check_storage_opts(path, key, value):
    if not isinstance(value, list):
        raise DaemonJsonError(path, "must be an array of \"key=value\" strings, not %s (dockerd refuses "
                              "to start)" % _shown(value), key)
    for index, entry in enumerate(value):
        if not isinstance(entry, str):
            raise DaemonJsonError(path, "entry %d must be a \"key=value\" string, not %s (dockerd refuses "
                                  "to start)" % (index, _shown(entry)), key)


def _check_features(path, key, value):
    if not isinstance(value, dict):
        raise DaemonJsonError(path, "must be an object of names to true or false, not %s (dockerd refuses "
                              "to start)" % _shown(value), key)
    for name, enabled in value.items():
        if not isinstance(enabled, bool):
            raise DaemonJsonError(path, "entry %s must be true or false, not %s (dockerd refuses to start)"
                                  % (json.dumps(name), _shown(enabled)), key)


# The daemon.json keys this collection reads or writes, with the check of the JSON
# type dockerd decodes each into (a value of another type stops dockerd at start).
DAEMON_JSON_KEY_CHECKS = (
    (STORAGE_DRIVER_KEY, _check_string),
    (STORAGE_OPTS_KEY, _check_storage_opts),
    ("data-root", _check_directory),
    ("graph", _check_directory),  # data-root's name before Docker 17.05
    ("features", _check_features),
)


def _refuse_constant(path):
    def refuse(name):
        raise DaemonJsonError(path, "holds %s, which is not JSON (dockerd refuses to start with it)" % name)
    return refuse


def _finite_float(path):
    def parse(text):
        number = float(text)
        if math.isinf(number):
            raise DaemonJsonError(path, "holds the number %s, too large for a 64-bit float (dockerd refuses "
                                  "to start with it)" % _cut(text))
        return number
    return parse


def _int_within_float64(path):
    def parse(text):
        number = int(text)
        if abs(number) > _FLOAT64_MAX:
            raise DaemonJsonError(path, "holds the number %s, too large for a 64-bit float (dockerd "
                                  "refuses to start with it)" % _cut(text))
        return number
    return parse


_FLOAT64_MAX = 1.7976931348623157e308


def _object_without_duplicates(path, refuse_duplicates):
    def build(pairs):
        document = {}
        for key, value in pairs:
            if key in document and refuse_duplicates:
                raise DaemonJsonError(path, "appears twice in one object: dockerd uses the last one, and "
                                      "rewriting the file would drop the first; remove one of them", key)
            document[key] = value
        return document
    return build


def parse_daemon_json(data, path, refuse_duplicates=True):
    """The JSON object in ``data`` (the file's bytes) and its text, checked as described in
    ``read_daemon_json``; an empty file is an empty object, as for dockerd."""
    if not isinstance(data, bytes):
        raise TypeError("parse_daemon_json takes the file's bytes, not %s" % type(data).__name__)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DaemonJsonError(path, "is not valid UTF-8: byte 0x%02x at byte offset %d (line %d, column %d): "
                              "%s; Docker reads daemon.json as UTF-8, so fix or remove that byte"
                              % (bytearray(data)[exc.start], exc.start, line, column, exc.reason))
    if text.startswith(u"\ufeff"):
        raise DaemonJsonError(path, "starts with a UTF-8 byte order mark (bytes EF BB BF), which is not "
                              "JSON and which some dockerd versions refuse; remove those three bytes")
    if not text.strip():
        return {}, text
    try:
        document = json.loads(text, parse_constant=_refuse_constant(path), parse_float=_finite_float(path),
                              parse_int=_int_within_float64(path),
                              object_pairs_hook=_object_without_duplicates(path, refuse_duplicates))
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        column = getattr(exc, "colno", None)
        where = " at line %s, column %s" % (line, column) if line is not None else ""
        raise DaemonJsonError(path, "is not valid JSON%s: %s" % (where, getattr(exc, "msg", str(exc))))
    if not isinstance(document, dict):
        raise DaemonJsonError(path, "does not hold a JSON object (found %s)" % _json_kind(document))
    for key, check in DAEMON_JSON_KEY_CHECKS:
        # null is no error for dockerd: the key keeps its default, as when it is not there
        if document.get(key) is not None:
            check(path, key, document[key])
    return document, text


def read_daemon_json(path, refuse_duplicates=True):
    """Docker's daemon.json, read the one way every module of this collection reads it.

    Returns ``(document, text)``, or ``(None, None)`` when there is no file.
    The bytes are decoded as strict UTF-8 here, never through the locale (a
    C locale on Python 3.6 would refuse any non-ASCII byte). Raises
    ``DaemonJsonError``, naming the file and the key or byte, for a file that
    is not a regular file or cannot be read, invalid UTF-8 (no byte is ever
    replaced), a byte order mark, JSON that is not an object, NaN, Infinity,
    a number too large for dockerd, a key twice in one object (unless
    ``refuse_duplicates`` is false: then the last wins, as in dockerd), and a
    key of ``DAEMON_JSON_KEY_CHECKS`` whose value dockerd could not decode.
    """
    if not os.path.lexists(path):
        return None, None
    if not os.path.isfile(path):
        raise DaemonJsonError(path, "exists and is not a regular file (or is a link to nothing)")
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        raise DaemonJsonError(path, "cannot be read: %s" % (exc.strerror or exc))
    return parse_daemon_json(data, path, refuse_duplicates)


def copy_json(value):
    """A copy of JSON data as plain dicts and lists (the scalars shared).

    Not copy.deepcopy: on the controller the plan filters get ansible-core's lazy containers,
    whose deep copy also copies their templating engine and, from ansible-core 2.21, prints
    a deprecation warning about its plugin loaders."""
    if isinstance(value, dict):
        return dict((key, copy_json(item)) for key, item in value.items())
    if isinstance(value, list):
        return [copy_json(item) for item in value]
    return value


def merge_storage(document, state, storage_driver=None, storage_opts=None, containerd_snapshotter=None):
    """A copy of ``document`` with the storage keys set (or removed); other keys untouched, in order.

    ``storage_opts`` is the rendered list; an empty list removes the key, None
    leaves it as it is. ``containerd_snapshotter`` true or false sets
    features.containerd-snapshotter (the other features stay, in order); None
    leaves it. state absent never touches ``features``: turning the image store
    off would hide every image kept in containerd.
    """
    result = copy_json(document)
    if state == "absent":
        for key in STORAGE_KEYS:
            result.pop(key, None)
        return result
    if containerd_snapshotter is not None:
        features = result.get(FEATURES_KEY)
        features = features if isinstance(features, dict) else {}
        features[SNAPSHOTTER_FEATURE] = bool(containerd_snapshotter)
        result[FEATURES_KEY] = features
    if storage_driver is not None:
        result[STORAGE_DRIVER_KEY] = storage_driver
    if storage_opts is not None:
        if storage_opts:
            result[STORAGE_OPTS_KEY] = list(storage_opts)
        else:
            result.pop(STORAGE_OPTS_KEY, None)
    return result


def detect_indent(text):
    """The indentation the file already uses, so a rewrite changes only what it must."""
    for line in text.splitlines():
        match = re.match(r"^([ \t]+)\"", line)
        if match:
            indent = match.group(1)
            return "\t" if indent.startswith("\t") else len(indent)
    return 2


def render_daemon_json(document, indent=2):
    # allow_nan=False: never write NaN or Infinity, which no JSON reader (dockerd included) accepts
    return json.dumps(document, indent=indent, ensure_ascii=False, separators=(",", ": "),
                      allow_nan=False) + "\n"
