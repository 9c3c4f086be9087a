# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What storage a host's Docker runs on now, read without changing anything: docker_storage_info's backend.

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.container_storage.devicemapper.plugins.module_utils._containerd import (
    CONTAINERD_DEFAULT_SNAPSHOTTER, parse_containerd_version,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._daemon_json import DaemonJsonError, read_daemon_json
from ansible_collections.container_storage.devicemapper.plugins.module_utils._dm import strip_mapper_dir
from ansible_collections.container_storage.devicemapper.plugins.module_utils._docker_options import (
    KNOWN_STORAGE_DRIVERS, LOOP_LVM_WARNING, has_devicemapper, parse_dockerd_version, split_storage_opt,
    uses_containerd_snapshotter,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._dockerd_flags import read_storage_flags
from ansible_collections.container_storage.devicemapper.plugins.module_utils._runner import CommandRunner
from ansible_collections.container_storage.devicemapper.plugins.module_utils._validate import (
    InputError, refuse_empty, systemd_unit_name,
)

DEFAULT_DATA_ROOT = "/var/lib/docker"
# docker info's DriverStatus "driver-type" when images live in containerd (the
# containerd image store): Driver is then the containerd snapshotter's name.
SNAPSHOTTER_DRIVER_TYPE = "io.containerd.snapshotter.v1"
DEVMAPPER_PLUGIN_ROW = (SNAPSHOTTER_DRIVER_TYPE, "devmapper")
UNIT_PROPERTIES = ["LoadState", "ActiveState", "UnitFileState"]


def check_info_params(params):
    """Refuse unusable options before anything runs: raises InputError naming the option."""
    refuse_empty(params, ("path", "service"))
    systemd_unit_name("service", params["service"])


def parse_unit_state(out, rc=0):
    props = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return {
        "loaded": rc == 0 and props.get("LoadState") == "loaded",
        "active": props.get("ActiveState") in ("active", "activating", "reloading"),
        "enabled": props.get("UnitFileState") in ("enabled", "enabled-runtime", "static", "alias"),
    }


def parse_docker_info(out):
    """(summary, error) from `docker info --format '{{json .}}'`."""
    try:
        info = json.loads(out)
    except ValueError as exc:
        return None, "docker info printed no JSON: %s" % exc
    if not isinstance(info, dict):
        return None, "docker info printed JSON that is not an object"
    if info.get("ServerErrors"):
        return None, "; ".join(str(error) for error in info["ServerErrors"])
    status = dict(pair for pair in info.get("DriverStatus") or []
                  if isinstance(pair, list) and len(pair) == 2)
    return {
        "driver": info.get("Driver"),
        "driver_type": status.get("driver-type"),
        "driver_status": status,
        "root_dir": info.get("DockerRootDir"),
        "server_version": info.get("ServerVersion"),
        "containers": info.get("Containers"),
        "images": info.get("Images"),
    }, None


def parse_plugin_status(out, row=DEVMAPPER_PLUGIN_ROW):
    """The STATUS column (ok, skip, error) of one plugin in `ctr plugins ls`, or None when it is not listed.

    The table is TYPE, ID, PLATFORMS, STATUS, separated by runs of spaces
    (no column holds a space); the header is skipped by its TYPE.
    """
    for line in (out or "").splitlines():
        columns = line.split()
        if len(columns) >= 4 and tuple(columns[:2]) == row:
            return columns[-1]
    return None


def storage_from_config(config):
    """The driver and pool a daemon.json makes Docker use; loop-lvm when devicemapper has no pool."""
    driver = config.get("storage-driver")
    if uses_containerd_snapshotter(config):
        # The pool of a containerd snapshotter is in containerd's config, not here.
        return {"driver": driver or CONTAINERD_DEFAULT_SNAPSHOTTER, "pool": None, "loop": False,
                "image_store": "containerd", "snapshotter": driver or CONTAINERD_DEFAULT_SNAPSHOTTER}
    values = dict(split_storage_opt(entry) for entry in config.get("storage-opts") or []
                  if split_storage_opt(entry))
    pool = None
    if values.get("dm.thinpooldev"):
        pool = strip_mapper_dir(values["dm.thinpooldev"])
    elif values.get("dm.directlvm_device"):
        pool = "docker-thinpool"  # the pool Docker itself builds on that device
    return {"driver": driver, "pool": pool, "loop": driver == "devicemapper" and pool is None,
            "image_store": "graphdriver", "snapshotter": None}


def list_dir(path):
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


class DockerStorageInfo(object):
    def __init__(self, module):
        self.module = module
        self.runner = CommandRunner(module)

    def run(self):
        """The module's result, for exit_json: options checked before any command, then one read;
        never changes anything. A refusal or an unusable daemon.json ends the run with fail_json."""
        params = self.module.params
        try:
            check_info_params(params)
        except InputError as exc:
            self.module.fail_json(msg=str(exc), changed=False)
        try:
            result = self.read(params["path"], params["service"], params["read_containerd"],
                               params["read_storage_flags"])
        except DaemonJsonError as exc:
            self.module.fail_json(msg=str(exc), changed=False, path=exc.path, daemon_json_error=str(exc))
        result["check_mode"] = self.module.check_mode
        result["changed"] = False
        return result

    def unit_state(self, unit):
        if not self.runner.has_bin("systemctl"):
            return {"loaded": False, "active": False, "enabled": False}
        argv = ["systemctl", "show"]
        for prop in UNIT_PROPERTIES:
            argv += ["-p", prop]
        rc, out, err = self.runner.run(argv + [unit], check_rc=False)
        return parse_unit_state(out, rc)

    def containerd(self, run_commands=True):
        """containerd's version and its devmapper snapshotter plugin's status; only when it is installed.

        Whether it is installed (and where) needs no command; without ``run_commands``
        the version and the plugin's status stay null.
        """
        result = {"installed": False, "path": None, "version": None, "version_text": None,
                  "devmapper_plugin": None, "plugins_error": None}
        if not self.runner.has_bin("containerd"):
            return result
        result.update(installed=True, path=self.runner.bin_path("containerd"))
        if not run_commands:
            return result
        rc, out, err = self.runner.run(["containerd", "--version"], check_rc=False)
        result["version_text"] = (out or err).strip()
        version = parse_containerd_version(out) if rc == 0 else None
        if version:
            result["version"] = "%d.%d.%d" % version
        if not self.runner.has_bin("ctr"):
            result["plugins_error"] = "ctr is not installed: the plugin's status cannot be read"
            return result
        rc, out, err = self.runner.run(["ctr", "plugins", "ls"], check_rc=False)
        if rc != 0:
            # containerd not running (or its socket elsewhere): ctr says so
            result["plugins_error"] = (err or out).strip()
        else:
            result["devmapper_plugin"] = parse_plugin_status(out)
        return result

    def read(self, config_path, service, read_containerd=True, read_flags=False):
        """Everything the RETURN documents; DaemonJsonError when daemon.json cannot be used.

        daemon.json is read first, so a file that cannot be used fails the
        module before any command runs: what Docker would start with (and its
        data root, which the devicemapper role moves aside) cannot be told
        from it, and a guess would be a false report.
        """
        config, _text = read_daemon_json(config_path, refuse_duplicates=False)
        result = {"dockerd": None, "dockerd_version": None, "dockerd_version_text": None,
                  "devicemapper_supported": None, "daemon_json_problem": None, "storage_flags": None}
        if config:
            try:
                read_daemon_json(config_path)
            except DaemonJsonError as exc:
                # dockerd reads it; docker_daemon_config would refuse to rewrite it
                result["daemon_json_problem"] = str(exc)
        if self.runner.has_bin("dockerd"):
            result["dockerd"] = self.runner.bin_path("dockerd")
            rc, out, err = self.runner.run(["dockerd", "--version"], check_rc=False)
            result["dockerd_version_text"] = (out or err).strip()
            version = parse_dockerd_version(out) if rc == 0 else None
            if version:
                result["dockerd_version"] = "%d.%d" % version
                result["devicemapper_supported"] = has_devicemapper(version)

        result["service"] = self.unit_state(service + ".service")
        result["socket"] = self.unit_state(service + ".socket")

        result["daemon_json"] = config
        if read_flags:
            result["storage_flags"] = read_storage_flags(self.runner, service)

        info, info_error = None, None
        if result["service"]["active"] and self.runner.has_bin("docker"):
            rc, out, err = self.runner.run(["docker", "info", "--format", "{{json .}}"], check_rc=False)
            info, info_error = parse_docker_info(out) if rc == 0 else (None, (err or out).strip())
        result["info"], result["info_error"] = info, info_error

        config = config or {}
        data_root = (info or {}).get("root_dir") or config.get("data-root") or config.get("graph") \
            or DEFAULT_DATA_ROOT
        # What Docker runs on now: `docker info` when it is up, else what it would
        # start with (daemon.json, or the one driver its data root already holds).
        if info:
            status = info["driver_status"]
            containerd_store = info["driver_type"] == SNAPSHOTTER_DRIVER_TYPE
            current = {"source": "docker info", "driver": info["driver"],
                       "pool": status.get("Pool Name"), "loop": "Data loop file" in status,
                       "image_store": "containerd" if containerd_store else "graphdriver",
                       "snapshotter": info["driver"] if containerd_store else None}
        else:
            current = storage_from_config(config)
            current["source"] = "daemon.json"
            if not current["driver"]:
                found = [name for name in KNOWN_STORAGE_DRIVERS if list_dir(os.path.join(data_root, name))]
                current["driver"] = found[0] if len(found) == 1 else None
                current["loop"] = current["driver"] == "devicemapper"
                current["source"] = "data root" if current["driver"] else "none"
                current["image_store"] = "graphdriver" if current["driver"] else None
        if current.get("driver") == "devicemapper" and current.get("loop"):
            self.module.warn(LOOP_LVM_WARNING)
        result["containerd"] = containerd = self.containerd(read_containerd)
        # Measured in the lab: with the plugin in error (its pool missing), dockerd still
        # starts and docker info still says devmapper; only containerd tells.
        plugin = containerd["devmapper_plugin"]
        if current.get("snapshotter") == "devmapper" and plugin in ("skip", "error"):
            self.module.warn("Docker %s containerd's devmapper snapshotter, but containerd reports that plugin as "
                             "%r (%s), so the snapshotter Docker relies on is not available; check the "
                             "[plugins.\"io.containerd.snapshotter.v1.devmapper\"] section of containerd's config "
                             "and its pool, then restart containerd and Docker"
                             % ("uses" if current["source"] == "docker info" else "is set to use", plugin,
                                "not configured" if plugin == "skip" else "it failed to start"))
        result.update(current=current, data_root=data_root, data_root_entries=list_dir(data_root),
                      data_root_is_mount=os.path.ismount(data_root),
                      lvchange=self.runner.bin_path("lvchange") if self.runner.has_bin("lvchange") else None,
                      commands=self.runner.commands)
        return result
