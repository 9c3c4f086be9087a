# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read-only probe of a host's Docker storage, run by the devicemapper role.

Usage: docker_storage_probe.py DAEMON_JSON_PATH SERVICE

Prints one JSON document on stdout and changes nothing. One script instead of
five module calls: every task costs seconds on a slow host, and the role needs
all of these facts together to decide whether Docker's storage is about to
change. Runs on Python 3.6 and later, standard library only.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import re
import subprocess
import sys

SEARCH_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
# Graph drivers Docker looks for in its data root when daemon.json names none.
KNOWN_DRIVERS = ["overlay2", "devicemapper", "btrfs", "zfs", "aufs", "overlay", "vfs", "fuse-overlayfs"]
DEFAULT_DATA_ROOT = "/var/lib/docker"


def which(name):
    dirs = os.environ.get("PATH", "").split(os.pathsep) + SEARCH_PATH
    for directory in dirs:
        candidate = os.path.join(directory, name)
        if directory and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def run(argv):
    env = dict(os.environ, LC_ALL="C", LANG="C", LANGUAGE="C")
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    except OSError as exc:
        return 127, "", str(exc)
    out, err = proc.communicate()
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def systemd_unit(systemctl, unit):
    if not systemctl:
        return {"loaded": False, "active": False, "enabled": False}
    rc, out, _err = run([systemctl, "show", "-p", "LoadState", "-p", "ActiveState",
                         "-p", "UnitFileState", unit])
    props = {}
    for line in out.splitlines():
        key, _sep, value = line.partition("=")
        props[key] = value
    return {
        "loaded": rc == 0 and props.get("LoadState") == "loaded",
        "active": props.get("ActiveState") in ("active", "activating", "reloading"),
        "enabled": props.get("UnitFileState") in ("enabled", "enabled-runtime", "static", "alias"),
    }


def dockerd_version(dockerd):
    if not dockerd:
        return None, None
    rc, out, err = run([dockerd, "--version"])
    text = (out or err).strip()
    match = re.search(r"version v?(\d+)\.(\d+)(?:\.(\d+))?", text)
    if rc != 0 or not match:
        return None, text
    return ".".join(part for part in match.groups() if part is not None), text


def read_daemon_json(path):
    """(document, error): document is None when the file does not exist."""
    try:
        with open(path) as handle:
            text = handle.read()
    except IOError as exc:
        if not os.path.exists(path):
            return None, None
        return None, str(exc)
    if not text.strip():
        return {}, None
    try:
        document = json.loads(text)
    except ValueError as exc:
        return None, "%s is not valid JSON: %s" % (path, exc)
    if not isinstance(document, dict):
        return None, "%s does not hold a JSON object" % path
    return document, None


def docker_info(docker):
    if not docker:
        return None, "docker CLI not found"
    rc, out, err = run([docker, "info", "--format", "{{json .}}"])
    if rc != 0:
        return None, (err or out).strip()
    try:
        info = json.loads(out)
    except ValueError as exc:
        return None, "docker info printed no JSON: %s" % exc
    status = {}
    for pair in info.get("DriverStatus") or []:
        if isinstance(pair, list) and len(pair) == 2:
            status[pair[0]] = pair[1]
    return {
        "driver": info.get("Driver"),
        "driver_status": status,
        "root_dir": info.get("DockerRootDir"),
        "server_version": info.get("ServerVersion"),
        "containers": info.get("Containers"),
        "images": info.get("Images"),
    }, None


def storage_from_opts(driver, opts):
    """What a daemon.json's storage settings make Docker use."""
    values = {}
    for opt in opts or []:
        key, _sep, value = str(opt).partition("=")
        values[key.strip().lower()] = value.strip()
    pool = None
    if values.get("dm.thinpooldev"):
        pool = values["dm.thinpooldev"]
        if pool.startswith("/dev/mapper/"):
            pool = pool[len("/dev/mapper/"):]
    elif values.get("dm.directlvm_device"):
        pool = "docker-thinpool"
    return {"driver": driver, "pool": pool,
            "loop": driver == "devicemapper" and pool is None}


def list_dir(path):
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def main(argv):
    config_path = argv[1] if len(argv) > 1 else "/etc/docker/daemon.json"
    service = argv[2] if len(argv) > 2 else "docker"
    systemctl = which("systemctl")
    dockerd = which("dockerd")
    version, version_text = dockerd_version(dockerd)
    unit = systemd_unit(systemctl, service + ".service")
    socket = systemd_unit(systemctl, service + ".socket")
    daemon_json, daemon_json_error = read_daemon_json(config_path)
    config = daemon_json or {}

    info, info_error = (None, None)
    if unit["active"]:
        info, info_error = docker_info(which("docker"))

    data_root = config.get("data-root") or config.get("graph") or DEFAULT_DATA_ROOT
    if info and info.get("root_dir"):
        data_root = info["root_dir"]
    entries = list_dir(data_root)

    # What Docker runs on now: `docker info` when it is up, else what it
    # would start with (daemon.json, or the driver its data root already holds).
    if info:
        status = info["driver_status"]
        current = {"source": "docker info", "driver": info["driver"],
                   "pool": status.get("Pool Name"),
                   "loop": "Data loop file" in status}
    else:
        current = storage_from_opts(config.get("storage-driver"), config.get("storage-opts"))
        current["source"] = "daemon.json"
        if not current["driver"]:
            prior = [name for name in KNOWN_DRIVERS if list_dir(os.path.join(data_root, name))]
            current["driver"] = prior[0] if len(prior) == 1 else None
            current["loop"] = current["driver"] == "devicemapper"

    result = {
        "dockerd": dockerd,
        "dockerd_version": version,
        "dockerd_version_text": version_text,
        "service": unit,
        "socket": socket,
        "info": info,
        "info_error": info_error,
        "daemon_json": daemon_json,
        "daemon_json_error": daemon_json_error,
        "current": current,
        "data_root": data_root,
        "data_root_entries": entries,
        "data_root_is_mount": os.path.ismount(data_root),
        "lvchange": which("lvchange"),
    }
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
