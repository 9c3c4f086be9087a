# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Docker's daemon.json storage settings: Docker 24's ``dm.*`` rules, the merge, conflicts.

Private to the collection: not a public API, may change without notice.

The validation mirrors what dockerd 24 (daemon/graphdriver/devmapper) does when
the driver starts, so a configuration Docker would refuse never gets written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import glob
import json
import math
import os
import re
import shlex

from ansible_collections.container_storage.devicemapper.plugins.module_utils._files import write_atomically
from ansible_collections.container_storage.devicemapper.plugins.module_utils._lock import locked
from ansible_collections.container_storage.devicemapper.plugins.module_utils._runner import CommandRunner
from ansible_collections.container_storage.devicemapper.plugins.module_utils._validate import (
    InputError, not_empty, refuse_empty, systemd_unit_name,
)

DEFAULT_PATH = "/etc/docker/daemon.json"
STORAGE_DRIVER_KEY = "storage-driver"
STORAGE_OPTS_KEY = "storage-opts"
STORAGE_KEYS = (STORAGE_DRIVER_KEY, STORAGE_OPTS_KEY)

# Where systemd looks for docker.service and its drop-ins, highest priority first.
DEFAULT_UNIT_DIRS = ["/etc/systemd/system", "/run/systemd/system",
                     "/lib/systemd/system", "/usr/lib/systemd/system"]
UNIT_NAME = "docker.service"
# Environment files that distributions' docker units read dockerd flags from.
DEFAULT_ENV_FILES = ["/etc/sysconfig/docker-storage", "/etc/sysconfig/docker",
                     "/etc/default/docker"]

# Engine 25 removed the devicemapper graph driver.
DOCKER_WITHOUT_DEVICEMAPPER = (25, 0)

# The containerd image store: with features."containerd-snapshotter" true, dockerd
# keeps images in containerd and storage-driver names a containerd snapshotter.
# Docker Engine 24.0 introduced it, as experimental (24.0.0 release notes, "Introduce
# experimental support for containerd as the content store", moby/moby#43735, the PR
# that added the containerd-snapshotter feature flag); dockerd 23 and older ignore
# the flag and would go on with their graph driver.
FEATURES_KEY = "features"
SNAPSHOTTER_FEATURE = "containerd-snapshotter"
DOCKER_WITH_CONTAINERD_STORE = (24, 0)
# containerd's built-in snapshotters (io.containerd.snapshotter.v1 plugins of 1.7 and 2.x).
CONTAINERD_SNAPSHOTTERS = ("overlayfs", "native", "devmapper", "btrfs", "zfs", "blockfile", "erofs", "aufs")
# Graph driver names a user may carry over by habit, and the snapshotter that does that job.
SNAPSHOTTER_FOR_GRAPH_DRIVER = {"overlay2": "overlayfs", "overlay": "overlayfs", "devicemapper": "devmapper",
                                "vfs": "native", "fuse-overlayfs": "overlayfs"}
# moby/moby#47377: dockerd refuses the containerd image store with user namespace remapping.
USERNS_REMAP_KEY = "userns-remap"

# ---------------------------------------------------------------- Go parsers

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


# ---------------------------------------------------------------- dm.* rules

SIZE_OPTIONS = ("dm.basesize", "dm.loopdatasize", "dm.loopmetadatasize", "dm.blocksize")
BOOL_OPTIONS = ("dm.blkdiscard", "dm.override_udev_sync_check", "dm.use_deferred_removal",
                "dm.use_deferred_deletion", "dm.directlvm_device_force")
FREE_TEXT_OPTIONS = ("dm.mkfsarg", "dm.mountopt", "dm.metadatadev", "dm.datadev",
                     "dm.directlvm_device", "dm.thinpooldev")
PERCENT_BELOW_100 = ("dm.thinp_percent", "dm.thinp_metapercent")
PERCENT_UP_TO_100 = ("dm.thinp_autoextend_threshold", "dm.thinp_autoextend_percent")
THINP_OPTIONS = PERCENT_BELOW_100 + PERCENT_UP_TO_100
KNOWN_DM_OPTIONS = frozenset(
    SIZE_OPTIONS + BOOL_OPTIONS + FREE_TEXT_OPTIONS + THINP_OPTIONS
    + ("dm.fs", "dm.min_free_space", "dm.xfs_nospace_max_retries", "dm.libdm_log_level"))
# What dockerd 24 does with an empty value of a free-text option: it takes it
# without a word, and does something the user did not ask for.
EMPTY_VALUE_EFFECTS = {
    "dm.thinpooldev": "dockerd would silently fall back to loop-lvm (loop files under its data root); "
                      "give the thin pool, e.g. /dev/mapper/docker-thinpool",
    "dm.directlvm_device": "dockerd would not build a direct-lvm pool and silently fall back to loop-lvm; "
                           "give the block device",
    "dm.datadev": "dockerd would silently use a loop file for the data instead",
    "dm.metadatadev": "dockerd would silently use a loop file for the metadata instead",
    "dm.mkfsarg": "dockerd would pass an empty argument to mkfs",
    "dm.mountopt": "dockerd would ignore it",
}
# Storage drivers any Docker Engine has had (Linux and Windows); dockerd refuses
# any other name when it starts.
KNOWN_STORAGE_DRIVERS = ("overlay2", "devicemapper", "btrfs", "zfs", "aufs", "overlay", "vfs",
                         "fuse-overlayfs", "windowsfilter")
# Options dockerd reads more than once (each entry adds to the last).
REPEATABLE_OPTIONS = ("dm.mkfsarg", "dm.mountopt")
DEPRECATED_OPTIONS = ("dm.datadev", "dm.metadatadev")


def split_storage_opt(entry):
    """Docker's ParseKeyValueOpt plus its key folding: (key, value) or None without '='."""
    if not isinstance(entry, str) or "=" not in entry:
        return None
    key, value = entry.split("=", 1)
    return key.strip().lower(), value.strip()


def _check_single_dm_option(key, value):
    """The error for one dm.* key=value (key already folded), or None."""
    if key not in KNOWN_DM_OPTIONS:
        return "%s is not a devicemapper option (Docker 24 fails with \"devmapper: Unknown option %s\")" % (
            key, key)
    if key in EMPTY_VALUE_EFFECTS and not value:
        return "%s has an empty value: %s" % (key, EMPTY_VALUE_EFFECTS[key])
    if key == "dm.thinpooldev" and value.strip() == "/dev/mapper/":
        # dockerd strips /dev/mapper/ and is left with an empty name
        return "%s=%s names no pool: %s" % (key, value, EMPTY_VALUE_EFFECTS[key])
    if key in SIZE_OPTIONS and ram_in_bytes(value) is None:
        return "%s=%s is not a size (a number with an optional b, k, m, g, t or p suffix, e.g. 10G)" % (
            key, value)
    if key in BOOL_OPTIONS and go_parse_bool(value) is None:
        return "%s=%s is not a boolean (use true or false)" % (key, value)
    if key in PERCENT_BELOW_100 + PERCENT_UP_TO_100:
        number = go_parse_uint(value[:-1] if value.endswith("%") else value, 32)
        if number is None:
            return "%s=%s is not a whole percentage" % (key, value)
        if key in PERCENT_BELOW_100 and number >= 100:
            return "%s=%s must be below 100" % (key, value)
        if key in PERCENT_UP_TO_100 and number > 100:
            return "%s=%s must not be over 100" % (key, value)
    if key == "dm.fs" and value not in ("ext4", "xfs"):
        return "dm.fs=%s is not supported: use ext4 or xfs" % value
    if key == "dm.min_free_space":
        if not value.endswith("%"):
            return "dm.min_free_space=%s needs a %% suffix, e.g. 10%%" % value
        number = go_parse_uint(value[:-1], 32)
        if number is None or number >= 100:
            return "dm.min_free_space=%s must be a whole percentage from 0%% to 99%%" % value
    if key == "dm.xfs_nospace_max_retries" and go_parse_uint(value, 64) is None:
        return "dm.xfs_nospace_max_retries=%s is not an unsigned integer" % value
    if key == "dm.libdm_log_level":
        level = go_parse_int(value, 32)
        if level is None or not 2 <= level <= 7:
            return "dm.libdm_log_level=%s must be an integer from 2 to 7" % value
    return None


def _percent(value):
    number = go_parse_uint(value[:-1] if value.endswith("%") else value, 32)
    return number or 0


def validate_dm_options(entries):
    """Docker 24's devicemapper rules for a ``storage-opts`` list; returns error messages.

    ``entries`` are ``key=value`` strings in the order dockerd reads them. Every
    message names the option it is about; an empty list means dockerd 24 would
    accept these options (values of devices and pools are checked only when
    the driver starts, not here).
    """
    errors = []
    last = {}
    for entry in entries:
        parsed = split_storage_opt(entry)
        if parsed is None:
            errors.append("storage option %r is not key=value" % (entry,))
            continue
        key, value = parsed
        if not key.startswith("dm."):
            errors.append("%s is not a devicemapper option: the devicemapper driver accepts only dm.* "
                          "options (Docker fails with \"devmapper: Unknown option %s\")" % (key, key))
            continue
        problem = _check_single_dm_option(key, value)
        if problem:
            errors.append(problem)
        last[key] = value

    direct_lvm = [key for key in ("dm.directlvm_device",) + THINP_OPTIONS if key in last]
    if "dm.thinpooldev" in last and direct_lvm:
        errors.append("dm.thinpooldev cannot be combined with %s: either use an existing thin pool "
                      "or let Docker build one with dm.directlvm_device" % ", ".join(direct_lvm))
    if "dm.directlvm_device" not in last:
        errors.extend("%s needs dm.directlvm_device (the device Docker builds its thin pool on)" % key
                      for key in THINP_OPTIONS if key in last)
    data = _percent(last.get("dm.thinp_percent", "0"))
    meta = _percent(last.get("dm.thinp_metapercent", "0"))
    if bool(data) != bool(meta):
        errors.append("dm.thinp_percent and dm.thinp_metapercent must be set together (%s is missing)"
                      % ("dm.thinp_metapercent" if data else "dm.thinp_percent"))
    elif data + meta > 100:
        errors.append("dm.thinp_percent (%d) and dm.thinp_metapercent (%d) add up to more than 100"
                      % (data, meta))
    if (go_parse_bool(last.get("dm.use_deferred_deletion", "")) is True
            and go_parse_bool(last.get("dm.use_deferred_removal", "")) is False):
        errors.append("dm.use_deferred_deletion=true needs dm.use_deferred_removal=true "
                      "(Docker refuses deferred deletion without deferred removal)")
    return errors


def render_storage_opts(storage_opts):
    """The ``storage-opts`` list for a dict of option names to values, in the given order.

    Booleans become ``true``/``false``; a list value (only for options dockerd
    reads repeatedly, such as dm.mountopt) gives one entry per item. Returns
    (entries, errors).
    """
    entries = []
    errors = []
    for key, value in storage_opts.items():
        folded = str(key).strip().lower()
        if not folded:
            errors.append("storage_opts has an empty option name")
            continue
        values = value if isinstance(value, list) else [value]
        if isinstance(value, list) and folded not in REPEATABLE_OPTIONS:
            errors.append("storage_opts.%s: only %s may be given a list" % (key, ", ".join(REPEATABLE_OPTIONS)))
            continue
        if isinstance(value, list) and not value:
            errors.append("storage_opts.%s: the list of values is empty (leave the option out instead)" % key)
        for item in values:
            if item is None:
                errors.append("storage_opts.%s has no value" % key)
            elif isinstance(item, (dict, list)):
                errors.append("storage_opts.%s must be a string, number or boolean" % key)
            elif isinstance(item, str) and not item.strip():
                errors.append("storage_opts.%s: must not be empty (did a template render to an empty "
                              "string?)" % key)
            elif isinstance(item, float) and (math.isnan(item) or math.isinf(item)):
                errors.append("storage_opts.%s: %s is not a finite number" % (key, item))
            elif isinstance(item, bool):
                entries.append("%s=%s" % (key, "true" if item else "false"))
            else:
                entries.append("%s=%s" % (key, item))
    return entries, errors


# One text for every module that sees loop-lvm, so Ansible shows it once per run.
LOOP_LVM_WARNING = ("Docker's devicemapper driver in loop-lvm mode (loop files under its data root, no "
                    "dm.thinpooldev or dm.directlvm_device) is for testing only: slow, resource-hungry, "
                    "and its blocks are never freed. Use a thin pool (direct-lvm) in production.")


def storage_warnings(config):
    """Things dockerd accepts but a user probably did not mean."""
    warnings = []
    opts = config.get(STORAGE_OPTS_KEY) or []
    keys = [parsed[0] for parsed in (split_storage_opt(entry) for entry in opts) if parsed]
    if config.get(STORAGE_DRIVER_KEY) == "devicemapper" and not any(
            key in keys for key in ("dm.thinpooldev", "dm.directlvm_device")):
        warnings.append(LOOP_LVM_WARNING)
    for key in DEPRECATED_OPTIONS:
        if key in keys:
            warnings.append("%s is deprecated in Docker; use dm.thinpooldev with an LVM thin pool" % key)
    if any(key.startswith("dm.") for key in keys) and STORAGE_DRIVER_KEY not in config:
        warnings.append("dm.* storage options are set without storage-driver devicemapper: Docker 23 "
                        "and later never choose devicemapper by themselves; set storage_driver")
    return warnings


def uses_containerd_snapshotter(config):
    """True when daemon.json turns on the containerd image store (features.containerd-snapshotter)."""
    features = (config or {}).get(FEATURES_KEY)
    return isinstance(features, dict) and features.get(SNAPSHOTTER_FEATURE) is True


def snapshotter_name_error(driver):
    """Why ``driver`` cannot be storage-driver with the containerd image store, or None."""
    if driver in CONTAINERD_SNAPSHOTTERS:
        return None
    hint = SNAPSHOTTER_FOR_GRAPH_DRIVER.get(driver)
    if hint:
        return ("storage-driver %s is a graph driver, but with features.containerd-snapshotter true dockerd "
                "takes storage-driver as the name of a containerd snapshotter; the one for this job is %s"
                % (driver, hint))
    return ("storage-driver %r is not one of containerd's snapshotters (%s), which is what storage-driver names "
            "with features.containerd-snapshotter true" % (driver, ", ".join(CONTAINERD_SNAPSHOTTERS)))


def validate_snapshotter_storage(config):
    """Errors in a daemon.json that uses the containerd image store."""
    driver = config.get(STORAGE_DRIVER_KEY)
    opts = config.get(STORAGE_OPTS_KEY)
    errors = []
    if driver is not None:
        problem = snapshotter_name_error(driver)
        if problem:
            errors.append(problem)
    if opts is not None:
        if not isinstance(opts, list) or not all(isinstance(entry, str) for entry in opts):
            return errors + ["storage-opts must be a list of key=value strings, got %r" % (opts,)]
        dm_entries = [entry for entry in opts if (split_storage_opt(entry) or ("",))[0].startswith("dm.")]
        if dm_entries:
            errors.append("%s: dm.* options belong to the legacy devicemapper graph driver, which the containerd "
                          "image store does not use; the devmapper snapshotter takes its pool and sizes from "
                          "containerd's config.toml (module containerd_devmapper): remove them"
                          % ", ".join(dm_entries))
    if config.get(USERNS_REMAP_KEY):
        errors.append("userns-remap is set, and dockerd cannot use the containerd image store with user "
                      "namespace remapping (moby/moby#47377): remove one of them")
    return errors


def validate_config_storage(config):
    """Errors in the storage settings of a whole daemon.json document."""
    driver = config.get(STORAGE_DRIVER_KEY)
    opts = config.get(STORAGE_OPTS_KEY)
    errors = []
    if driver is not None and (not isinstance(driver, str) or not driver.strip()):
        errors.append("storage-driver must be a non-empty string, got %r" % (driver,))
        return errors
    if uses_containerd_snapshotter(config):
        return validate_snapshotter_storage(config)
    if driver == "devmapper":
        errors.append("storage-driver devmapper is containerd's devmapper snapshotter, which dockerd uses only "
                      "with the containerd image store (features.containerd-snapshotter true, option "
                      "containerd_snapshotter); the graph driver is called devicemapper")
    if opts is None:
        return errors
    if not isinstance(opts, list) or not all(isinstance(entry, str) for entry in opts):
        return ["storage-opts must be a list of key=value strings, got %r" % (opts,)]
    dm_entries = [entry for entry in opts if (split_storage_opt(entry) or ("",))[0].startswith("dm.")]
    if driver == "devicemapper":
        return validate_dm_options(opts)
    if dm_entries and driver is not None:
        errors.append("%s: dm.* options belong to the devicemapper driver, not storage-driver %s"
                      % (", ".join(dm_entries), driver))
    errors.extend(validate_dm_options(dm_entries))
    errors.extend("storage option %r is not key=value" % (entry,)
                  for entry in opts if split_storage_opt(entry) is None)
    return errors


# ---------------------------------------------------------------- daemon.json

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


def merge_storage(document, state, storage_driver=None, storage_opts=None, containerd_snapshotter=None):
    """A copy of ``document`` with the storage keys set (or removed); other keys untouched, in order.

    ``storage_opts`` is the rendered list; an empty list removes the key, None
    leaves it as it is. ``containerd_snapshotter`` true or false sets
    features.containerd-snapshotter (the other features stay, in order); None
    leaves it. state absent never touches ``features``: turning the image store
    off would hide every image kept in containerd.
    """
    result = copy.deepcopy(document)
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


# ---------------------------------------------------------------- dockerd flags

# dockerd's short flags that take a value: in "-Hfoo" the rest of the word is the value.
_SHORT_FLAGS_WITH_VALUE = set("HGblpge")


def find_storage_flags(words):
    """dockerd storage flags in an argument list: --storage-driver, -s, --storage-opt."""
    found = []
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        if word.startswith("--"):
            name, has_value, value = word.partition("=")
            if name in ("--storage-driver", "--storage-opt"):
                found.append("%s %s" % (name, value if has_value else following))
        elif word.startswith("-") and len(word) > 1:
            letters = word[1:]
            for position, letter in enumerate(letters):
                if letter == "s":
                    rest = letters[position + 1:].lstrip("=")
                    found.append("-s %s" % (rest or following))
                    break
                if letter in _SHORT_FLAGS_WITH_VALUE:
                    break
    return [flag.strip() for flag in found]


def _split_words(text):
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError:
        return text.split()


def _words_with_assignments(text):
    """Words of a line, with each VAR=value assignment's value split into words too."""
    words = []
    for word in _split_words(text):
        name, has_value, value = word.partition("=")
        if has_value and re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            words.extend(_split_words(value))
        else:
            words.append(word)
    return words


def parse_unit_text(chunks):
    """The [Service] settings that matter from unit file chunks [(source, text)], in systemd order.

    Returns (exec_start, environments, environment_files): exec_start is (source,
    line) for the effective ExecStart= (an empty assignment resets the list, as
    in drop-ins); environments is [(source, value)]; environment_files [path].
    """
    exec_start = None
    environments = []
    env_files = []
    for source, text in chunks:
        section = None
        logical = ""
        for raw in text.splitlines():
            if raw.rstrip().endswith("\\"):
                logical += raw.rstrip()[:-1] + " "
                continue
            line = (logical + raw).strip()
            logical = ""
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
                continue
            if section != "Service" or "=" not in line:
                continue
            key, value = [part.strip() for part in line.split("=", 1)]
            if key == "ExecStart":
                exec_start = (source, value) if value else None
            elif key == "Environment":
                environments.append((source, value))
            elif key == "EnvironmentFile" and value:
                env_files.append(value.lstrip("-"))
    return exec_start, environments, env_files


def split_systemctl_cat(output):
    """``systemctl cat`` output as [(file, text)]: each file starts with a "# /path" line."""
    chunks = []
    for line in output.splitlines():
        match = re.match(r"^# (/\S+)$", line)
        if match:
            chunks.append([match.group(1), []])
        elif chunks:
            chunks[-1][1].append(line)
    return [(source, "\n".join(lines)) for source, lines in chunks]


def read_unit_files(unit_dirs, unit_name=UNIT_NAME):
    """The unit and its drop-ins as systemd would load them, read from ``unit_dirs``."""
    chunks = []
    for directory in unit_dirs:
        path = os.path.join(directory, unit_name)
        if os.path.isfile(path):
            chunks.append((path, _read_text(path)))
            break
    dropins = {}
    for directory in reversed(unit_dirs):
        for path in glob.glob(os.path.join(directory, unit_name + ".d", "*.conf")):
            dropins[os.path.basename(path)] = path  # a higher-priority directory wins
    for name in sorted(dropins):
        chunks.append((dropins[name], _read_text(dropins[name])))
    return chunks


def _read_text(path):
    """Unit and environment files, searched for flags only: an undecodable byte cannot hide one."""
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8", "replace")


def read_storage_flags(runner, service, unit_dirs=None, env_files=None):
    """Storage flags dockerd gets outside daemon.json, from its unit as systemd loads it
    (``systemctl cat``, or the files under ``unit_dirs``) and its environment files
    (``DEFAULT_ENV_FILES`` when None)."""
    env_files = DEFAULT_ENV_FILES if env_files is None else env_files
    chunks = None
    if unit_dirs is None and runner.has_bin("systemctl"):
        rc, out, err = runner.run(["systemctl", "cat", service], check_rc=False)
        if rc == 0:
            chunks = split_systemctl_cat(out)
    if chunks is None:
        chunks = read_unit_files(unit_dirs or DEFAULT_UNIT_DIRS, service + ".service")
    return find_conflicts(chunks, env_files)


def find_conflicts(unit_chunks, env_files):
    """Storage flags given to dockerd outside daemon.json: ["<file>: <flag>"]."""
    conflicts = []
    exec_start, environments, referenced = parse_unit_text(unit_chunks)
    if exec_start:
        source, line = exec_start
        words = _split_words(line)
        if words:
            words[0] = words[0].lstrip("-@+!:")
        conflicts.extend("%s: ExecStart has %s" % (source, flag) for flag in find_storage_flags(words))
    for source, value in environments:
        conflicts.extend("%s: Environment has %s" % (source, flag)
                         for flag in find_storage_flags(_words_with_assignments(value)))
    seen = set()
    for path in list(env_files) + referenced:
        if path in seen or not os.path.isfile(path):
            continue
        seen.add(path)
        for raw in _read_text(path).splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("export "):
                line = line[len("export "):]
            conflicts.extend("%s: %s" % (path, flag)
                             for flag in find_storage_flags(_words_with_assignments(line)))
    return conflicts


# ---------------------------------------------------------------- dockerd version

def parse_dockerd_version(output):
    """(major, minor) from ``dockerd --version`` ("Docker version 20.10.24+dfsg1, build ..."), or None."""
    match = re.search(r"version\s+v?(\d+)\.(\d+)", output or "")
    if not match:
        return None
    return int(match.group(1)), int(match.group(2))


def has_devicemapper(version):
    return version is None or tuple(version) < DOCKER_WITHOUT_DEVICEMAPPER


def has_containerd_store(version):
    return version is None or tuple(version) >= DOCKER_WITH_CONTAINERD_STORE


# ---------------------------------------------------------------- the plan

def dockerd_refusal(version, storage_driver, snapshotter, containerd_snapshotter=None):
    """(refusal or None, warnings): can dockerd ``version`` (major, minor) use what the file would say?

    ``snapshotter``: the file would turn on the containerd image store;
    ``containerd_snapshotter``: the option that asked for it (true, false or None).
    """
    text = "%d.%d" % tuple(version)
    if snapshotter:
        if not has_containerd_store(version):
            message = ("dockerd %s has no containerd image store (it came, experimental, in Docker Engine "
                       "24.0): it ignores features.containerd-snapshotter and would take storage-driver as "
                       "a graph driver" % text)
            if containerd_snapshotter:
                return "containerd_snapshotter=true: " + message, []
            if storage_driver is not None:
                return "storage_driver=%s: %s" % (storage_driver, message), []
            return None, [message]
        if tuple(version) < DOCKER_WITHOUT_DEVICEMAPPER:
            return None, ["dockerd %s has the containerd image store only as an experimental feature "
                          "(Docker Engine 24)" % text]
        return None, []
    if not has_devicemapper(version):
        message = ("dockerd %s is Docker Engine 25 or newer, which has no devicemapper storage driver "
                   "(removed in Engine 25); devicemapper needs Docker 24 or older. On this Docker, thin "
                   "pools serve through containerd's devmapper snapshotter: containerd_snapshotter=true "
                   "with storage_driver=devmapper" % text)
        if storage_driver == "devicemapper":
            return "storage_driver=devicemapper: " + message, []
        return None, [message]
    return None, []


def conflicts_refusal(path, conflicts):
    return ("dockerd also gets storage flags outside %s, and refuses to start when a setting "
            "is both a flag and in the file; remove them first (or set check_conflicts=false): %s"
            % (path, "; ".join(conflicts)))


def plan_daemon_json(path, before, state, storage_driver=None, storage_opts=None, containerd_snapshotter=None,
                     read_version=None, read_conflicts=None):
    """What docker_daemon_config decides for daemon.json, without reading or writing anything.

    ``before`` is the file's object ({} when there is none); ``storage_opts`` the
    rendered list (render_storage_opts); ``read_version`` a callable returning dockerd's
    (major, minor) or None when unknown (not checked then), and warnings about reading
    it, called once the settings passed; ``read_conflicts`` a callable returning the
    storage flags dockerd gets outside the file, called only when the file would hold
    a storage key (None: not checked). The same decisions in the module (on the host)
    and in the daemon_json_plan filter (on the controller, from docker_storage_info).

    Returns a dict: config (the file's object afterwards), changed, warnings, conflicts,
    refusal (the message, or None) and refusal_kind ("settings", "dockerd", "conflicts").
    """
    present = state == "present"
    after = merge_storage(before, state, storage_driver, storage_opts,
                          containerd_snapshotter if present else None)
    snapshotter = uses_containerd_snapshotter(after)
    plan = dict(config=after, changed=after != before, warnings=[], conflicts=[], refusal=None,
                refusal_kind=None)
    if present:
        errors = validate_config_storage(after)
        if errors:
            plan.update(refusal="%s would refuse these storage settings, %s was not changed: %s"
                        % ("dockerd" if snapshotter else "Docker 24", path, "; ".join(errors)),
                        refusal_kind="settings")
            return plan
        if not snapshotter:
            plan["warnings"].extend(storage_warnings(after))
    version, warnings = read_version() if read_version is not None else (None, [])
    plan["warnings"].extend(warnings)
    if version is not None:
        refusal, warnings = dockerd_refusal(version, storage_driver, snapshotter, containerd_snapshotter)
        plan["warnings"].extend(warnings)
        if refusal:
            plan.update(refusal=refusal, refusal_kind="dockerd")
            return plan
    if read_conflicts is not None and any(key in after for key in STORAGE_KEYS):
        plan["conflicts"] = list(read_conflicts())
        if plan["conflicts"]:
            plan.update(refusal=conflicts_refusal(path, plan["conflicts"]), refusal_kind="conflicts")
    return plan


# ---------------------------------------------------------------- the module

# Options whose empty string would fall back to a default: a template that rendered
# empty must fail, never mean "the default file" or "no driver".
NON_EMPTY_OPTIONS = ("path", "storage_driver", "systemd_unit_dirs", "env_files", "service")
_DRIVER_NAME = re.compile(r"\A[a-z0-9][a-z0-9_.-]*\Z")


def check_daemon_config_params(params):
    """Refuse unusable options before anything is read: raises InputError naming the option."""
    driver = params.get("storage_driver")
    not_empty("storage_driver", driver, "a driver name, or state=absent to remove the storage settings,")
    refuse_empty(params, NON_EMPTY_OPTIONS)
    systemd_unit_name("service", params.get("service", "docker"))
    given_version = params.get("dockerd_version")
    if given_version is not None and not re.match(r"^[0-9]+\.[0-9]+(\.[0-9]+)?$", given_version):
        raise InputError("dockerd_version: %r is not a Docker Engine version; give MAJOR.MINOR as "
                         "docker_storage_info returns it (20.10, 26.1), or leave it out to read "
                         "`dockerd --version`" % given_version)
    if driver is None or params.get("state", "present") != "present":
        return
    snapshotter = params.get("containerd_snapshotter")
    if snapshotter is True:
        problem = snapshotter_name_error(driver) if _DRIVER_NAME.match(driver) else (
            "storage-driver %r is not one of containerd's snapshotters (%s)"
            % (driver, ", ".join(CONTAINERD_SNAPSHOTTERS)))
        if problem:
            raise InputError("storage_driver (with containerd_snapshotter=true): " + problem)
        return
    # Without containerd_snapshotter the file's features decide which kind of name
    # is right (validate_config_storage); a name of neither kind is wrong either way.
    names = KNOWN_STORAGE_DRIVERS if snapshotter is False else KNOWN_STORAGE_DRIVERS + CONTAINERD_SNAPSHOTTERS
    if not _DRIVER_NAME.match(driver) or driver not in names:
        raise InputError("storage_driver: %r is not a Docker storage driver (dockerd refuses to start "
                         "with it); use one of %s" % (driver, ", ".join(KNOWN_STORAGE_DRIVERS))
                         + ("" if snapshotter is False else
                            ", or with containerd_snapshotter=true a containerd snapshotter (%s)"
                            % ", ".join(CONTAINERD_SNAPSHOTTERS)))


class DaemonConfigManager(object):
    """Reads daemon.json once, plans the storage keys, checks everything, then writes once.

    The host lock is held from the read to the write, so a second run cannot
    read the file in between and lose this run's edit (or this run lose its).
    """

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.runner = CommandRunner(module)
        self.path = self.params["path"]
        # the unit whose ExecStart and environment files the conflict check reads
        self.service = self.params.get("service") or "docker"
        self.conflicts = []
        self.dockerd_version = None

    def fail(self, msg, **extra):
        extra.setdefault("changed", False)
        self.module.fail_json(msg=msg, path=self.path, commands=self.runner.commands,
                              conflicts=self.conflicts, **extra)

    def run(self):
        params = self.params
        present = params["state"] == "present"
        if not present and (params["storage_driver"] is not None or params["storage_opts"] is not None
                            or params["containerd_snapshotter"] is not None):
            self.module.warn("storage_driver, storage_opts and containerd_snapshotter are ignored with "
                             "state=absent (features.containerd-snapshotter is left as it is)")
        try:
            check_daemon_config_params(params)
        except InputError as exc:
            self.fail(str(exc))
        storage_driver = params["storage_driver"] if present else None
        storage_opts = None
        if present and params["storage_opts"] is not None:
            storage_opts, errors = render_storage_opts(params["storage_opts"])
            if errors:
                self.fail("; ".join(errors))

        lock = locked(self.module, "docker_daemon_config on %s" % self.path)
        try:
            self.plan_and_write(storage_driver, storage_opts)
        finally:
            lock.release()

    def plan_and_write(self, storage_driver, storage_opts):
        params = self.params
        present = params["state"] == "present"
        try:
            before, text = read_daemon_json(self.path)
        except DaemonJsonError as exc:
            self.fail(str(exc))
        exists = before is not None
        if not exists:
            before, text = {}, ""
        plan = plan_daemon_json(self.path, before, params["state"], storage_driver, storage_opts,
                                params["containerd_snapshotter"] if present else None, self.read_dockerd_version,
                                self.read_conflicts if params["check_conflicts"] else None)
        self.conflicts = plan["conflicts"]
        for warning in plan["warnings"]:
            self.module.warn(warning)
        if plan["refusal"]:
            if plan["refusal_kind"] == "settings":
                self.fail(plan["refusal"], config=before)
            self.fail(plan["refusal"])
        after = plan["config"]
        version = "%d.%d" % self.dockerd_version if self.dockerd_version else None

        changed = after != before
        new_text = render_daemon_json(after, detect_indent(text)) if changed else text
        backup_file = None
        if changed and not self.module.check_mode:
            self.refuse_if_changed_since_read(text if exists else None)
            if params["backup"] and exists:
                backup_file = self.module.backup_local(self.path)
            self.write(new_text)

        result = dict(changed=changed, config=after, backup_file=backup_file, path=self.path,
                      dockerd_version=version, conflicts=self.conflicts, commands=self.runner.commands)
        if self.module._diff:
            result["diff"] = dict(before=text, after=new_text,
                                  before_header=self.path, after_header=self.path)
        self.module.exit_json(**result)

    def read_dockerd_version(self):
        """(dockerd's (major, minor) or None, warnings): as given, or from `dockerd --version`."""
        given = self.params.get("dockerd_version")
        if given is not None:
            # Read by the caller already (docker_storage_info): not run again.
            self.dockerd_version = parse_dockerd_version("version " + given)
            return self.dockerd_version, []
        if not self.runner.has_bin("dockerd"):
            return None, []
        rc, out, err = self.runner.run(["dockerd", "--version"], check_rc=False)
        self.dockerd_version = parse_dockerd_version(out) if rc == 0 else None
        if self.dockerd_version is None:
            return None, ["could not read the Docker version from `dockerd --version`: %s" % (err or out).strip()]
        return self.dockerd_version, []

    def read_conflicts(self):
        return read_storage_flags(self.runner, self.service, self.params["systemd_unit_dirs"],
                                  self.params["env_files"])

    def refuse_if_changed_since_read(self, text):
        """The host lock keeps this collection's runs apart, not an editor or another tool:
        a file that changed since it was read is not overwritten (that edit would be lost)."""
        try:
            with open(self.path, "rb") as handle:
                now = handle.read()
        except (IOError, OSError):
            now = None
        if now != (None if text is None else text.encode("utf-8")):
            self.fail("%s changed (or appeared) while this run was checking it, so it was not written: "
                      "something outside this collection edits it; run again" % self.path)

    def write(self, text):
        """An existing file keeps owner, mode and SELinux context; a new one is root's, 0644."""
        try:
            write_atomically(self.path, text, module=self.module)
        except (IOError, OSError) as exc:
            self.fail("could not write %s: %s; the file was not changed" % (self.path, exc))
