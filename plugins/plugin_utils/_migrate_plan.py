# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The migrate role's decisions, made on the controller from what the role read.

``plan_migration(reads, variables, epoch)`` takes the role's reads (docker_storage_info's
registered result as ``probe``, the sections of files/read.sh as ``host``, those of
files/measure.sh as ``measured`` and of files/inventory.sh as ``inventory`` once read, those of
files/inventory.sh as ``after`` after the switch or before a confirmation) and the role's
variables, and returns every decision the tasks act on: the action (migrate, rollback, confirm or none), whether the
migration resumes, whether Docker's images must be read, the record the migration writes,
the refusals with their messages (in the order the role checks them), the plan in words.
``manifest``, ``missing_images``, ``compare_inventory`` and ``report`` are the later decisions: the
archives added to the plan, the images the new store lacks, what it lacks of the inventory taken
before the first change, the report of a run.
Pure: no host, no clock (``epoch`` is the time, in seconds).

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import time

from ansible.module_utils.compat.version import LooseVersion
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.container_storage.devicemapper.plugins.module_utils import _lvm, _sizes, _validate
from ansible_collections.container_storage.devicemapper.plugins.module_utils._dm import dm_name

TARGETS = ("overlay2-lv", "overlay2-root", "containerd-snapshotter")
SNAPSHOTTER = "containerd-snapshotter"
FSTYPES = ("ext4", "xfs")
# The fields files/read.sh asks lvs and vgs for (JSON reports, read by _lvm).
LV_FIELDS = ["vg_name", "lv_name", "lv_attr", "lv_size"]
VG_FIELDS = ["vg_name", "vg_free"]
# docker save writes layers uncompressed: 5% and 64 MiB on top of the images' sizes.
MARGIN = 1.05
SLACK = 64 * 2 ** 20


class MigratePlanError(ValueError):
    """Reads the plan cannot use (not the role's reads, or output it cannot parse)."""


class _Recorded(object):
    """A runner that answers with output already read on the host, for _lvm.read_report."""

    def __init__(self, text):
        self.text = text

    def run(self, argv):
        return 0, self.text, ""


def _strip_slashes(path):
    """A path without trailing slashes, '/' kept."""
    return re.sub(r"(?<=.)/+$", "", path or "")


def _lines(sections, name):
    """A section's non-empty lines."""
    return [line for line in (sections or {}).get(name) or [] if line.strip()]


def _first(sections, name, default=""):
    found = _lines(sections, name)
    return found[0] if found else default


def _lvm_rows(sections, name, fields):
    text = "\n".join((sections or {}).get(name) or [])
    if not text.strip():
        return []
    try:
        return _lvm.read_report(_Recorded(text), name, fields)
    except _lvm.LvmReportError as exc:
        raise MigratePlanError("migrate_plan: the host read's @@%s: %s" % (name, exc))


def _df_available(sections, name):
    """Free bytes from `df -P -B1` (its second line, fourth column); 0 when not read."""
    lines = _lines(sections, name)
    if len(lines) < 2:
        return 0
    fields = lines[1].split()
    try:
        return int(fields[3])
    except (IndexError, ValueError):
        raise MigratePlanError("migrate_plan: the host read's @@%s is not df -P output: %r" % (name, lines))


def read_host(sections):
    """What files/read.sh read, as the plan uses it."""
    sections = sections or {}
    state = "\n".join(sections.get("state") or [])
    try:
        record = json.loads(state) if state.strip() else {}
    except ValueError as exc:
        raise MigratePlanError("migrate_plan: the role's record on the host is not JSON (%s)" % exc)
    lvm = _lvm.LvmState([], _lvm_rows(sections, "vgs", VG_FIELDS), _lvm_rows(sections, "lvs", LV_FIELDS))
    return dict(
        record=record,
        mount_points=[line.split()[1] for line in _lines(sections, "mounts") if len(line.split()) > 1],
        lvm=lvm,
        export_avail=_df_available(sections, "avail"),
        root_avail=_df_available(sections, "root_avail"),
        root_shares_export=_first(sections, "same_fs", "no") == "yes",
        fstab=_lines(sections, "fstab"),
        backups=_lines(sections, "backups"),
    )


def read_docker(sections):
    """What files/measure.sh read: the images, the containers (as docker inspect gives them), the volumes."""
    sections = sections or {}
    images = []
    for line in _lines(sections, "images"):
        parts = line.split("|")
        if len(parts) != 3:
            raise MigratePlanError("migrate_plan: an @@images line is not 'ID|bytes|tags': %r" % line)
        images.append({"id": parts[0], "bytes": int(parts[1]),
                       "tags": [tag for tag in parts[2].split() if tag != "<none>:<none>"]})
    text = "\n".join(sections.get("containers") or []).strip() or "[]"
    try:
        inspected = json.loads(text)
    except ValueError as exc:
        raise MigratePlanError("migrate_plan: @@containers is not docker inspect's JSON (%s)" % exc)
    ids = [image["id"] for image in images]
    containers = [{"name": c["Name"][1:] if c["Name"].startswith("/") else c["Name"], "id": c["Id"],
                   "image": c["Image"], "config_image": c["Config"]["Image"], "state": c["State"]["Status"],
                   "image_present": c["Image"] in ids} for c in inspected]
    du = _first(sections, "volume_bytes", "0").split()
    return dict(images=images, containers=containers, inspected=inspected,
                volumes=_lines(sections, "volumes"), volume_bytes=int(du[0]) if du else 0)


SWARM_NODE_STATES = ("pending", "active", "error", "locked")
SWARM_CHOICES = ("refuse", "carry")


def _image_lines(lines, section):
    images = []
    for line in lines:
        parts = line.split("|")
        if len(parts) != 3:
            raise MigratePlanError("migrate_plan: an @@%s line is not 'ID|bytes|tags': %r" % (section, line))
        images.append({"id": parts[0], "bytes": int(parts[1]),
                       "tags": [tag for tag in parts[2].split() if tag != "<none>:<none>"]})
    return images


def _digests(lines, section):
    found = {}
    for line in lines:
        parts = line.split("|")
        if len(parts) != 4:
            raise MigratePlanError("migrate_plan: an @@%s line is not 'name|files|bytes|sha256': %r" % (section, line))
        found[parts[0]] = {"files": int(parts[1]), "bytes": int(parts[2]), "sha256": parts[3]}
    return found


def read_inventory(sections):
    """What files/inventory.sh read: docker info's counts and swarm state, every image (``docker image
    ls -a``), the container IDs, the user-defined networks, the plugins, the named volumes, the data
    root's driver-independent directories, and the volumes' content digests (of the new volumes
    directory, and of the moved-aside old one when given)."""
    sections = sections or {}
    info = _first(sections, "info").split("|")
    if len(info) != 4:
        raise MigratePlanError("migrate_plan: the inventory's @@info is not 'images|containers|swarm|control': %r"
                               % _first(sections, "info"))
    try:
        counted = {"images": int(info[0]), "containers": int(info[1])}
    except ValueError:
        raise MigratePlanError("migrate_plan: docker info's counts are not numbers: %r" % "|".join(info))
    networks = []
    for line in _lines(sections, "networks"):
        parts = line.split("|")
        if len(parts) != 4:
            raise MigratePlanError("migrate_plan: an @@networks line is not 'name|driver|scope|subnets': %r" % line)
        networks.append({"name": parts[0], "driver": parts[1], "scope": parts[2], "subnets": sorted(parts[3].split())})
    plugins = []
    for line in _lines(sections, "plugins"):
        name, _sep, enabled = line.partition("|")
        plugins.append({"name": name, "enabled": enabled == "true"})
    return dict(
        counted=counted,
        swarm=info[2], swarm_manager=info[3] == "true",
        images=_image_lines(_lines(sections, "images"), "images"),
        containers=_lines(sections, "container_ids"),
        networks=networks,
        plugins=plugins,
        volumes=_lines(sections, "volumes"),
        state_dirs=_lines(sections, "state_dirs"),
        volume_digests=_digests(_lines(sections, "volume_digests"), "volume_digests"),
        old_volume_digests=(_digests(_lines(sections, "old_volume_digests"), "old_volume_digests")
                            if "old_volume_digests" in sections else {}),
    )


def inventory_refusals(inventory, hostname, migrate_swarm):
    """What the inventory taken before any change refuses: a listing that does not add up to what
    docker info counts (a read that missed something would carry less than there is), and a swarm
    node unless migrate_swarm is carry."""
    refusals = []
    images = len(set(image["id"] for image in inventory["images"]))
    containers = len(set(inventory["containers"]))
    if (images, containers) != (inventory["counted"]["images"], inventory["counted"]["containers"]):
        refusals.append(
            "migrate role: on %s docker info counts %d images and %d containers, but the listing read %d images "
            "(docker image ls -a) and %d containers (docker ps -a): the inventory of the store would not be complete, "
            "and what it missed would not be carried. Nothing was changed; run again when Docker is not creating or "
            "removing images or containers." % (hostname, inventory["counted"]["images"],
                                                inventory["counted"]["containers"], images, containers))
    if inventory["swarm"] in SWARM_NODE_STATES and migrate_swarm != "carry":
        refusals.append(
            "migrate role: %s is a swarm %s (node state %s). Its swarm state (swarm/ in the data root: the cluster's "
            "keys%s) would stay in the old data root, which the confirmation removes, and the node would leave its "
            "cluster. Nothing was changed. Set migrate_swarm: carry to carry swarm/ with the data root (the node keeps "
            "its identity; drain it first), or leave the swarm (docker swarm leave) before migrating."
            % (hostname, "manager" if inventory["swarm_manager"] else "node", inventory["swarm"],
               " and raft log" if inventory["swarm_manager"] else ""))
    return refusals


def compare_inventory(before, after, manifest):
    """What the store Docker runs on now lacks of what was inventoried before the switch, one line each:
    the images of the manifest (by their ID in this store, with every tag), the user-defined networks
    (name, driver, subnets), the plugins, the named volumes, and each volume's content digest when the
    moved-aside old volumes were digested beside the new ones (an overlay2 switch), and the swarm state
    when it was carried. An empty list: everything was proven carried. ``before`` may be None (a record
    of an older version of the role): then only the images are compared."""
    present = ["%s|%s" % (image["id"], " ".join(image["tags"])) for image in after["images"]]
    differences = ["image %s: not in the new store with its tags" % missing
                   for missing in missing_images(manifest, present)]
    if not before:
        return differences
    networks = dict((net["name"], net) for net in after["networks"])
    for net in before.get("networks", []):
        found = networks.get(net["name"])
        if found is None:
            differences.append("network %s (%s %s): missing" % (net["name"], net["driver"], " ".join(net["subnets"])))
        elif (found["driver"], found["subnets"]) != (net["driver"], net["subnets"]):
            differences.append("network %s: was %s %s, is %s %s" % (
                net["name"], net["driver"], " ".join(net["subnets"]), found["driver"], " ".join(found["subnets"])))
    plugins = dict((plugin["name"], plugin) for plugin in after["plugins"])
    for plugin in before.get("plugins", []):
        if plugin["name"] not in plugins:
            differences.append("plugin %s: missing" % plugin["name"])
    for volume in before.get("volumes", []):
        if volume not in after["volumes"]:
            differences.append("volume %s: missing" % volume)
    if after["old_volume_digests"]:
        for name, old in sorted(after["old_volume_digests"].items()):
            new = after["volume_digests"].get(name)
            if new is None:
                differences.append("volume %s: its content is not in the new data root (%d files, %d bytes in the "
                                   "old one)" % (name, old["files"], old["bytes"]))
            elif new != old:
                differences.append("volume %s: content differs (old %d files, %d bytes, sha256 %s; new %d files, %d "
                                   "bytes, sha256 %s)" % (name, old["files"], old["bytes"], old["sha256"][:12],
                                                          new["files"], new["bytes"], new["sha256"][:12]))
    if before.get("swarm") in SWARM_NODE_STATES and after["swarm"] != before["swarm"]:
        differences.append("swarm: node state was %s, is %s" % (before["swarm"], after["swarm"]))
    return differences


def inventory_record(inventory):
    """What the record keeps of the inventory, for the checks after the switch and at confirmation."""
    return {key: inventory[key] for key in ("counted", "swarm", "swarm_manager", "networks", "plugins", "volumes",
                                            "state_dirs", "volume_digests")}


def carried(images, containers):
    """Every tagged image, and the untagged ones a container uses; dangling ones stay behind."""
    used = [c["image"] for c in containers]
    return [image for image in images if image["tags"] or image["id"] in used]


def export_needed(bytes_needed):
    return int(bytes_needed * MARGIN + SLACK)


def root_needed(bytes_needed, volume_bytes, shares_export):
    """overlay2-root: the loaded images and the copied volumes land on the data root's file system
    (the old data root stays there), and so does the export when it shares that file system."""
    return int((bytes_needed * (2 if shares_export else 1) + volume_bytes) * MARGIN + SLACK)


def _bool(variables, name):
    try:
        return boolean(variables.get(name, False), strict=True)
    except TypeError:
        raise MigratePlanError("migrate_plan: %s: %r is not a boolean" % (name, variables.get(name)))


def _lv_size(text):
    """migrate_lv_size as _sizes reads it (the thinpool module's parser), or None."""
    try:
        return _sizes.parse_size(str(text), default_unit="m", allow_percent=True, what="migrate_lv_size")
    except _sizes.SizeError:
        return None


def _lv_name_ok(name):
    try:
        _validate.lvm_name("migrate_lv_name", name, kind="lv")
        return True
    except _validate.InputError:
        return False


def _variable_refusal(v, rollback, confirm):
    export = v["migrate_export_path"]
    ok = (not (rollback and confirm) and v["migrate_target"] in TARGETS and v["migrate_fstype"] in FSTYPES
          and _lv_size(v["migrate_lv_size"]) is not None and _lv_name_ok(v["migrate_lv_name"])
          and (export == "" or (export.startswith("/") and len(export) > 1))
          and v.get("migrate_swarm", "refuse") in SWARM_CHOICES)
    if ok:
        return None
    return ("migrate role: migrate_rollback and migrate_confirm_remove_old exclude each other; migrate_target must be "
            "overlay2-lv, overlay2-root or containerd-snapshotter (got %s); migrate_fstype must be ext4 or xfs; "
            "migrate_lv_size an LVM size (10G, 512M) or N%%FREE/N%%VG; migrate_lv_name an LV name; migrate_export_path "
            "an absolute path; migrate_swarm refuse or carry. Got rollback=%s, confirm=%s, fstype=%s, lv_size=%s, "
            "lv_name=%s, export_path=%s, swarm=%s."
            % (v["migrate_target"], rollback, confirm, v["migrate_fstype"], v["migrate_lv_size"],
               v["migrate_lv_name"], export, v.get("migrate_swarm", "refuse")))


def _text(value, default):
    """Jinja's `default(x, true)`: None and '' give the default."""
    return default if value in (None, "") else value


def plan_migration(reads, variables, epoch):
    """Every decision of the migrate role's probe; see the module's docstring."""
    v = dict(variables)
    for name in ("migrate_pool_vg", "migrate_pool_name", "migrate_export_path"):
        v[name] = v.get(name) or ""
    v["migrate_lv_size"] = str(v.get("migrate_lv_size", ""))
    probe = reads["probe"]
    host = read_host(reads["host"])
    measured = reads.get("measured")
    docker = read_docker(measured)
    # A resumed run reads no inventory (its record keeps the first one): its skipped read reaches
    # the filter as None or as an empty string, depending on how the task templated it.
    inventory = read_inventory(reads["inventory"]) if reads.get("inventory") else None
    hostname = v["inventory_hostname"]
    state_file = v["state_file"]
    migrate_target = v["migrate_target"]
    rollback = _bool(v, "migrate_rollback")
    confirm = _bool(v, "migrate_confirm_remove_old")
    current = probe.get("current") or {}
    driver = current.get("driver")
    image_store = current.get("image_store")
    pool_dm = _text(current.get("pool"), "")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))
    refusals = []

    # The variables, then what the record allows.
    refusal = _variable_refusal(v, rollback, confirm)
    if refusal:
        refusals.append(refusal)

    data_root = _strip_slashes(probe["data_root"])
    record = host["record"]
    phase = record.get("phase", "none")
    docker_active = bool((probe.get("service") or {}).get("active") or (probe.get("socket") or {}).get("active"))
    # A recorded migration (unfinished, finished or confirmed) keeps its target; a new one takes migrate_target.
    target = record.get("target", "overlay2-lv") if phase in ("switching", "done", "confirmed") else migrate_target
    # overlay2-lv and overlay2-root leave the legacy devicemapper graph driver (overlay2-root also
    # loop-lvm); containerd-snapshotter leaves any graph driver.
    if migrate_target != SNAPSHOTTER:
        on_source = driver == "devicemapper"
    else:
        on_source = driver is not None and image_store != "containerd"
    if rollback:
        action = "rollback" if phase in ("switching", "done") else "none"
    elif confirm:
        action = "confirm" if phase == "done" else "none"
    elif phase == "switching" or (phase in ("none", "rolled_back") and on_source):
        action = "migrate"
    else:
        action = "none"
    resume = phase == "switching"

    if not ((not rollback or phase != "confirmed")
            and (not confirm or phase in ("done", "confirmed"))
            # Both overlay2 targets put the moved-aside data root back.
            and (action != "rollback" or phase != "done" or target == SNAPSHOTTER
                 or record.get("backup") in host["backups"])
            and (action != "migrate" or not resume or target == migrate_target)
            # The old store is in the data root: never removed while Docker runs on it again.
            and (action != "confirm" or target != SNAPSHOTTER or image_store == "containerd")):
        refusals.append(
            "migrate role: on %s the migration to %s is %s (%s). migrate_rollback needs the old storage (%s, and the "
            "pool for overlay2-lv), which a confirmed migration removed; migrate_confirm_remove_old needs a finished "
            "migration, and after a move to the containerd image store Docker running on it (it runs %s, image store "
            "%s); an unfinished migration is resumed only with its own target (migrate_target is %s; roll it back "
            "with migrate_rollback first). Nothing was changed."
            % (hostname, target, phase, state_file, record.get("backup", "none recorded"), driver,
               _text(image_store, "none"), migrate_target))

    # The LVs: the VG of the pool Docker runs on, and whether the new LV exists.
    lvm = host["lvm"]
    pool_lvs = [lv for lv in sorted(lvm.lvs.values(), key=lambda lv: (lv.vg, lv.name))
                if pool_dm and dm_name(lv.vg, lv.name) == pool_dm]
    read_vg = v["migrate_pool_vg"] or (pool_lvs[0].vg if pool_lvs and driver == "devicemapper" else "")
    vg = v["migrate_pool_vg"] or read_vg or (record.get("lv") or {}).get("vg", "")
    if v["migrate_pool_name"]:
        pool_lv = [vg, v["migrate_pool_name"]]
    else:
        pool_lv = [pool_lvs[0].vg, pool_lvs[0].name] if pool_lvs else []
    lv_exists = migrate_target == "overlay2-lv" and lvm.lv(vg, v["migrate_lv_name"]) is not None

    images = carried(docker["images"], docker["containers"])
    carried_ids = [image["id"] for image in images]
    bytes_needed = sum(image["bytes"] for image in images)
    daemon_json = probe.get("daemon_json")
    export_path = _strip_slashes(v["migrate_export_path"])
    if resume:
        record_new = record
    else:
        if migrate_target != SNAPSHOTTER:
            pool = {"vg": pool_lv[0] if pool_lv else "", "name": pool_lv[1] if pool_lv else "", "dm_name": pool_dm}
        else:
            pool = {"vg": v.get("devicemapper_vg", "docker"), "name": v.get("devicemapper_pool", "thinpool"),
                    "dm_name": ""}
        lv = {}
        if migrate_target == "overlay2-lv":
            lv = {"vg": vg, "name": v["migrate_lv_name"], "fstype": v["migrate_fstype"], "size": v["migrate_lv_size"],
                  "device": "/dev/%s/%s" % (vg, v["migrate_lv_name"])}
        record_new = {
            "phase": "switching",
            "target": migrate_target,
            "source_driver": driver,
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)),
            "data_root": data_root,
            "backup": "%s.migrate-%s" % (data_root, stamp),
            "export_path": export_path,
            "pool": pool,
            "lv": lv,
            "docker_config_existed": daemon_json is not None,
            "docker_config_storage": {"storage-driver": (daemon_json or {}).get("storage-driver"),
                                      "storage-opts": (daemon_json or {}).get("storage-opts", [])},
            "previous_stash": ("%s/.migrate-previous-%s" % (data_root, stamp)) if phase == "rolled_back" else "",
            "images": images,
            "left_behind_images": [image for image in docker["images"] if image["id"] not in carried_ids],
            "containers": docker["containers"],
            "volumes": docker["volumes"],
            "volume_bytes": docker["volume_bytes"],
            "inventory": inventory_record(inventory) if inventory else None,
            "started_epoch": int(epoch),
        }

    new_migration = action == "migrate" and not resume
    # Docker's images are read (measure) only for a new migration with Docker running; the refusals
    # of the migration come once they are read, or at once when Docker is not running.
    measure = new_migration and docker_active and measured is None
    if new_migration and not measure:
        refusals.extend(_migration_refusals(v, probe, host, record_new, data_root, docker_active, lv_exists, phase,
                                            target, bytes_needed))
        others = [line for line in host["fstab"] if line.strip() != fstab_line(record_new)]
        if target == "overlay2-lv" and others:
            refusals.append(
                "migrate role: /etc/fstab on %s already has a line for the data root %s: %s. The migration mounts "
                "the new LV there with its own line (%s) and removes only that line on rollback; it does not replace "
                "or remove another, commented out or not. Nothing was changed. Remove or move that line first."
                % (hostname, data_root, " | ".join(line.strip() for line in others), fstab_line(record_new)))
        if docker_active and not refusals:
            if inventory is None:
                raise MigratePlanError("migrate_plan: a migration needs the inventory of the store (files/inventory.sh)")
            refusals.extend(inventory_refusals(inventory, hostname, v.get("migrate_swarm", "refuse")))

    # Once saved: each image with its archive, its checksum and its ID in the store Docker runs on after
    # the switch (the containerd image store names an image by its manifest's digest).
    saved = reads.get("saved")
    if saved is not None and not resume:
        saved = saved_lines(saved)
        record_new = dict(record_new, images=with_archives(record_new["images"], saved))
    manifest = record_new.get("images") or []
    store_ids = [image.get("store_id") or image["id"] for image in manifest]
    present = reads.get("present")
    # After the switch, and before the confirmation removes the old store: the store Docker runs on
    # now, compared with the inventory taken before the first change.
    after = reads.get("after")
    compared = record_new if action == "migrate" else record
    differences = (compare_inventory(compared.get("inventory"), read_inventory(after),
                                     manifest if action == "migrate" else compared.get("images") or [])
                   if after is not None else [])
    if action == "confirm" and after is not None and differences:
        refusals.append(
            "migrate role: on %s the store Docker runs on now is not what the migration carried, so the old storage "
            "(%s) is not removed; it may still hold the only copy. It differs from the inventory taken before the "
            "migration (%s): %s. Nothing was changed. Put back what is missing, or roll back with migrate_rollback."
            % (hostname, record.get("backup") if target != SNAPSHOTTER else "the old %s store in %s"
               % (record.get("source_driver"), record.get("data_root")), state_file, "; ".join(differences)))
    # The LV is mounted at the data root: an earlier run got past the move (overlay2-lv only).
    mounted = target == "overlay2-lv" and data_root in host["mount_points"]
    plan = dict(
        host=hostname, migrate_target=migrate_target, epoch=int(epoch), action=action, phase=phase, target=target, resume=resume, data_root=data_root,
        docker_active=docker_active, measure=measure,
        record=record, record_new=record_new, lv_exists=lv_exists, bytes_needed=bytes_needed,
        mounted=mounted,
        # The confirmation reads the store again (files/inventory.sh) before it removes anything.
        read_before_confirm=action == "confirm" and after is None and not refusals,
        differences=differences,
        # files/inventory.sh after the switch: an overlay2 switch moved the volumes, whose content is
        # compared with the moved-aside old data root's (unchanged since Docker stopped).
        fstab_line=fstab_line(record_new) if target == "overlay2-lv" else "",
        inventory_after_args=[data_root, data_root + "/volumes"]
        + ([record_new.get("backup", "") + "/volumes"] if target != SNAPSHOTTER else []),
        refusals=refusals, msg=refusals[0] if refusals else "",
        containers_inspected=docker["inspected"],
        save_args=[record_new.get("export_path", ""), "oci" if target == SNAPSHOTTER else "-"]
        + [" ".join(["%s|%d" % (image["id"], image["bytes"])] + image["tags"]) for image in manifest],
        # One run of the save, and of the load, per image: a line of progress each ("12/300 app:1.4 210 MB").
        save_items=[{"args": [record_new.get("export_path", ""), "oci" if target == SNAPSHOTTER else "-",
                              " ".join(["%s|%d" % (image["id"], image["bytes"])] + image["tags"])],
                     "label": progress_label(number, len(manifest), image)}
                    for number, image in enumerate(manifest, 1)],
        load_items=[{"args": [record_new.get("export_path", ""),
                              "%s|%s|%s" % (_hex(image["id"]), image.get("sha256", ""), _hex(store))],
                     "label": progress_label(number, len(manifest), image)}
                    for number, (image, store) in enumerate(zip(manifest, store_ids), 1)],
        store_ids=store_ids,
        load_args=[record_new.get("export_path", "")]
        + ["%s|%s|%s" % (_hex(image["id"]), image.get("sha256", ""), _hex(store))
           for image, store in zip(manifest, store_ids)],
        missing_images=missing_images(manifest, present) if present is not None else [],
        units=(["%s.socket" % v["migrate_docker_service"]] if (probe.get("socket") or {}).get("loaded") else [])
        + ["%s.service" % v["migrate_docker_service"]],
    )
    plan["text"] = plan_text(plan, v, probe)
    return plan


def _migration_refusals(v, probe, host, record_new, data_root, docker_active, lv_exists, phase, target, bytes_needed):
    refusals = []
    migrate_target = v["migrate_target"]
    lv_target = migrate_target == "overlay2-lv"
    snapshotter = migrate_target == SNAPSHOTTER
    hostname = v["inventory_hostname"]
    version = probe.get("dockerd_version")
    dockerd_25 = version is not None and LooseVersion(str(version)) >= LooseVersion("25.0")
    devices = v.get("devicemapper_devices") or []
    export_path = record_new["export_path"]
    driver = (probe.get("current") or {}).get("driver")
    if not (docker_active and export_path != "" and export_path != data_root
            and not export_path.startswith(data_root + "/")
            and (not snapshotter or dockerd_25) and (not snapshotter or len(devices) > 0)
            and (snapshotter or not probe.get("data_root_is_mount"))
            and (not lv_target or record_new["lv"]["vg"] != "")
            and (not lv_target or record_new["pool"]["name"] != "")
            and (not lv_exists or phase == "rolled_back")):
        head = "migrate role: cannot move %s off %s. Nothing was changed. " % (hostname, driver)
        if snapshotter:
            refusals.append(
                head + " To the containerd image store it needs Docker running (to save its images; service active: "
                "%s), migrate_export_path set and outside the data root %s (got '%s'), a dockerd of 25 or newer (found "
                "%s; older ones keep the devicemapper graph driver, use migrate_target overlay2-lv to leave it) and the "
                "devicemapper role's devicemapper_devices for the pool (got %s). "
                % (docker_active, data_root, export_path, _text(version, "none"), devices))
        else:
            lv_part = ""
            if lv_target:
                lv_part = (", the pool's VG and LV (found '%s/%s' for pool '%s'; set migrate_pool_vg and "
                           "migrate_pool_name), and no LV %s/%s yet (exists: %s; choose another migrate_lv_name)"
                           % (record_new["lv"]["vg"], record_new["pool"]["name"], record_new["pool"]["dm_name"],
                              record_new["lv"]["vg"], v["migrate_lv_name"], lv_exists))
            refusals.append(
                head + " It needs Docker running (to save its images; service active: %s), migrate_export_path set and "
                "outside the data root %s (got '%s'), a data root that is not already a mount point (it is: %s)%s. "
                % (docker_active, data_root, export_path, probe.get("data_root_is_mount"), lv_part))
        return refusals

    # Room: the export path, the VG for a new LV, the data root's file system for overlay2-root.
    needed = export_needed(bytes_needed)
    lv = record_new["lv"]
    vg_free = None
    size = None
    if target == "overlay2-lv":
        group = host["lvm"].vgs.get(lv["vg"])
        vg_free = group.free if group else 0
        size = _lv_size(lv["size"])
    root = root_needed(bytes_needed, record_new["volume_bytes"], host["root_shares_export"])
    if not (host["export_avail"] >= needed
            and (target != "overlay2-lv" or lv_exists or size.is_percent or vg_free >= size.bytes)
            and (target != "overlay2-root" or host["root_avail"] >= root)):
        msg = ("migrate role: not enough room on %s; Docker was not stopped and nothing was changed. The export of %d "
               "images to %s needs %d bytes (%d plus 5%% and 64 MiB), its file system has %d free. "
               % (hostname, len(record_new["images"]), export_path, needed, bytes_needed, host["export_avail"]))
        if target == "overlay2-lv":
            msg += (" The new LV of %s needs %s bytes in VG %s, which has %d free. "
                    % (lv["size"], "?" if size.is_percent else size.bytes, lv["vg"], vg_free))
        elif target == "overlay2-root":
            msg += (" overlay2 on the file system of %s, beside the old data root kept there, needs %d bytes (the "
                    "images, %d bytes of named volumes copied%s, plus 5%% and 64 MiB), it has %d free. "
                    % (data_root, root, record_new["volume_bytes"],
                       ", and the export on the same file system" if host["root_shares_export"] else "",
                       host["root_avail"]))
        refusals.append(msg)
    return refusals


def _hex(image_id):
    return image_id[len("sha256:"):] if image_id.startswith("sha256:") else image_id


def progress_label(number, total, image):
    """One image's line of progress: its number, its first tag (or short ID), its size."""
    name = image["tags"][0] if image.get("tags") else _hex(image["id"])[:12]
    return "%d/%d %s %.1f MB" % (number, total, name, image.get("bytes", 0) / 1e6)


def saved_lines(saved):
    """What files/images_save.sh printed: its lines, or the results of its runs (one per image; a
    run skipped in check mode printed nothing)."""
    lines = []
    for item in saved or []:
        if isinstance(item, dict):
            lines.extend(item.get("stdout_lines") or [])
        else:
            lines.append(item)
    return lines


def with_archives(images, lines):
    """The images with what files/images_save.sh printed for each ("hex|sha256|bytes|saved or kept|store hex")."""
    archives = {}
    for line in lines:
        if not line.strip():
            continue
        parts = line.split("|")
        if len(parts) != 5:
            raise MigratePlanError("migrate_plan: a line of the save is not 'hex|sha256|bytes|how|store': %r" % line)
        archives["sha256:" + parts[0]] = {"file": parts[0] + ".tar", "sha256": parts[1], "archive_bytes": int(parts[2]),
                                          "store_id": "sha256:" + parts[4]}
    return [dict(image, **archives.get(image["id"], {})) for image in images]


def missing_images(manifest, present_lines):
    """The images of the manifest Docker lacks, or has without one of their tags ("ID tag,tag"), from
    files/images_read.sh's "ID|tags" lines."""
    present = {}
    for line in present_lines:
        if line.strip():
            image_id, _sep, tags = line.partition("|")
            present.setdefault(image_id, tags.split())
    missing = []
    for image in manifest:
        found = present.get(image.get("store_id", image["id"]))
        if found is None or [tag for tag in image["tags"] if tag not in found]:
            missing.append("%s %s" % (image["id"], ",".join(image["tags"])))
    return missing


def plan_text(plan, v, probe):
    """The plan in words, for the run's output."""
    action, target, r, rec = plan["action"], plan["target"], plan["record_new"], plan["record"]
    host = v["inventory_hostname"]
    if action == "migrate":
        resume = ("resume the migration started %s: " % r.get("since")) if plan["resume"] else ""
        images = r.get("images", [])
        head = "%s: %ssave %d images (%d bytes) to %s, " % (host, resume, len(images),
                                                            sum(image["bytes"] for image in images), r["export_path"])
        if target == SNAPSHOTTER:
            return (head + "then run the devicemapper role (pool %s/%s, containerd's devmapper snapshotter, daemon.json "
                    "on the containerd image store, containerd and Docker restarted), load and verify the images. Named "
                    "volumes stay in %s; %d containers are listed, not recreated. The old %s store stays in %s."
                    % (r["pool"]["vg"], r["pool"]["name"], plan["data_root"], len(r.get("containers", [])),
                       r["source_driver"], plan["data_root"]))
        if target == "overlay2-lv":
            where = "mount a %s %s LV %s/%s there (fstab)," % (r["lv"]["size"], r["lv"]["fstype"], r["lv"]["vg"],
                                                               r["lv"]["name"])
        else:
            where = "make an empty %s on the same file system," % plan["data_root"]
        pool = r.get("pool") or {}
        kept = ("The pool %s/%s and the" % (pool["vg"], pool["name"])) if pool.get("name") else "The"
        return (head + "stop Docker, move %s aside to %s, %s copy %d named volumes, set storage-driver overlay2 in "
                "daemon.json, start Docker, load and verify the images. %d containers are listed, not recreated. "
                "%s old data root%s are kept."
                % (plan["data_root"], r["backup"], where, len(r.get("volumes", [])), len(r.get("containers", [])),
                   kept, "" if pool.get("name") else " (with its loop files)"))
    pool = rec.get("pool") or {}
    if action == "rollback" and target == SNAPSHOTTER:
        return ("%s: put daemon.json back and Docker on its old %s store in %s; the pool %s/%s and containerd's images "
                "are kept." % (host, rec.get("source_driver"), rec.get("data_root"), pool.get("vg"), pool.get("name")))
    if action == "confirm" and target == SNAPSHOTTER:
        return ("%s: remove the old %s store (%s/%s and %s/image/%s); the pool, containerd's images, the volumes and "
                "the exports stay." % (host, rec.get("source_driver"), rec.get("data_root"), rec.get("source_driver"),
                                       rec.get("data_root"), rec.get("source_driver")))
    if action == "rollback":
        kept = (("the LV %s is unmounted and kept." % (rec.get("lv") or {}).get("device")) if target == "overlay2-lv"
                else "the overlay2 data root is moved beside it, kept.")
        return ("%s: put Docker back on devicemapper%s with the data root %s; %s"
                % (host, (" (pool %s/%s)" % (pool.get("vg"), pool.get("name"))) if pool.get("name") else "",
                   rec.get("backup"), kept))
    if action == "confirm":
        return ("%s: remove %sthe old data root %s; %sthe images and the exports stay."
                % (host, ("the old pool %s/%s, its activation drop-in and " % (pool.get("vg"), pool.get("name")))
                   if pool.get("name") else "", rec.get("backup"),
                   "the VG, the new LV, " if target == "overlay2-lv" else ""))
    return "%s: nothing to do (migration %s, Docker's storage driver %s)." % (
        host, plan["phase"], ((probe.get("current") or {}).get("driver")))


def report(plan, record_new, check_mode, epoch):
    """migrate_report: what this run did (or would do) on the host, from the record or this run's plan."""
    action, phase = plan["action"], plan["phase"]
    r = (record_new if action == "migrate" else plan["record"]) or {}
    target = r.get("target", "overlay2-lv") if r else plan["migrate_target"]
    pool = r.get("pool") or {}
    left = []
    if r and action != "confirm" and phase != "confirmed":
        if target != SNAPSHOTTER:
            left.extend((["pool %s/%s" % (pool.get("vg"), pool.get("name"))] if pool.get("name") else [])
                        + ["old data root %s" % r.get("backup")])
        else:
            left.append("old %s store in %s" % (r.get("source_driver"), r.get("data_root")))
    if r and (action == "rollback" or (action == "none" and phase == "rolled_back")) and target != "overlay2-root":
        if target == "overlay2-lv":
            left.append("LV %s (unmounted)" % (r.get("lv") or {}).get("device"))
        else:
            left.append("pool %s/%s and the images in containerd" % (pool.get("vg"), pool.get("name")))
    if r:
        left.append("archives and manifest in %s" % r.get("export_path"))
    if check_mode and action != "none":
        state = "would " + action
    else:
        state = {"rollback": "rolled_back", "confirm": "confirmed", "migrate": "done"}.get(action, phase)
    if action == "migrate":
        seconds = int(epoch) - int(r.get("started_epoch", epoch))
    else:
        seconds = int(r.get("finished_epoch", 0)) - int(r.get("started_epoch", 0))
    containers = r.get("containers") or []
    return {
        "host": plan["host"],
        "action": action,
        "target": target,
        "check_mode": bool(check_mode),
        "state": state,
        "images_carried": len(r.get("images") or []),
        "bytes_exported": sum(image.get("archive_bytes", 0) for image in r.get("images") or []),
        "export_path": r.get("export_path", ""),
        "seconds": seconds,
        "containers_not_recreated": [c["name"] for c in containers],
        "containers_whose_image_was_gone": [c["name"] for c in containers
                                            if "image_present" in c and not c["image_present"]],
        "images_left_behind": [image["id"] for image in r.get("left_behind_images") or []],
        "left_behind": left,
    }


def storage_opts_dict(items):
    """daemon.json's "key=value" storage-opts as docker_daemon_config's dict; a key given twice
    (dm.mkfsarg) keeps every value, in order."""
    opts = {}
    for item in items or []:
        key, _sep, value = item.partition("=")
        key = key.strip()
        if key in opts:
            opts[key] = (opts[key] if isinstance(opts[key], list) else [opts[key]]) + [value]
        else:
            opts[key] = value
    return opts


def plan_rollback(record, daemon_json, failed):
    """How a rollback puts daemon.json back. ``record`` is what is rolled back (this run's plan when
    it failed, else the record on the host), ``daemon_json`` the file as read before this run.

    The whole file comes back when it is as the migration left it (always, when rolling back a
    failed run); when someone changed it since, only its storage keys do (``keys``: the options
    of docker_daemon_config, those to leave out absent), and their changes stay.
    """
    target = record.get("target", "overlay2-lv")
    snapshotter = target == SNAPSHOTTER
    whole = bool(failed) or "docker_config_written" not in record or daemon_json == record["docker_config_written"]
    storage = record.get("docker_config_storage") or {}
    # Off the containerd image store, daemon.json must name a graph driver: the one Docker ran on.
    old_driver = storage.get("storage-driver") or (record.get("source_driver") if snapshotter else "")
    keys = {"state": "present" if old_driver else "absent"}
    if old_driver:
        keys["storage_driver"] = old_driver
        keys["storage_opts"] = storage_opts_dict(storage.get("storage-opts"))
    if snapshotter:
        keys["containerd_snapshotter"] = False
    return {"target": target, "lv": target == "overlay2-lv", "snapshotter": snapshotter, "whole_config": whole,
            "keys": keys, "fstab_line": fstab_line(record) if target == "overlay2-lv" else ""}


def fstab_line(record):
    """The role's own /etc/fstab line for the new LV: the only line it writes or removes."""
    lv = record.get("lv") or {}
    return "%s %s %s defaults 0 2" % (lv.get("device"), record.get("data_root"), lv.get("fstype"))
