"""The migrate role's plan (plugins/plugin_utils/_migrate_plan.py) on real reads.

- docker_storage_info's result: the module run on a case of docker_storage_info_cases.yml, whose
  commands' output was recorded in the lab VM (devicemapper_reads.storage_info).
- The host read: the role's own files/read.sh run here with /bin/sh, on directories made under
  tmp_path, with a stand-in `lvm` that prints what `lvm lvs` and `lvm vgs` printed in the lab
  (tests/unit/fixtures/thinpool: s0 a VG-less host, s4 the pool docker/thinpool, s5 also an LV
  docker/vol), parsed by run_script's own parser.
- Docker's images: files/measure.sh run with a stand-in `docker` that prints what measure.sh's
  docker commands printed in the lab (tests/unit/fixtures/migrate_docker: no images, or one
  image with two tags); the room decisions are tested on the functions that take the byte counts.
Each case fails when the decision it names is wrong.
"""

import hashlib
import json
import os
import shlex
import subprocess

import pytest
from case_runner import load_fixture
from devicemapper_reads import recorded_commands, storage_info

from ansible_collections.container_storage.devicemapper.plugins.module_utils._script import parse_sections
from ansible_collections.container_storage.devicemapper.plugins.plugin_utils import _migrate_plan
from ansible_collections.container_storage.devicemapper.plugins.plugin_utils._migrate_plan import (
    MigratePlanError, plan_migration, plan_rollback, report, root_needed, storage_opts_dict,
)

HERE = os.path.dirname(os.path.abspath(__file__))
MIGRATE_FILES = os.path.join(HERE, "..", "..", "..", "roles", "migrate", "files")
EPOCH = 1764950400  # 2025-12-05T16:00:00Z
STATE_FILE = "/var/lib/container-storage-migrate/state.json"

# The cases of docker_storage_info_cases.yml the hosts are read with.
POOL_STOPPED = "stopped_docker_reads_the_pool_from_daemon_json"  # devicemapper on docker-thinpool (daemon.json)
LOOP_RUNNING = "running_loop_lvm_is_flagged_as_loop"  # devicemapper on loop files, running
DOCKER_26 = "docker_26_on_its_default_graph_driver"  # Docker 26 on overlay2, running
RUNNING = "running_overlay2_is_read_from_docker_info"  # its service and socket: running


def probe(case, tmp_path, monkeypatch, running=True):
    """docker_storage_info's result for the case; running: the service and socket as recorded running
    (the pool case was recorded with Docker stopped)."""
    result = storage_info(case, tmp_path, monkeypatch, flags=False)
    if running and not result["service"]["active"]:
        recorded = storage_info(RUNNING, tmp_path, monkeypatch, flags=False)
        result = dict(result, service=recorded["service"], socket=recorded["socket"])
    return result


def lvm_stand_in(tmp_path, state):
    """An lvm that prints the lab's `lvm lvs`/`lvm vgs` JSON of a thinpool fixture state (s0, s4, s5)."""
    lvs = {"s5": "s5_lvs_closed"}.get(state, state + "_lvs")
    body = ['case "$1" in']
    for command, fixture in (("lvs", lvs), ("vgs", state + "_vgs")):
        out = tmp_path / ("lvm_%s_%s" % (command, state))
        out.write_text(load_fixture("thinpool/" + fixture)["out"])
        body.append("  %s) cat '%s' ;;" % (command, out))
    body += ['  *) echo "unexpected lvm $*" >&2; exit 2 ;;', "esac"]
    return "\n".join(body)


def run_migrate_script(name, args, tmp_path, stand_ins):

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for command, body in stand_ins.items():
        (bin_dir / command).write_text("#!/bin/sh\n" + body + "\n")
        (bin_dir / command).chmod(0o755)
    env = dict(os.environ, PATH="%s:%s" % (bin_dir, os.environ["PATH"]))
    ran = subprocess.run(["/bin/sh", os.path.join(MIGRATE_FILES, name)] + [str(arg) for arg in args],
                         capture_output=True, text=True, timeout=60, check=False, env=env)
    assert ran.returncode == 0, ran.stderr
    return parse_sections(ran.stdout)


def host_read(tmp_path, data_root, lvm="s4", state=None, backups=(), export=None):
    os.makedirs(str(data_root), exist_ok=True)
    state_file = tmp_path / "state.json"
    if state is not None:
        state_file.write_text(json.dumps(state, indent=4))  # as the role writes it: to_nice_json, no final line break
    elif state_file.exists():
        state_file.unlink()
    for backup in backups:
        os.makedirs(backup, exist_ok=True)
    export = str(tmp_path / "export") if export is None else export
    return run_migrate_script("read.sh", [state_file, data_root, export], tmp_path,
                              {"lvm": lvm_stand_in(tmp_path, lvm)})


# measure.sh's docker commands, recorded in the Debian 12 lab VM with Docker 20.10
# (tests/unit/fixtures/migrate_docker/recipe.yml): Docker with nothing.
NO_IMAGES = {"migrate_docker/image_ls_none": None, "migrate_docker/ps_none": None,
             "migrate_docker/volume_ls_none": None}


def measured(tmp_path, data_root):
    return run_migrate_script("measure.sh", [data_root], tmp_path, {"docker": recorded_commands(tmp_path, NO_IMAGES)})


def variables(tmp_path, **overrides):
    given = {"inventory_hostname": "lab1", "state_file": STATE_FILE, "migrate_target": "overlay2-lv",
             "migrate_rollback": False, "migrate_confirm_remove_old": False, "migrate_fstype": "xfs",
             "migrate_lv_size": "100M", "migrate_lv_name": "dockerdata", "migrate_export_path": str(tmp_path / "export"),
             "migrate_pool_vg": "", "migrate_pool_name": "", "migrate_docker_service": "docker",
             "devicemapper_vg": "docker", "devicemapper_pool": "thinpool", "devicemapper_devices": []}
    given.update(overrides)
    return given


# inventory.sh's docker commands, recorded in the Debian 12 lab VM with Docker 20.10
# (tests/unit/fixtures/migrate_inventory/recipe.yml).
INVENTORY = "migrate_inventory/"
INVENTORY_NONE = ["info_none", "image_ls_all_none", "ps_none", "network_ls_none", "plugin_ls_none", "volume_ls_none"]


def _listed_args(fixture, listing):
    """The arguments of an inspect recorded as `docker ... $(listing)`: its own, then what the listing printed."""
    command = load_fixture(INVENTORY + fixture)["command"]
    ids = sorted(set(load_fixture(INVENTORY + listing)["out"].split()))
    return shlex.split(command.split(" $(")[0])[1:] + ids


def inventory_docker(tmp_path, kind):
    """A docker answering inventory.sh's commands as recorded: "none" (nothing), "one" (an image with two
    tags, the network labnet, the volume data, the container app), "swarm" (that host a swarm manager), or
    "miscounted" (docker info's counts of "one" with the listings of "none": a listing that missed them)."""
    if kind == "none":
        answers = dict((INVENTORY + name, None) for name in INVENTORY_NONE)
    elif kind == "miscounted":
        answers = dict((INVENTORY + name, None) for name in ["info_one"] + INVENTORY_NONE[1:])
    else:
        answers = {INVENTORY + ("info_swarm_manager" if kind == "swarm" else "info_one"): None,
                   INVENTORY + "image_ls_all_one": None,
                   INVENTORY + "image_inspect_one": _listed_args("image_inspect_one", "image_ls_all_one"),
                   INVENTORY + "ps_one": None,
                   INVENTORY + "network_ls_one": None,
                   INVENTORY + "network_inspect_one": _listed_args("network_inspect_one", "network_ls_one"),
                   INVENTORY + "plugin_ls_none": None,
                   INVENTORY + "volume_ls_one": None}
    return recorded_commands(tmp_path, answers)


def take_inventory(tmp_path, kind, data_root, *volumes):
    """files/inventory.sh's sections, its docker answering as recorded for ``kind``."""
    return run_migrate_script("inventory.sh", [data_root] + list(volumes), tmp_path,
                              {"docker": inventory_docker(tmp_path, kind)})


def plan(tmp_path, monkeypatch, case=POOL_STOPPED, lvm="s4", state=None, backups=(), running=True, read_docker=True,
         export=None, inventory="none", after=None, **overrides):
    """The plan after both reads, as the role makes it (measure and the inventory only when the first
    plan asks); ``after``: inventory.sh's sections read after the switch or before a confirmation."""
    info = probe(case, tmp_path, monkeypatch, running=running)
    given = variables(tmp_path, **overrides)
    if export is not None:
        given["migrate_export_path"] = export
    reads = {"probe": info, "host": host_read(tmp_path, info["data_root"], lvm, state, backups, given["migrate_export_path"])}
    if after is not None:
        reads["after"] = after
    first = plan_migration(reads, given, EPOCH)
    if first["measure"] and read_docker:
        assert not first["refusals"], first["refusals"]
        reads["measured"] = measured(tmp_path, info["data_root"])
        reads["inventory"] = take_inventory(tmp_path, inventory, info["data_root"], info["data_root"] + "/volumes")
        return plan_migration(reads, given, first["epoch"])
    return first


# ---------------------------------------------------------------- what the run does

def test_a_host_on_the_pool_migrates_to_an_lv_of_the_pools_vg(tmp_path, monkeypatch):
    first = plan(tmp_path, monkeypatch, read_docker=False)
    assert (first["action"], first["resume"], first["measure"]) == ("migrate", False, True)
    done = plan(tmp_path, monkeypatch)
    assert done["refusals"] == [] and done["msg"] == "" and not done["measure"]
    record = done["record_new"]
    # The pool Docker runs on (dm name docker-thinpool) found among the recorded LVs.
    assert record["pool"] == {"vg": "docker", "name": "thinpool", "dm_name": "docker-thinpool"}
    assert record["lv"] == {"vg": "docker", "name": "dockerdata", "fstype": "xfs", "size": "100M",
                            "device": "/dev/docker/dockerdata"}
    assert record["backup"] == done["data_root"] + ".migrate-20251205T160000Z"
    assert record["since"] == "2025-12-05T16:00:00Z" and record["started_epoch"] == EPOCH
    assert record["docker_config_storage"]["storage-driver"] == "devicemapper"
    assert done["units"] == ["docker.socket", "docker.service"]
    assert done["text"].startswith("lab1: save 0 images (0 bytes) to %s, stop Docker, move" % (tmp_path / "export"))


def test_a_host_without_the_pool_among_its_lvs_is_refused_for_overlay2_lv(tmp_path, monkeypatch):
    refused = plan(tmp_path, monkeypatch, lvm="s0")
    assert refused["record_new"]["pool"]["name"] == "" and refused["record_new"]["lv"]["vg"] == ""
    assert refused["msg"].startswith("migrate role: cannot move lab1 off devicemapper. Nothing was changed.  It needs")
    assert "found '/' for pool 'docker-thinpool'; set migrate_pool_vg and migrate_pool_name" in refused["msg"]
    # Named by the user, the pool needs no LV report (s0 has no VG: then no room for the LV).
    named = plan(tmp_path, monkeypatch, lvm="s0", migrate_pool_vg="docker", migrate_pool_name="thinpool")
    assert named["record_new"]["pool"]["name"] == "thinpool"
    assert named["msg"].startswith("migrate role: not enough room on lab1")
    assert "needs 104857600 bytes in VG docker, which has 0 free." in named["msg"]


def test_an_existing_lv_of_that_name_is_refused_unless_a_rolled_back_migration_made_it(tmp_path, monkeypatch):
    refused = plan(tmp_path, monkeypatch, lvm="s5", migrate_lv_name="vol")
    assert refused["lv_exists"] and "no LV docker/vol yet (exists: True; choose another migrate_lv_name)" in refused["msg"]
    again = plan(tmp_path, monkeypatch, lvm="s5", migrate_lv_name="vol", state={"phase": "rolled_back"})
    assert again["action"] == "migrate" and again["refusals"] == []
    assert again["record_new"]["previous_stash"] == again["data_root"] + "/.migrate-previous-20251205T160000Z"


def test_overlay2_root_leaves_loop_lvm_and_refuses_a_data_root_that_is_a_mount_point(tmp_path, monkeypatch):
    loop = plan(tmp_path, monkeypatch, case=LOOP_RUNNING, lvm="s0", migrate_target="overlay2-root")
    assert loop["action"] == "migrate" and loop["refusals"] == [], loop["refusals"]
    assert loop["record_new"]["pool"]["name"] == "" and loop["record_new"]["lv"] == {}
    assert "old data root (with its loop files) are kept" in loop["text"]
    info = probe(LOOP_RUNNING, tmp_path, monkeypatch)
    reads = {"probe": dict(info, data_root_is_mount=True), "host": host_read(tmp_path, info["data_root"], "s0"),
             "measured": measured(tmp_path, info["data_root"])}
    refused = plan_migration(reads, variables(tmp_path, migrate_target="overlay2-root"), EPOCH)
    assert "a data root that is not already a mount point (it is: True)" in refused["msg"]


def test_docker_not_running_is_refused_before_its_images_are_read(tmp_path, monkeypatch):
    stopped = plan(tmp_path, monkeypatch, running=False, read_docker=False)
    assert stopped["action"] == "migrate" and not stopped["measure"]
    assert "(to save its images; service active: False)" in stopped["msg"]


@pytest.mark.parametrize("export", ["", "DATA", "DATA/export"])
def test_the_export_path_must_be_set_and_outside_the_data_root(tmp_path, monkeypatch, export):
    info = probe(POOL_STOPPED, tmp_path, monkeypatch)
    export = export.replace("DATA", info["data_root"])
    refused = plan(tmp_path, monkeypatch, export=export)
    assert "migrate_export_path set and outside the data root %s (got '%s')" % (refused["data_root"], export) \
        in refused["msg"]


def test_the_containerd_image_store_needs_dockerd_25_and_the_pools_devices(tmp_path, monkeypatch):
    ok = plan(tmp_path, monkeypatch, case=DOCKER_26, migrate_target="containerd-snapshotter",
              devicemapper_devices=["/dev/vdb"])
    assert ok["action"] == "migrate" and ok["refusals"] == [], ok["refusals"]
    assert ok["record_new"]["pool"] == {"vg": "docker", "name": "thinpool", "dm_name": ""}
    assert ok["save_args"][1] == "oci"
    no_devices = plan(tmp_path, monkeypatch, case=DOCKER_26, migrate_target="containerd-snapshotter")
    assert "devicemapper_devices for the pool (got [])" in no_devices["msg"]
    # Docker 20.10 on the pool: the snapshotter needs 25 or newer.
    old = plan(tmp_path, monkeypatch, migrate_target="containerd-snapshotter", devicemapper_devices=["/dev/vdb"])
    assert "a dockerd of 25 or newer (found 20.10;" in old["msg"]


def test_a_host_already_on_the_target_has_nothing_to_do(tmp_path, monkeypatch):
    nothing = plan(tmp_path, monkeypatch, case=DOCKER_26)
    assert (nothing["action"], nothing["measure"], nothing["refusals"]) == ("none", False, [])
    assert nothing["text"] == "lab1: nothing to do (migration none, Docker's storage driver overlay2)."
    store = plan(tmp_path, monkeypatch, case="docker_26_image_store_on_the_devmapper_snapshotter",
                 migrate_target="containerd-snapshotter", devicemapper_devices=["/dev/vdb"])
    assert (store["action"], store["refusals"]) == ("none", [])


def test_a_finished_migration_is_not_started_again_when_docker_is_back_on_the_pool(tmp_path, monkeypatch):
    data_root = probe(POOL_STOPPED, tmp_path, monkeypatch)["data_root"]
    finished = plan(tmp_path, monkeypatch, state=done_record(tmp_path, "overlay2-lv", data_root))
    assert (finished["action"], finished["refusals"]) == ("none", [])
    assert finished["text"] == "lab1: nothing to do (migration done, Docker's storage driver devicemapper)."


def test_an_unfinished_migration_resumes_with_its_record_and_only_with_its_own_target(tmp_path, monkeypatch):
    record = plan(tmp_path, monkeypatch, case=LOOP_RUNNING, lvm="s0", migrate_target="overlay2-root")["record_new"]
    assert record["phase"] == "switching"
    resumed = plan(tmp_path, monkeypatch, case=LOOP_RUNNING, lvm="s0", state=record, migrate_target="overlay2-root")
    assert (resumed["action"], resumed["resume"], resumed["measure"]) == ("migrate", True, False)
    assert resumed["record_new"] == record and resumed["refusals"] == []
    assert resumed["text"].startswith("lab1: resume the migration started 2025-12-05T16:00:00Z: save 0 images")
    other = plan(tmp_path, monkeypatch, case=LOOP_RUNNING, lvm="s0", state=record, migrate_target="overlay2-lv")
    assert other["msg"].startswith("migrate role: on lab1 the migration to overlay2-root is switching (%s)." % STATE_FILE)


def test_a_resumed_migration_plans_from_its_record_when_the_skipped_inventory_read_templates_to_nothing(
        tmp_path, monkeypatch):
    # The role's later plan calls pass the skipped inventory read as `sections | default(none)`, which
    # reached the filter as '' in the lab's rerun after a kill (and failed it on '@@info').
    record = plan(tmp_path, monkeypatch, case=LOOP_RUNNING, lvm="s0", migrate_target="overlay2-root")["record_new"]
    info = probe(LOOP_RUNNING, tmp_path, monkeypatch)
    given = variables(tmp_path, migrate_target="overlay2-root")
    reads = {"probe": info, "host": host_read(tmp_path, info["data_root"], "s0", record, (), given["migrate_export_path"])}
    for skipped in (None, "", {}):
        resumed = plan_migration(dict(reads, inventory=skipped, measured=None), given, EPOCH)
        assert (resumed["action"], resumed["resume"], resumed["refusals"]) == ("migrate", True, [])
        assert resumed["record_new"] == record


# Docker with one image, lab/a:1 and lab/a:latest (busybox, made with docker import), as
# recorded in the Debian 12 lab VM (tests/unit/fixtures/migrate_docker/recipe.yml): its ID and size.
IMAGE_HEX = "4cacd1424d35e615d783749ded8148b75d4076796f3aebbdf79c84eb4b1ebcd7"
IMAGE_BYTES = 1982256


def one_image_docker(tmp_path):
    """A docker that answers measure.sh's commands as recorded with the one image; `docker image
    inspect` is given the ID `docker image ls` printed (recorded as that command line). docker
    save's archive is binary and not recorded: the stand-in writes "archive" into it."""
    ls = load_fixture("migrate_docker/image_ls_one")
    ids = sorted(set(ls["out"].split()))
    assert ids == ["sha256:" + IMAGE_HEX], ids
    inspect = load_fixture("migrate_docker/image_inspect_size_one")["command"]
    inspect_args = shlex.split(inspect.split(" $(")[0])[1:] + ids
    answers = {"migrate_docker/image_ls_one": None, "migrate_docker/image_inspect_size_one": inspect_args,
               "migrate_docker/ps_one_image": None, "migrate_docker/volume_ls_one_image": None}
    save = ('if [ "$#" = 5 ] && [ "$1 $2 $4 $5" = "save -o lab/a:1 lab/a:latest" ]; then echo archive > "$3"; exit 0; fi\n'
            'echo "unrecorded: docker $*" >&2; exit 2')
    return recorded_commands(tmp_path, answers, otherwise=save)


def test_the_saved_archives_join_the_plan_with_the_arguments_of_the_load(tmp_path, monkeypatch):
    info = probe(POOL_STOPPED, tmp_path, monkeypatch)
    given = variables(tmp_path)
    reads = {"probe": info, "host": host_read(tmp_path, info["data_root"]),
             "measured": run_migrate_script("measure.sh", [info["data_root"]], tmp_path,
                                            {"docker": one_image_docker(tmp_path)})}
    # The inventory's own stand-in docker (its commands recorded with another image): its counts agree.
    (tmp_path / "inventory").mkdir()
    reads["inventory"] = take_inventory(tmp_path / "inventory", "none", info["data_root"])
    planned = plan_migration(reads, given, EPOCH)
    assert planned["refusals"] == [] and planned["bytes_needed"] == IMAGE_BYTES
    assert planned["save_args"] == [given["migrate_export_path"], "-",
                                    "sha256:%s|%d lab/a:1 lab/a:latest" % (IMAGE_HEX, IMAGE_BYTES)]
    saved = subprocess.run(["/bin/sh", os.path.join(MIGRATE_FILES, "images_save.sh")] + planned["save_args"],
                           capture_output=True, text=True, timeout=60, check=False,
                           env=dict(os.environ, PATH="%s:%s" % (tmp_path / "bin", os.environ["PATH"])))
    assert saved.returncode == 0, saved.stderr
    reads["saved"] = saved.stdout.splitlines()
    after = plan_migration(reads, given, planned["epoch"])
    image = after["record_new"]["images"][0]
    assert image["sha256"] == hashlib.sha256(b"archive\n").hexdigest()
    assert (image["file"], image["archive_bytes"], image["store_id"]) == (IMAGE_HEX + ".tar", 8, "sha256:" + IMAGE_HEX)
    assert after["load_args"] == [given["migrate_export_path"], "%s|%s|%s" % (IMAGE_HEX, image["sha256"], IMAGE_HEX)]
    assert after["store_ids"] == ["sha256:" + IMAGE_HEX]
    # Everything else of the plan is as it was.
    assert dict(after["record_new"], images=None) == dict(planned["record_new"], images=None)
    assert report(after, after["record_new"], False, EPOCH)["bytes_exported"] == 8


# ---------------------------------------------------------------- rollback and confirmation

def done_record(tmp_path, target, data_root):
    return {"phase": "done", "target": target, "source_driver": "devicemapper", "data_root": data_root,
            "backup": data_root + ".migrate-20251128T150000Z", "export_path": str(tmp_path / "export"),
            "pool": {"vg": "docker", "name": "thinpool"}, "lv": {"device": "/dev/docker/dockerdata"},
            "images": [], "containers": []}


@pytest.mark.parametrize("target", ["overlay2-lv", "overlay2-root"])
def test_a_rollback_without_the_moved_aside_data_root_is_refused_for_both_overlay2_targets(
        tmp_path, monkeypatch, target):
    data_root = probe(POOL_STOPPED, tmp_path, monkeypatch)["data_root"]
    record = done_record(tmp_path, target, data_root)
    ok = plan(tmp_path, monkeypatch, state=record, backups=[record["backup"]], migrate_rollback="yes")
    assert ok["action"] == "rollback" and ok["refusals"] == []
    os.rmdir(record["backup"])
    refused = plan(tmp_path, monkeypatch, state=record, migrate_rollback="yes")
    assert refused["msg"].startswith("migrate role: on lab1 the migration to %s is done" % target)
    assert "migrate_rollback needs the old storage (%s, and the pool" % record["backup"] in refused["msg"]


def test_the_containerd_image_store_rolls_back_without_a_moved_aside_data_root(tmp_path, monkeypatch):
    record = done_record(tmp_path, "containerd-snapshotter", "/var/lib/docker")
    ok = plan(tmp_path, monkeypatch, case=DOCKER_26, state=record, migrate_rollback=True)
    assert ok["action"] == "rollback" and ok["refusals"] == []


def test_the_old_store_is_not_removed_while_docker_runs_on_it_again(tmp_path, monkeypatch):
    record = done_record(tmp_path, "containerd-snapshotter", "/var/lib/docker")
    refused = plan(tmp_path, monkeypatch, case=DOCKER_26, state=record, migrate_confirm_remove_old="true")
    assert refused["action"] == "confirm"
    assert "(it runs overlay2, image store graphdriver)" in refused["msg"] or "(it runs overlay2, image store" \
        in refused["msg"]
    # overlay2-lv's confirmation removes the moved-aside data root and the pool (refused by the module while open).
    lv = done_record(tmp_path, "overlay2-lv", "/var/lib/docker")
    ok = plan(tmp_path, monkeypatch, case=DOCKER_26, state=lv, migrate_confirm_remove_old=True)
    assert ok["action"] == "confirm" and ok["refusals"] == []
    assert ok["text"].startswith("lab1: remove the old pool docker/thinpool, its activation drop-in and the old data")


def test_rollback_and_confirmation_only_act_on_the_phases_they_can(tmp_path, monkeypatch):
    nothing = plan(tmp_path, monkeypatch, case=DOCKER_26, migrate_rollback=True)
    assert (nothing["action"], nothing["refusals"]) == ("none", [])
    confirmed = dict(done_record(tmp_path, "overlay2-lv", "/var/lib/docker"), phase="confirmed")
    refused = plan(tmp_path, monkeypatch, case=DOCKER_26, state=confirmed, migrate_rollback=True)
    assert refused["action"] == "none" and "is confirmed" in refused["msg"]
    not_finished = plan(tmp_path, monkeypatch, migrate_confirm_remove_old=True)
    assert not_finished["action"] == "none" and "the migration to overlay2-lv is none" in not_finished["msg"]


# ---------------------------------------------------------------- the variables

@pytest.mark.parametrize("size, ok", [("100M", True), ("10g", True), ("512", True), ("1.5G", True),
                                      ("50%FREE", True), ("100%VG", True), ("50%PVS", True),
                                      ("999%FREE", False), ("0", False), ("10X", False), ("", False)])
def test_the_lv_size_is_read_by_the_thinpool_modules_parser(tmp_path, monkeypatch, size, ok):
    result = plan(tmp_path, monkeypatch, read_docker=False, migrate_lv_size=size)
    assert (result["refusals"] == []) is ok, result["refusals"]
    if not ok:
        assert result["msg"].startswith("migrate role: migrate_rollback and migrate_confirm_remove_old exclude")
        assert "lv_size=%s," % size in result["msg"]


@pytest.mark.parametrize("name, ok", [("dockerdata", True), ("docker_data-2", True), ("-x", False),
                                      ("snapshot1", False), ("a_tmeta", False), ("a/b", False), ("", False)])
def test_the_lv_name_is_checked_by_the_modules_validator(tmp_path, monkeypatch, name, ok):
    assert (plan(tmp_path, monkeypatch, read_docker=False, migrate_lv_name=name)["refusals"] == []) is ok


def test_the_other_variables_are_refused_with_their_values(tmp_path, monkeypatch):
    both = plan(tmp_path, monkeypatch, read_docker=False, migrate_rollback="yes", migrate_confirm_remove_old="on")
    assert "Got rollback=True, confirm=True," in both["msg"]
    for given in ({"migrate_target": "zfs"}, {"migrate_fstype": "btrfs"}, {"migrate_export_path": "relative/path"},
                  {"migrate_export_path": "/"}):
        assert plan(tmp_path, monkeypatch, read_docker=False, **given)["refusals"], given
    with pytest.raises(MigratePlanError, match="migrate_rollback: 'maybe' is not a boolean"):
        plan(tmp_path, monkeypatch, read_docker=False, migrate_rollback="maybe")


# ---------------------------------------------------------------- room

def test_overlay2_root_needs_room_for_the_images_the_volumes_and_an_export_on_the_same_file_system():
    assert root_needed(100 * 2**20, 10 * 2**20, False) == int((110 * 2**20) * 1.05 + 64 * 2**20)
    assert root_needed(100 * 2**20, 10 * 2**20, True) == int((210 * 2**20) * 1.05 + 64 * 2**20)


def test_the_new_lv_must_fit_in_the_vgs_free_space(tmp_path, monkeypatch):
    # s4: VG docker has 327155712 bytes (312 MiB) free.
    assert plan(tmp_path, monkeypatch, migrate_lv_size="312M")["refusals"] == []
    refused = plan(tmp_path, monkeypatch, migrate_lv_size="313m")
    assert refused["msg"].startswith("migrate role: not enough room on lab1; Docker was not stopped")
    assert "The new LV of 313m needs %d bytes in VG docker, which has 327155712 free." % (313 * 2**20) \
        in refused["msg"]
    # A percentage is LVM's to fit.
    assert plan(tmp_path, monkeypatch, migrate_lv_size="100%FREE")["refusals"] == []


def test_the_export_needs_room_on_its_file_system(tmp_path, monkeypatch):
    info = probe(POOL_STOPPED, tmp_path, monkeypatch)
    host = host_read(tmp_path, info["data_root"])
    # What df printed for the export path's file system here, with its free space taken away.
    host["avail"] = [line if index == 0 else " ".join(line.split()[:3] + ["0"] + line.split()[4:])
                     for index, line in enumerate(host["avail"])]
    reads = {"probe": info, "host": host, "measured": measured(tmp_path, info["data_root"])}
    refused = plan_migration(reads, variables(tmp_path), EPOCH)
    assert "needs %d bytes (0 plus 5%% and 64 MiB), its file system has 0 free." % (64 * 2**20) in refused["msg"]


# ---------------------------------------------------------------- rollback of daemon.json

WRITTEN = {"storage-driver": "overlay2", "log-level": "info"}


def test_the_whole_file_comes_back_when_it_is_as_the_migration_left_it():
    assert plan_rollback({"docker_config_written": WRITTEN}, dict(WRITTEN), False)["whole_config"] is True


def test_only_the_storage_keys_come_back_when_it_changed_since():
    changed = dict(WRITTEN, **{"log-level": "warn", "live-restore": True})
    assert plan_rollback({"docker_config_written": WRITTEN}, changed, False)["whole_config"] is False
    assert plan_rollback({"docker_config_written": WRITTEN}, None, False)["whole_config"] is False


def test_a_failed_run_and_an_older_record_put_the_whole_file_back():
    changed = dict(WRITTEN, **{"log-level": "warn"})
    assert plan_rollback({"docker_config_written": WRITTEN}, changed, True)["whole_config"] is True
    assert plan_rollback({}, changed, False)["whole_config"] is True


def test_the_old_storage_keys_are_set_as_they_were():
    keys = plan_rollback({"docker_config_storage": {
        "storage-driver": "devicemapper",
        "storage-opts": ["dm.thinpooldev=/dev/mapper/docker-thinpool", "dm.use_deferred_removal=true",
                         "dm.mkfsarg=-E", "dm.mkfsarg=nodiscard", " dm.fs = xfs"]}}, None, False)["keys"]
    assert keys == {"state": "present", "storage_driver": "devicemapper",
                    "storage_opts": {"dm.thinpooldev": "/dev/mapper/docker-thinpool", "dm.use_deferred_removal": "true",
                                     "dm.mkfsarg": ["-E", "nodiscard"], "dm.fs": " xfs"}}
    assert storage_opts_dict(["novalue"]) == {"novalue": ""}


def test_without_an_old_storage_driver_the_storage_keys_are_removed():
    assert plan_rollback({"docker_config_storage": {"storage-driver": None, "storage-opts": []}}, None,
                         False)["keys"] == {"state": "absent"}


def test_off_the_containerd_image_store_the_store_goes_off_and_the_old_driver_is_named():
    """Without storage-driver before, Docker picked overlay2 itself: daemon.json must name it now,
    as storage-driver devmapper would otherwise stay and be refused by the graph drivers."""
    rollback = plan_rollback({"target": "containerd-snapshotter", "source_driver": "overlay2",
                              "docker_config_storage": {"storage-driver": None, "storage-opts": []}}, None, False)
    assert rollback["snapshotter"] and not rollback["lv"]
    assert rollback["keys"] == {"state": "present", "storage_driver": "overlay2", "storage_opts": {},
                                "containerd_snapshotter": False}
    kept = plan_rollback({"target": "containerd-snapshotter", "source_driver": "overlay2",
                          "docker_config_storage": {"storage-driver": "overlay2",
                                                    "storage-opts": ["overlay2.size=10G"]}}, None, False)
    assert kept["keys"]["storage_opts"] == {"overlay2.size": "10G"}


def test_the_overlay2_targets_leave_the_image_store_flag_alone():
    rollback = plan_rollback({"docker_config_storage": {"storage-driver": "devicemapper", "storage-opts": []}},
                             None, False)
    assert rollback["lv"] and "containerd_snapshotter" not in rollback["keys"]


# ---------------------------------------------------------------- the report

def test_the_check_mode_report_says_what_would_be_done(tmp_path, monkeypatch):
    planned = plan(tmp_path, monkeypatch)
    would = report(planned, planned["record_new"], True, EPOCH + 5)
    assert (would["state"], would["action"], would["target"], would["check_mode"]) == \
        ("would migrate", "migrate", "overlay2-lv", True)
    assert would["images_carried"] == 0 and would["seconds"] == 5
    assert would["left_behind"] == ["pool docker/thinpool", "old data root %s" % planned["record_new"]["backup"],
                                    "archives and manifest in %s" % (tmp_path / "export")]


def test_a_rollback_reports_the_lv_left_unmounted(tmp_path, monkeypatch):
    data_root = probe(POOL_STOPPED, tmp_path, monkeypatch)["data_root"]
    record = dict(done_record(tmp_path, "overlay2-lv", data_root), started_epoch=100, finished_epoch=160,
                  containers=[{"name": "web", "image_present": False}, {"name": "db", "image_present": True},
                              {"name": "recorded-before-the-check"}],
                  left_behind_images=[{"id": "sha256:1"}])
    planned = plan(tmp_path, monkeypatch, state=record, backups=[record["backup"]], migrate_rollback=True)
    rolled = report(planned, planned["record_new"], False, EPOCH)
    assert (rolled["state"], rolled["seconds"]) == ("rolled_back", 60)
    assert rolled["left_behind"][-2:] == ["LV /dev/docker/dockerdata (unmounted)",
                                          "archives and manifest in %s" % (tmp_path / "export")]
    assert rolled["containers_whose_image_was_gone"] == ["web"] and rolled["images_left_behind"] == ["sha256:1"]


def test_the_read_of_a_record_that_is_not_json_fails_the_plan(tmp_path, monkeypatch):
    info = probe(POOL_STOPPED, tmp_path, monkeypatch)
    host = host_read(tmp_path, info["data_root"])
    host["state"] = ["{not json"]
    with pytest.raises(MigratePlanError, match="record on the host is not JSON"):
        _migrate_plan.plan_migration({"probe": info, "host": host}, variables(tmp_path), EPOCH)
