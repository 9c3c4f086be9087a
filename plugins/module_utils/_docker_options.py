# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What dockerd accepts as storage settings: Docker 24's ``dm.*`` rules, the containerd image
store's snapshotter names, and which Docker Engine versions have which.

The validation mirrors what dockerd 24 (daemon/graphdriver/devmapper) does when
the driver starts, so a configuration Docker would refuse never gets written.

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

from ansible_collections.container_storage.devicemapper.plugins.module_utils._daemon_json import (
    FEATURES_KEY, SNAPSHOTTER_FEATURE, STORAGE_DRIVER_KEY, STORAGE_OPTS_KEY,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._goparse import (
    go_parse_bool, go_parse_int, go_parse_uint, ram_in_bytes,
)

# Engine 25 removed the devicemapper graph driver.
DOCKER_WITHOUT_DEVICEMAPPER = (25, 0)

# The containerd image store: with features."containerd-snapshotter" true, dockerd
# keeps images in containerd and storage-driver names a containerd snapshotter.
# Docker Engine 24.0 introduced it, as experimental (24.0.0 release notes, "Introduce
# experimental support for containerd as the content store", moby/moby#43735, the PR
# that added the containerd-snapshotter feature flag); dockerd 23 and older ignore
# the flag and would go on with their graph driver.
DOCKER_WITH_CONTAINERD_STORE = (24, 0)
# containerd's built-in snapshotters (io.containerd.snapshotter.v1 plugins of 1.7 and 2.x).
CONTAINERD_SNAPSHOTTERS = ("overlayfs", "native", "devmapper", "btrfs", "zfs", "blockfile", "erofs", "aufs")
# Graph driver names a user may carry over by habit, and the snapshotter that does that job.
SNAPSHOTTER_FOR_GRAPH_DRIVER = {"overlay2": "overlayfs", "overlay": "overlayfs", "devicemapper": "devmapper",
                                "vfs": "native", "fuse-overlayfs": "overlayfs"}
# moby/moby#47377: dockerd refuses the containerd image store with user namespace remapping.
USERNS_REMAP_KEY = "userns-remap"

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
