# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The devicemapper role's decisions, made on the controller from what the role read.

``plan_devicemapper(probe, sections, variables, stamp)`` takes docker_storage_info's
registered result, the sections of the role's host read (files/host_read.sh, as
run_script returns them) and the role's variables, and returns every decision the
role's tasks act on: the refusals (with their messages, in the order the role
checks them), the runtime, whether Docker's storage switches, whether its data
root moves and which backup comes back, when Docker is stopped, started and the
record written, the check-mode "would ..." steps, daemon.json's storage options,
the pool Docker must report. Pure: no host, no clock (``stamp`` is the time).

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

from ansible.module_utils.compat.version import LooseVersion
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.container_storage.devicemapper.plugins.module_utils._dm import dm_name, dm_path

GRAPHDRIVER = "docker-graphdriver"
SNAPSHOTTER = "containerd-snapshotter"

# Every boolean variable of the role; given as YAML, JSON or `-e key=no`, each becomes a real boolean.
BOOLEANS = ("zero", "force", "remove_pool", "remove_vg", "monitor", "activate_on_boot", "backup_docker_data",
            "manage_docker", "install_packages", "verify", "containerd_discard_blocks", "cri_default_snapshotter",
            "break_lease")

# The dm options the role owns, by mode; users' devicemapper_storage_opts go on top
# of the deferred removal/deletion defaults.
OWNED_OPTS = ("dm.thinpooldev", "dm.directlvm_device", "dm.directlvm_device_force", "dm.thinp_percent",
              "dm.thinp_metapercent", "dm.thinp_autoextend_threshold", "dm.thinp_autoextend_percent")
DEFAULT_OPTS = {"dm.use_deferred_removal": True, "dm.use_deferred_deletion": True}

# The role's record on the host (vars/main.yml's __devicemapper_state_file).
STATE_FILE = "/var/lib/container-storage-devicemapper/state.json"

# The commands the prerequisite packages bring; when both are found no package manager is asked.
TOOLS = ("lvm", "thin_check")

# Mounts inside a data root that are Docker's own (layers, shm of running containers,
# local volumes in use): all gone once Docker stops.
DOCKERS_OWN_MOUNTS = (r"/((overlay2?|aufs|devicemapper|btrfs|zfs|vfs|fuse-overlayfs|plugins)/."
                      r"|containers/[^/]+/mounts/|volumes/[^/]+/_data$)")

PROFILE_DIR_LINE = re.compile(r'^profile_dir="(.*)"$')


def _var(variables, name):
    return variables["devicemapper_" + name]


def _lines(sections, name):
    """A section's lines without the empty ones, as the role's reads always used them."""
    return [line for line in (sections.get(name) or []) if line]


def _jinja_str(value):
    """A value as Jinja prints it inside a message (the messages are those the tasks printed)."""
    return str(value)


def parse_storage_opts(given):
    """devicemapper_storage_opts as a dict, also from the command line (`dm.a=1,dm.b=2` or a JSON object).

    Returns (opts or None when it is not a dict, the parts of a command-line string that have no '=')."""
    if isinstance(given, dict):
        return given, []
    if not isinstance(given, str):
        return None, []
    text = given.strip()
    if text.startswith("{"):
        try:
            opts = json.loads(text)
        except ValueError:
            return None, []
        return (opts if isinstance(opts, dict) else None), []
    items = [item.strip() for item in text.split(",") if item.strip()]
    bad = [item for item in items if not re.search(r"^[^=]+=", item)]
    if bad:
        return None, bad
    return dict((key.strip(), value.strip()) for key, value in (item.split("=", 1) for item in items)), []


def _input_refusals(variables, flags, user_opts, bad_items):
    """The variables' rules, checked in order: the first one broken, naming its variable and what it got.

    One rule at a time, so the message says what to change; fixing it shows the next one, if any."""
    if bad_items:
        return ["devicemapper role: devicemapper_storage_opts must be a dict of dm.* options, or on the command line "
                "`dm.name=value` pairs separated by commas (-e 'devicemapper_storage_opts=dm.min_free_space=10%%'), "
                "or a JSON object; these parts have no '=': %s." % ", ".join(bad_items)]
    state, mode, runtime = _var(variables, "state"), _var(variables, "mode"), _var(variables, "runtime")
    devices = _var(variables, "devices")
    data_size, metadata_size = _var(variables, "data_size"), _var(variables, "metadata_size")
    owned = sorted(key for key in (user_opts or {}) if key.lower() in OWNED_OPTS)
    rules = [
        (user_opts is not None,
         "devicemapper_storage_opts must be a dict of dm.* options, or on the command line `dm.name=value` pairs "
         "separated by commas, or a JSON object; got %s." % _jinja_str(_var(variables, "storage_opts"))),
        (state == "absent" or mode == "loop-lvm" or len(devices) > 0,
         "devicemapper_devices must list the pool's block devices in %s mode; got %s."
         % (mode, _jinja_str(devices))),
        (state == "absent" or mode != "docker-managed" or len(devices) == 1,
         "devicemapper_devices must list exactly one device in docker-managed mode (Docker's "
         "dm.directlvm_device); got %s." % _jinja_str(devices)),
        (mode != "docker-managed" or re.match(r"^[0-9]+%VG$", str(data_size)) is not None,
         "devicemapper_data_size must be N%%VG in docker-managed mode (Docker's dm.thinp_percent); got %s."
         % data_size),
        (mode != "docker-managed" or re.match(r"^[0-9]+%VG$", str(metadata_size)) is not None,
         "devicemapper_metadata_size must be N%%VG in docker-managed mode (Docker's dm.thinp_metapercent); got %s."
         % metadata_size),
        (not owned,
         "devicemapper_storage_opts may not set %s: the role sets it from devicemapper_mode (it owns %s)."
         % (", ".join(owned), ", ".join(OWNED_OPTS))),
        (flags["remove_pool"] or not flags["remove_vg"],
         "devicemapper_remove_vg needs devicemapper_remove_pool: true; got devicemapper_remove_pool=%s."
         % flags["remove_pool"]),
        (runtime != SNAPSHOTTER or (state == "present" and mode == "direct-lvm"),
         "devicemapper_runtime containerd-snapshotter needs devicemapper_state present and devicemapper_mode "
         "direct-lvm; got state=%s, mode=%s." % (state, mode)),
    ]
    for holds, message in rules:
        if not holds:
            return ["devicemapper role: " + message]
    return []


def choose_runtime(given, state, dockerd_version, containerd_installed):
    """Who uses the pool: auto keeps the graph driver for dockerd 24 and older and takes
    containerd's snapshotter for dockerd 25+ or containerd alone."""
    if given != "auto":
        return given
    if state != "present":
        return GRAPHDRIVER
    if dockerd_version is not None and LooseVersion(str(dockerd_version)) < LooseVersion("25.0"):
        return GRAPHDRIVER
    if dockerd_version is not None or containerd_installed:
        return SNAPSHOTTER
    return GRAPHDRIVER


def strip_trailing_slashes(path):
    """daemon.json's data-root may end in '/': without it the moves never nest a directory in itself."""
    return re.sub(r"(?<=.)/+$", "", path)


def store_of(current):
    """A "store" is what a data root belongs to: a driver, and for devicemapper its pool (or loop files)."""
    if current.get("driver") is None:
        return "none"
    if current["driver"] == "devicemapper":
        return "devicemapper:" + ("loop" if current.get("loop") else _jinja_str(current.get("pool")))
    return current["driver"]


def inner_mounts(mounts, data_root):
    """Mounts inside the data root that are not Docker's own."""
    inside = [mount for mount in mounts if re.match(re.escape(data_root + "/"), mount)]
    own = re.compile(re.escape(data_root) + DOCKERS_OWN_MOUNTS)
    return [mount for mount in inside if not own.match(mount)]


def movable_entries(entries, data_root):
    """The data root's own entries: earlier backups inside it and lost+found never move."""
    backup = re.compile("^" + re.escape(os.path.basename(data_root)) + "[.]bk-")
    return [entry for entry in entries if not backup.match(entry) and entry != "lost+found"]


def backup_sizes(lines):
    """`du -s --block-size=1` lines: path to bytes."""
    sizes = {}
    for line in lines:
        size, path = line.split(None, 1)
        sizes[path] = int(size)
    return sizes


def read_profile_dir(sections):
    """LVM's profile_dir as lvmconfig printed it, or '' when it could not tell (thinpool then reads it)."""
    for line in _lines(sections, "lvmconfig"):
        found = PROFILE_DIR_LINE.match(line)
        if found:
            return found.group(1)
    return ""


def storage_opts(mode, variables, flags, user_opts, vg, pool):
    mode_opts = {
        "direct-lvm": {"dm.thinpooldev": dm_path(vg, pool)},
        "docker-managed": {
            "dm.directlvm_device": (_var(variables, "devices") or [""])[0],
            "dm.thinp_percent": re.sub(r"%VG$", "", str(_var(variables, "data_size"))),
            "dm.thinp_metapercent": re.sub(r"%VG$", "", str(_var(variables, "metadata_size"))),
            "dm.thinp_autoextend_threshold": _var(variables, "autoextend_threshold"),
            "dm.thinp_autoextend_percent": _var(variables, "autoextend_percent"),
            "dm.directlvm_device_force": flags["force"],
        },
        "loop-lvm": {},
    }[mode]
    opts = dict(mode_opts)
    opts.update(DEFAULT_OPTS)
    opts.update(user_opts)
    return opts


def plan_devicemapper(probe, sections, variables, stamp, config_plan=None, check_mode=False, host="localhost"):
    """Every decision of the devicemapper role, from its reads; see the module's docstring.

    probe: docker_storage_info's result. sections: the host read's sections (name: lines).
    variables: the role's variables by their names (devicemapper_*). stamp: UTC time as
    %Y%m%dT%H%M%SZ, for the backup's name. config_plan: daemon.json's plan when the role
    made it with a module run (state absent); otherwise it is made here. check_mode:
    Ansible's. host: inventory_hostname, for the messages."""
    flags = dict((name, boolean(_var(variables, name), strict=False)) for name in BOOLEANS)
    plan = dict(flags)
    plan["refusals"] = refusals = []
    user_opts, bad_items = parse_storage_opts(_var(variables, "storage_opts"))
    refusals.extend(_input_refusals(variables, flags, user_opts, bad_items))
    if refusals:
        return plan

    state, mode = _var(variables, "state"), _var(variables, "mode")
    vg, pool = _var(variables, "vg"), _var(variables, "pool")
    docker_service, containerd_service = _var(variables, "docker_service"), _var(variables, "containerd_service")
    service, socket = probe["service"], probe.get("socket") or {}
    name = dm_name(vg, pool)
    runtime = choose_runtime(_var(variables, "runtime"), state, probe.get("dockerd_version"),
                             (probe.get("containerd") or {}).get("installed", False))
    data_root = strip_trailing_slashes(probe["data_root"])
    state_lines = _lines(sections, "state")
    record = json.loads("\n".join(state_lines)) if state_lines else {}
    sha_lines = _lines(sections, "state_sha")
    sizes = backup_sizes(_lines(sections, "backups"))
    found_tools = [os.path.basename(line) for line in _lines(sections, "tools")]
    expected_pool = {"direct-lvm": name, "docker-managed": "docker-thinpool", "loop-lvm": ""}[mode]
    target_store = "devicemapper:" + ("loop" if mode == "loop-lvm" else expected_pool)
    current_store = store_of(probe["current"])
    docker_active = bool(service.get("active") or socket.get("active"))
    pending = record.get("pending")
    is_mount = bool(probe.get("data_root_is_mount"))
    dropin_unit = containerd_service if runtime == SNAPSHOTTER else docker_service

    plan.update(
        mode=mode,
        runtime=runtime,
        # Included, not imported: only the chosen branch's tasks exist in the run.
        tasks_file="snapshotter.yml" if (state == "present" and runtime == SNAPSHOTTER) else state + ".yml",
        install_prerequisites=flags["install_packages"] and state == "present",
        result_store=target_store if state == "present" else "default driver",
        check_mode=bool(check_mode or probe.get("check_mode", False)),
        vg=vg,
        lv="%s/%s" % (vg, pool),
        dm_name=name,
        dm_path=dm_path(vg, pool),
        expected_pool=expected_pool,
        target_store=target_store,
        current_store=current_store,
        data_root=data_root,
        data_root_is_mount=is_mount,
        record=record,
        record_sha=(sha_lines[0].split(" ")[0] if sha_lines else "none"),
        tools_missing=[tool for tool in TOOLS if tool not in found_tools],
        dropin_found=_lines(sections, "dropin"),
        dropin_unit=dropin_unit,
        dropin_path="/etc/systemd/system/%s.service.d/devicemapper-thinpool.conf" % dropin_unit,
        profile_dir=read_profile_dir(sections),
        backup_sizes=sizes,
        units=([docker_service + ".socket"] if socket.get("loaded") else []) + [docker_service + ".service"],
        was_active=(pending["docker_active"] if isinstance(pending, dict) else docker_active),
        storage_opts=storage_opts(mode, variables, flags, user_opts, vg, pool),
    )
    # Switch = Docker runs (or would start) on another store than wanted: its data
    # root then belongs to the old store and is moved aside.
    if state == "present":
        switch = current_store != target_store and runtime == GRAPHDRIVER
    else:
        switch = probe["current"].get("driver") == "devicemapper"
    entries = movable_entries(probe.get("data_root_entries") or [], data_root)
    may_move = flags["backup_docker_data"] and (flags["manage_docker"] or not docker_active)
    restore = {}
    if switch and may_move:
        # present: the backup of the wanted store (moved aside by an earlier absent);
        # absent: the backup of the store Docker ran on before devicemapper.
        wanted = re.compile("^" + re.escape(target_store) + "$" if state == "present" else "^(?!devicemapper:)")
        candidates = [backup for backup in record.get("backups") or []
                      if backup["path"] in sizes and wanted.match(backup["store"])]
        restore = candidates[-1] if candidates else {}
    plan.update(
        switch=switch,
        entries=entries,
        inner_mounts=inner_mounts(_lines(sections, "mounts"), data_root),
        backup_path="%s%s.bk-%s" % (data_root, ("/" + os.path.basename(data_root)) if is_mount else "", stamp),
        move_data=bool(switch and may_move and entries),
        restore=restore,
    )
    plan["stash_mode"] = "inside" if is_mount else "beside"
    plan["unstash_mode"] = "inside" if restore.get("inside") else "beside"

    graphdriver_present = state == "present" and runtime == GRAPHDRIVER
    if graphdriver_present and not _supports_devicemapper(probe.get("dockerd_version")):
        refusals.append(
            "devicemapper role: dockerd %s on %s has no devicemapper storage driver: Docker Engine 25 removed it. "
            "Nothing was changed. Keep Docker 24 or older on this host, or put the pool under containerd's devmapper "
            "snapshotter (devicemapper_runtime: auto or containerd-snapshotter; Docker then uses it through the "
            "containerd image store), or move Docker to overlay2; see docs/containerd.md and "
            "docs/devicemapper-guide.md." % (probe.get("dockerd_version"), host))
    docker_installed = probe.get("dockerd") is not None and service.get("loaded")
    if graphdriver_present and flags["manage_docker"] and not docker_installed:
        refusals.append(
            "devicemapper role: no dockerd or no %s.service on %s (dockerd: %s). Install Docker Engine 24 or older "
            "first, or set devicemapper_manage_docker: false to prepare the pool and daemon.json before Docker is "
            "installed." % (docker_service, host, probe.get("dockerd")))
    if (plan["move_data"] or restore) and plan["inner_mounts"]:
        refusals.append(
            "devicemapper role: %s is mounted inside Docker's data root %s on %s; moving the data root aside would "
            "move (or fail to move) that mount. Nothing was changed. Unmount it (and remove it from /etc/fstab) "
            "first, or set devicemapper_backup_docker_data: false and move the data yourself."
            % (", ".join(plan["inner_mounts"]), data_root, host))
    if config_plan is None and graphdriver_present:
        # daemon.json planned with docker_daemon_config's own code (no module run).
        from ansible_collections.container_storage.devicemapper.plugins.filter.daemon_json_plan import (
            daemon_json_plan,
        )
        config_plan = daemon_json_plan(probe, storage_driver="devicemapper", storage_opts=plan["storage_opts"],
                                       path=_var(variables, "docker_config"))
        if config_plan["failed"]:
            refusals.append("devicemapper role: %s (on %s; nothing was changed)" % (config_plan["msg"], host))
    if runtime == SNAPSHOTTER and _CONTAINERD_SECTIONS & set(sections):
        config_plan = _plan_containerd(plan, probe, sections, variables, flags, host)
    plan["config_plan"] = config_plan
    plan.update(_present_extras(plan, record, mode, flags, host))
    plan.update(_absent_extras(plan, record, flags, mode))
    if config_plan is not None and not config_plan.get("failed") and runtime == GRAPHDRIVER:
        plan.update(plan_switch(plan, probe, config_plan, "present" if state == "present" else "absent", flags, mode))
        plan.update(_forget_pool(plan))
    plan.update(_tools_extras(plan, variables, flags, state, mode, host))
    plan["rollback_from_prefix"] = "%s%s.bk-" % (data_root, ("/" + os.path.basename(data_root)) if is_mount else "")
    return plan


def _supports_devicemapper(version):
    return version is None or LooseVersion(str(version)) < LooseVersion("25.0")


def _present_extras(plan, record, mode, flags, host):
    """present.yml's decisions on the activation drop-in and an earlier pool."""
    recorded_pool = record.get("pool", "")
    old_pool = recorded_pool if recorded_pool not in ("", plan["lv"] if mode == "direct-lvm" else "") else ""
    warning = ""
    if old_pool:
        # Not removed: it may hold data (a renamed pool still holds the old store).
        warning = (
            "[WARNING] %s: thin pool %s, which an earlier run pointed Docker at, is no longer used (%s); it is still "
            "monitored, with its profile attached, and keeps whatever Docker stored in it. Remove it when you no "
            "longer need it (devicemapper_state=absent with devicemapper_pool set to its name and "
            "devicemapper_remove_pool=true, or the thinpool module)."
            % (host, old_pool, ("the pool is now " + plan["lv"]) if mode == "direct-lvm"
               else "devicemapper_mode is " + mode))
    return dict(
        # Written by an earlier run that wanted it; with another mode or activation off
        # it would activate a pool Docker no longer uses.
        remove_dropin=bool((mode != "direct-lvm" or not flags["activate_on_boot"]) and plan["dropin_found"]),
        old_pool=old_pool,
        old_pool_warning=warning,
    )


def _tools_extras(plan, variables, flags, state, mode, host):
    """What the role does when the LVM tools are not on the host yet: a check-mode run
    cannot read LVM before the install it only previews, and a run that may not install
    them says which to install (every mode but loop-lvm runs them)."""
    missing = plan["tools_missing"]
    if not (missing and state == "present" and mode != "loop-lvm"):
        return dict(pool_after_install=False, pool_check_message="")
    if not flags["install_packages"]:
        plan["refusals"].append(
            "devicemapper role: install lvm2 and thin-provisioning-tools (device-mapper-persistent-data on the Red Hat "
            "family) on %s first, or set devicemapper_install_packages: true; %s not found. Nothing was changed."
            % (host, ", ".join(missing)))
    after_install = bool(plan["check_mode"] and flags["install_packages"] and mode == "direct-lvm")
    return dict(
        pool_after_install=after_install,
        pool_check_message=(
            "would create the thin pool %s (data %s, metadata %s, chunk %s) on %s with the autoextend profile %s; "
            "LVM is read after the install (%s not found)"
            % (plan["lv"], _var(variables, "data_size"), _var(variables, "metadata_size"),
               _var(variables, "chunk_size"), ", ".join(_var(variables, "devices")), _var(variables, "profile"),
               ", ".join(missing))) if after_install else "",
    )


def _absent_extras(plan, record, flags, mode):
    """absent.yml's decisions on removing the pool (devicemapper_remove_pool)."""
    store = "devicemapper:" + plan["dm_name"]
    pool_backups = [backup["path"] for backup in record.get("backups") or [] if backup.get("store") == store]
    return dict(
        remove_pool_now=flags["remove_pool"] and mode != "loop-lvm",
        remove_vg_words=(" and VG " + plan["vg"]) if flags["remove_vg"] else "",
        pool_backups_words=", ".join(pool_backups) or plan["backup_path"],
    )


def _forget_pool(plan):
    """After the pool is removed: its backups and the pool are forgotten (the directories stay)."""
    store = "devicemapper:" + plan["dm_name"]
    after = plan["record_after"]
    kept = [backup for backup in after["backups"] if backup.get("store") != store]
    return dict(
        forget_pool=len(kept) != len(after["backups"]) or after["pool"] == plan["lv"],
        record_without_pool=dict(after, pool="", backups=kept),
    )


_CONTAINERD_SECTIONS = {"pool", "metadata", "service"}


def _plan_containerd(plan, probe, sections, variables, flags, host):
    """probe_containerd.yml's decisions and refusals: whether containerd may take the pool; daemon.json's plan."""
    pool, mode = _var(variables, "pool"), _var(variables, "mode")
    service = probe["service"]
    # `lvs` rows of the VG: name, attributes, data percent, pool of a thin volume.
    rows = [line.strip().split("|") for line in _lines(sections, "pool")]
    pool_row = next((row for row in rows if row[0] == pool), [])
    thin_volumes = [row[0] for row in rows if len(row) > 3 and row[3] == pool]
    metadata = "present" in _lines(sections, "metadata")
    service_lines = _lines(sections, "service")
    record = plan["record"]
    store = "devicemapper:" + plan["dm_name"]
    # Docker is configured and restarted only when it is installed and the role manages it.
    with_docker = bool(flags["manage_docker"] and probe.get("dockerd") is not None and service.get("loaded"))
    # Whether the role's record or Docker itself says this pool served Docker's devicemapper graph driver.
    graphdriver_use = (
        (["the role pointed Docker's devicemapper graph driver at it (%s)" % STATE_FILE]
         if record.get("pool", "") == plan["lv"] else [])
        + (["a backup of Docker's data root recorded as its %s store" % store]
           if store in [backup.get("store") for backup in record.get("backups") or []] else [])
        + (["Docker runs (or would start) on it with the devicemapper graph driver"]
           if probe["current"].get("driver") == "devicemapper" and probe["current"].get("pool") == plan["dm_name"]
           else []))
    percent = pool_row[2].strip() if len(pool_row) > 2 else ""
    used = bool(percent) and float(percent) > 0
    foreign = ((["LVM thin volumes " + ", ".join(thin_volumes)] if thin_volumes else [])
               + (["data in use (%s%%) while %s/metadata.db does not exist"
                   % (pool_row[2], _var(variables, "containerd_root_path"))] if used and not metadata else [])
               + graphdriver_use)
    refusals = plan["refusals"]
    containerd = probe.get("containerd") or {}
    if not (mode == "direct-lvm" and containerd.get("installed", False)):
        refusals.append(
            "devicemapper role: containerd's devmapper snapshotter on %s needs devicemapper_mode: direct-lvm (got %s: "
            "loop-lvm and docker-managed are the graph driver's own modes) and containerd installed (found: %s). "
            "Nothing was changed." % (host, mode, containerd.get("path")))
    if foreign:
        # containerd's snapshotter keeps its own thin device ids in its metadata.db: a pool
        # with thin volumes it does not know would have ids reused or its data taken for free.
        refusals.append(
            "devicemapper role: thin pool %s (%s) on %s already holds data that is not containerd's: %s. "
            "containerd's devmapper snapshotter keeps its own thin device ids and must have the pool to itself. "
            "Nothing was changed. Move off the pool first: playbooks/migrate.yml (container_storage.devicemapper.migrate) "
            "moves Docker's devicemapper store to overlay2 and keeps its images; then remove the pool "
            "(devicemapper_state: absent with devicemapper_remove_pool: true, devicemapper_runtime: docker-graphdriver) "
            "or give containerd another pool (devicemapper_vg, devicemapper_pool on other devices)."
            % (plan["lv"], plan["dm_name"], host, "; ".join(foreign)))
    config_plan = {"changed": False, "failed": False, "msg": ""}
    if with_docker:
        from ansible_collections.container_storage.devicemapper.plugins.filter.daemon_json_plan import (
            daemon_json_plan,
        )
        config_plan = daemon_json_plan(probe, storage_driver="devmapper", containerd_snapshotter=True,
                                       path=_var(variables, "docker_config"))
        if config_plan["failed"]:
            refusals.append("devicemapper role: %s (on %s; nothing was changed)" % (config_plan["msg"], host))
    docker_restart = bool(with_docker and config_plan.get("changed"))
    plan.update(
        vg_rows=rows,
        pool_row=pool_row,
        pool_thin_volumes=thin_volumes,
        foreign_data=foreign,
        containerd_metadata=metadata,
        containerd_active="active=active" in service_lines,
        containerd_enabled="enabled=enabled" in service_lines,
        with_docker=with_docker,
        docker_restart=docker_restart,
        # Docker is (re)started after containerd: restarted on a changed daemon.json, started
        # and enabled when it was not.
        docker_start=bool(with_docker and (docker_restart or not service.get("active") or not service.get("enabled"))),
        docker_start_args=(["restart" if docker_restart else "start", "%s.service" % _var(variables, "docker_service")]
                           + plan["units"]),
    )
    return config_plan


def plan_dropin(plan, wanted, b64_wanted):
    """Whether the activation drop-in is written: on, and the host's copy differs (bytes or owner/mode).

    wanted: the drop-in as the role writes it for the plan's unit; b64_wanted: its bytes in base64."""
    write = plan["activate_on_boot"] and plan["dropin_found"] != [b64_wanted, "root:root:644"]
    found = plan["dropin_found"]
    return dict(
        dropin_content=wanted,
        dropin_write=bool(write),
        dropin_check_message=("would write %s (root:root 0644%s) and reload systemd: %s"
                              % (plan["dropin_path"], (", was " + found[1]) if found else ", new", wanted)),
    )


def plan_switch(plan, probe, config_plan, config_state, flags, mode):
    """switch.yml's decisions: stop, move, put back, write daemon.json, start, record."""
    service, socket = probe["service"], probe.get("socket") or {}
    record = plan["record"]
    docker_active = bool(service.get("active") or socket.get("active"))
    restore = plan["restore"]
    write_config = bool(config_plan.get("changed"))
    restart = plan["switch"] or write_config
    stop = flags["manage_docker"] and restart and docker_active
    backups = [backup for backup in record.get("backups") or [] if backup["path"] in plan["backup_sizes"]]
    if plan["move_data"]:
        backups.append({"path": plan["backup_path"], "store": plan["current_store"],
                        "inside": plan["data_root_is_mount"]})
    backups = [backup for backup in backups if backup["path"] != restore.get("path", "")]
    record_after = dict(
        pending=None,
        # The direct-lvm pool the role last pointed Docker at, to report it once it is no longer wanted.
        pool=plan["lv"] if (mode == "direct-lvm" and config_state == "present") else record.get("pool", ""),
        backups=backups,
    )
    start = flags["manage_docker"] and (config_state == "present" or plan["was_active"]) and (
        restart or not service.get("active") or (config_state == "present" and not service.get("enabled")))
    moves = bool(stop or plan["move_data"] or restore)
    touches_host = bool(moves or record.get("pending") is not None
                        or record_after["backups"] != (record.get("backups") or [])
                        or record_after["pool"] != record.get("pool", ""))
    units = " ".join(plan["units"])
    steps = ((["stop " + units] if stop else [])
             + (["move %s aside to %s" % (plan["data_root"], plan["backup_path"])] if plan["move_data"] else [])
             + (["put back " + restore["path"]] if restore else [])
             + (["write daemon.json"] if write_config else [])
             + (["start " + units] if start else []))
    enabled = service.get("enabled") and (socket.get("enabled") or not socket.get("loaded"))
    can_verify = flags["manage_docker"] and flags["verify"] and not (
        plan["check_mode"] and (restart or not service.get("active")))
    listed = _listed_backups(plan["backup_sizes"], record_after["backups"])
    return dict(
        config_state=config_state,
        write_config=write_config,
        restart=restart,
        stop=bool(stop),
        start=bool(start),
        record_first=moves,
        touches_host=touches_host,
        record_after=record_after,
        steps=steps,
        start_verb="enable" if config_state == "present" and not enabled else "start",
        start_info="info" if flags["verify"] else "no-info",
        start_record="record" if touches_host else "no-record",
        # Verified when Docker runs on what the role configured: in check mode nothing was
        # restarted, so only a Docker already up on unchanged settings can be verified.
        verify_unstarted=bool(can_verify and config_state == "present"),
        verify_started=bool(can_verify),
        write_storage_driver="devicemapper" if config_state == "present" else None,
        write_storage_opts=plan["storage_opts"] if config_state == "present" else None,
        backups_listed=listed,
        backups_listed_after_restore=[entry for entry in listed if entry["path"] != restore.get("path")],
    )


def _listed_backups(sizes, recorded):
    """The result's list of backups: those found on the host and those recorded, with store and bytes."""
    known = dict((backup["path"], backup["store"]) for backup in recorded)
    paths = []
    for path in list(sizes) + list(known):
        if path not in paths:
            paths.append(path)
    return [{"path": path, "store": known.get(path, "not recorded"), "bytes": sizes.get(path)} for path in paths]


def verify_docker(state_now, plan, host):
    """verify.yml's comparison of what `docker info` says with what the role configured
    (snapshotter.yml's with containerd's snapshotter: verify_containerd).

    state_now: docker_storage_info's result, or the docker_info filter's reading of the start's output."""
    if plan["runtime"] == SNAPSHOTTER:
        return verify_containerd(state_now, plan, host)
    info = (state_now or {}).get("info") or {}
    info_error = (state_now or {}).get("info_error") or ""
    status = info.get("driver_status") or {}
    driver = info.get("driver") or "none"
    mode = plan["mode"]
    if plan["config_state"] == "present":
        opts = plan["storage_opts"]
        want_removal = str(boolean(opts.get("dm.use_deferred_removal", False), strict=False)).lower()
        want_deletion = str(boolean(opts.get("dm.use_deferred_deletion", False), strict=False)).lower()
        pool_name = status.get("Pool Name", "none")
        removal = str(status.get("Deferred Removal Enabled", "none")).lower()
        deletion = str(status.get("Deferred Deletion Enabled", "none")).lower()
        checks = [
            (driver == "devicemapper", "expected Storage Driver: devicemapper, got %s" % driver),
            (mode == "loop-lvm" or pool_name == plan["expected_pool"],
             "expected Pool Name: %s, got %s" % (plan["expected_pool"], pool_name)),
            (mode == "loop-lvm" or "Data loop file" not in status,
             "expected no Data loop file in %s mode, got %s" % (mode, status.get("Data loop file", ""))),
            (mode != "loop-lvm" or "Data loop file" in status, "expected a Data loop file in loop-lvm mode, got none"),
            (removal == want_removal, "expected Deferred Removal Enabled: %s, got %s" % (want_removal, removal)),
            (deletion == want_deletion, "expected Deferred Deletion Enabled: %s, got %s" % (want_deletion, deletion)),
        ]
    else:
        checks = [(driver not in ("devicemapper", "none"),
                   "expected Docker running on another driver than devicemapper, got %s" % driver)]
    mismatches = [message for ok, message in checks if not ok]
    said = ", ".join("%s: %s" % (key, status.get(key, "-")) for key in (
        "Pool Name", "Data file", "Data loop file", "Deferred Removal Enabled", "Deferred Deletion Enabled"))
    return dict(
        mismatches=mismatches,
        fail_msg=("devicemapper role: Docker on %s does not run on the storage the role configured (%s). "
                  "docker info says: Storage Driver: %s, %s%s"
                  % (host, "; ".join(mismatches), info.get("driver", "-"), said,
                     (" (%s)" % info_error) if info_error else "")),
        success_msg="Docker runs on %s%s (%s)." % (
            driver, (", pool %s" % status["Pool Name"]) if "Pool Name" in status else "",
            "loop-lvm" if "Data loop file" in status else "no loop file"),
    )


def verify_containerd(reprobe, plan, host):
    """What containerd and Docker report after snapshotter.yml's restarts (docker_storage_info
    with read_containerd), against containerd's snapshotter on the plan's pool."""
    info = reprobe.get("info") or {}
    containerd = reprobe.get("containerd") or {}
    plugin = containerd.get("devmapper_plugin") or "none"
    with_docker = plan["with_docker"]
    checks = [
        (plugin == "ok", "containerd's devmapper snapshotter plugin is %s, expected ok (pool %s)"
         % (plugin, plan["dm_name"])),
        (not with_docker or info.get("driver") == "devmapper",
         "docker info says Storage Driver: %s, expected devmapper" % (info.get("driver") or "-")),
        (not with_docker or info.get("driver_type") == "io.containerd.snapshotter.v1",
         "docker info says driver-type: %s, expected io.containerd.snapshotter.v1" % (info.get("driver_type") or "-")),
    ]
    mismatches = [message for ok, message in checks if not ok]
    errors = [" (%s)" % error for error in (containerd.get("plugins_error"), reprobe.get("info_error")) if error]
    return dict(
        mismatches=mismatches,
        fail_msg="devicemapper role: on %s %s.%s" % (host, "; ".join(mismatches), "".join(errors)),
        success_msg="containerd's devmapper snapshotter is ok on pool %s%s." % (
            plan["dm_name"], ("; Docker runs on %s (%s)" % (info.get("driver"), info.get("driver_type")))
            if with_docker else ""),
    )


# Registered results read as Ansible's tests read them (`is changed`, `is failed`, `is skipped`).
def _changed(result):
    result = result or {}
    if "changed" not in result and isinstance(result.get("results"), list):
        return any(_changed(item) for item in result["results"] if isinstance(item, dict))
    return bool(result.get("changed", False))


def _failed(result):
    return bool((result or {}).get("failed", False))


def _skipped(result):
    return bool((result or {}).get("skipped", False))


def _trim(value):
    return _jinja_str(value).strip()


def plan_containerd_switch(plan, variables, containerd_config_plan, snapshotter_config, dropin_removed):
    """snapshotter.yml's decisions once containerd's config.toml is written (or would be, in check mode).

    containerd_config_plan: containerd_devmapper's check-mode run in probe_containerd.yml;
    snapshotter_config: the write's result (skipped in check mode or when nothing changes);
    dropin_removed: the removal of the activation drop-in (skipped when it stays)."""
    service = _var(variables, "containerd_service")
    check_mode = plan["check_mode"]
    config_changes = _changed(containerd_config_plan)
    restart = bool((snapshotter_config or {}).get("restart_needed", False) or (check_mode and config_changes))
    docker_restart = bool(plan["docker_restart"])
    active, enabled = plan["containerd_active"], plan["containerd_enabled"]
    start = bool(restart or not (active and enabled))
    steps = ((["write the devmapper snapshotter settings into %s" % _var(variables, "containerd_config")]
              if config_changes else [])
             + (["restart %s" % service] if restart else ["start %s" % service] if not active else [])
             + (["enable %s" % service] if not enabled else [])
             + (["write daemon.json (containerd image store on devmapper)", "restart %s" % _var(variables, "docker_service")]
                if docker_restart else []))
    return dict(
        # A drop-in written by pool.yml was already followed by a reload in the same call.
        reload_units=_changed(dropin_removed),
        containerd_restart=restart,
        docker_restart=docker_restart,
        containerd_start=start,
        # containerd_start.sh's arguments: the unit, whether it is enabled, whether it restarts.
        containerd_start_args=["%s.service" % service, "yes" if enabled else "no", "yes" if restart else "no"],
        check_steps=steps,
        check_message="would " + ", then ".join(steps),
        say_check_steps=bool(check_mode and steps),
        # In check mode nothing was restarted: only what already runs on unchanged settings can be verified.
        verify=bool(plan["verify"] and not (check_mode and (restart or docker_restart or not active))),
        config_changed=bool(_changed(snapshotter_config) or (check_mode and config_changes)),
    )


def containerd_switch_result(plan, switch, results):
    """snapshotter.yml's devicemapper_role_result. results: the registered containerd_started,
    docker_started, snapshotter_config and config_written (an empty dict for a step not reached)."""
    check_mode = plan["check_mode"]
    return dict(
        store="containerd-snapshotter:%s" % plan["dm_name"],
        runtime=SNAPSHOTTER,
        containerd_config_changed=switch["config_changed"],
        # In check mode: whether a real run would (re)start it.
        containerd_restarted=bool(_changed(results["containerd_started"]) or (check_mode and switch["containerd_start"])),
        docker_configured=plan["with_docker"],
        docker_restarted=bool(_changed(results["docker_started"]) or (check_mode and switch["docker_restart"])),
        # '' without a backup, as the role's set_fact rendered it (Ansible prints none as '').
        containerd_config_backup=results["snapshotter_config"].get("backup_file") or "",
        daemon_json_backup=results["config_written"].get("backup_file") or "",
    )


def _docker_started_again(rb_start, words):
    if _changed(rb_start) and not _failed(rb_start):
        return words
    return ", Docker NOT started again" if _failed(rb_start) else ""


def containerd_switch_failure(plan, results, host, failed_task, failed_result):
    """The rescue's message in snapshotter.yml: what failed, and what was done and put back.

    results: the registered snapshotter_config, containerd_started, config_written and the
    rescue's rb_config, rb_config_new, rb_start; failed_task, failed_result: Ansible's
    ansible_failed_task and ansible_failed_result."""
    written, started = results["snapshotter_config"], results["containerd_started"]
    config_written, rb_start = results["config_written"], results["rb_start"]
    rb_config, rb_config_new = results["rb_config"], results["rb_config_new"]
    if _changed(written):
        containerd_words = "containerd settings written (backup %s)" % _jinja_str(written.get("backup_file"))
    else:
        containerd_words = "containerd settings unchanged"
    if _changed(started) and not _failed(started):
        restart_words = "containerd restarted"
    else:
        restart_words = "containerd restart failed" if _failed(started) else "containerd not restarted"
    if _changed(rb_config) and not _failed(rb_config):
        config_words = "daemon.json put back from %s%s" % (
            _jinja_str(config_written.get("backup_file")), _docker_started_again(rb_start, " and Docker started again on it"))
    elif _changed(rb_config_new) and not _failed(rb_config_new):
        config_words = "daemon.json the role created removed" + _docker_started_again(rb_start, " and Docker started again")
    elif _changed(config_written):
        config_words = "daemon.json written (backup %s)" % _jinja_str(config_written.get("backup_file") or "none")
    else:
        config_words = "daemon.json unchanged"
    return ("devicemapper role: putting containerd's devmapper snapshotter in place on %s failed (%s: %s %s). "
            "Done: the pool %s is built; %s;\n%s;\n%s."
            % (host, _jinja_str(failed_task.get("name", "?")), _jinja_str(failed_result.get("msg") or ""),
               _trim(failed_result.get("stderr", "")), plan["lv"], containerd_words, restart_words, config_words))


def plan_rollback(plan, results, failed_task, failed_result, stamp, host):
    """rollback.yml's decisions, before it puts anything back: whether the record step failed
    (then nothing is put back), why the switch failed, what is stopped, moved back and restored.

    results: switch.yml's registered recorded, stopped, moved, restored, config_written and
    started; failed_task, failed_result: ansible_failed_task and ansible_failed_result ({} when
    the wave stopped because another host failed); stamp: UTC time for the aside directory."""
    recorded, moved, restored = results["recorded"], results["moved"], results["restored"]
    started, config_written = results["started"], results["config_written"]
    # A failed rename moved nothing; a failed move inside a mount point may have moved part of it.
    moved_back = bool(_changed(moved) and (not _failed(moved) or plan["data_root_is_mount"]))
    restored_back = bool(_changed(restored) and (not _failed(restored) or plan["unstash_mode"] == "inside"))
    rollback_from = "%s%s-failed" % (plan["rollback_from_prefix"], stamp)
    start_tried = _changed(started) or _failed(started)
    backup_file = config_written.get("backup_file")
    stderr = failed_result.get("stderr", "")
    record_reason = _trim(recorded.get("stderr") or "") or recorded.get("msg") or "?"
    return dict(
        record_failed=_failed(recorded),
        record_message=(
            "devicemapper role: on %s the role's record was not written: %s. This run changed nothing of Docker "
            "(the pool steps before it are the same for every run). %s"
            % (host, _jinja_str(record_reason),
               "Run the role again once the other run has finished." if recorded.get("rc") in [1, 75] else "")),
        failure="%s: %s%s" % (_jinja_str(failed_task.get("name", "another host of this wave failed")),
                              _jinja_str(failed_result.get("msg") or "the play stopped the wave"),
                              (" " + _trim(stderr)) if stderr else ""),
        rollback_from=rollback_from,
        moved=moved_back,
        restored=restored_back,
        stop=bool(_changed(results["stopped"]) or start_tried),
        config_put_back=bool(_changed(config_written) and backup_file is not None),
        config_removed=bool(_changed(config_written) and backup_file is None),
        # What the failed start may have left in the data root is moved aside too (never deleted).
        stash=bool(restored_back or (moved_back and start_tried)),
        stash_args=[plan["data_root"], plan["restore"]["path"] if restored_back else rollback_from,
                    plan["unstash_mode"] if restored_back else plan["stash_mode"]],
        unstash=moved_back,
        start=bool(plan["manage_docker"] and plan["was_active"]),
        # Whether this run touched Docker before it failed (then rolled back): its units, data root or daemon.json.
        docker_changed=bool(_changed(results["stopped"]) or moved_back or restored_back or _changed(config_written)
                            or _changed(started)),
    )


def rollback_report(plan, rollback, results, host):
    """rollback.yml's devicemapper_role_result: what was rolled back, and the message.

    rollback: plan_rollback's decisions; results: switch.yml's config_written and the rollback's
    registered rb_config, rb_config_new, rb_stash, rb_unstash and rb_start."""
    config_written, rb_config, rb_config_new = results["config_written"], results["rb_config"], results["rb_config_new"]
    rb_stash, rb_unstash, rb_start = results["rb_stash"], results["rb_unstash"], results["rb_start"]
    if _changed(rb_config) and not _failed(rb_config):
        config_words = "daemon.json restored from %s" % _jinja_str(config_written.get("backup_file"))
    elif _changed(rb_config_new) and not _failed(rb_config_new):
        config_words = "daemon.json the role created removed"
    elif not _changed(config_written):
        config_words = "daemon.json unchanged"
    else:
        config_words = "daemon.json NOT restored (%s)" % _jinja_str(rb_config.get("msg", ""))
    if not rollback["moved"]:
        data_words = "data root not moved"
    elif rb_unstash.get("rc", 1) == 0:
        data_words = "data root put back from %s%s" % (
            plan["backup_path"], (" (what Docker wrote meanwhile is in %s)" % rollback["rollback_from"])
            if _changed(rb_stash) and not rollback["restored"] else "")
    else:
        data_words = "data root NOT put back: it is in %s (%s)" % (plan["backup_path"],
                                                                   _jinja_str(rb_unstash.get("stderr", "")))
    restored_words = ("restored store moved back to %s; " % plan["restore"]["path"]) if rollback["restored"] else ""
    if _skipped(rb_start):
        start_words = "Docker left as it was (not running before, or not managed)"
    elif not _failed(rb_start):
        start_words = "Docker started again on its previous storage"
    else:
        start_words = "Docker did NOT start again: %s" % _trim(rb_start.get("stderr") or rb_start.get("msg", ""))
    return dict(
        rolled_back=True,
        docker_changed=rollback["docker_changed"],
        docker_running=not _failed(rb_start) and not _skipped(rb_start),
        message=("devicemapper role: switching Docker's storage on %s failed (%s). Rolled back: %s;\n%s;\n%s\n%s."
                 % (host, rollback["failure"], config_words, data_words, restored_words, start_words)),
    )


def pool_removal_warning(plan, pool_info, host):
    """absent.yml's warning before devicemapper_remove_pool removes the pool: what it destroys.

    pool_info: thinpool_info's result (skipped when the pool is not removed)."""
    pools = [] if _skipped(pool_info) else (pool_info or {}).get("pools") or []
    lost = pools[0] if pools else {}
    return dict(
        warn=bool(pools),
        message=("[WARNING] devicemapper_remove_pool=true on %s: removing thin pool %s (%s%% of its %s bytes in use, "
                 "%d LVM thin volumes besides Docker's own devices)%s destroys every image layer and container "
                 "file system Docker kept in it; the data root moved aside (%s) can no longer be used."
                 % (host, plan["lv"], _jinja_str(lost.get("data_percent", "?")), _jinja_str(lost.get("size", "?")),
                    len(lost.get("thin_volumes", [])), plan["remove_vg_words"], plan["pool_backups_words"])),
    )
