"""The devicemapper role's plan (plugins/plugin_utils/_devicemapper_plan.py) on real reads.

docker_storage_info's results come from its cases, whose command output was recorded in the
lab VM; the host read's sections from the role's own files/host_read.sh run on files made here
(see devicemapper_reads.py). Each case fails when the decision it names is wrong."""

import base64
import hashlib
import json
import os

import pytest
import yaml
from devicemapper_reads import DEFAULTS, ROLE, host_read, run_role_script, storage_info, variables

from ansible_collections.container_storage.devicemapper.plugins.filter.devicemapper_plan import devicemapper_plan
from ansible_collections.container_storage.devicemapper.plugins.module_utils._dm import dm_path
from ansible_collections.container_storage.devicemapper.plugins.module_utils._docker_options import (
    render_storage_opts,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._script import parse_sections
from ansible_collections.container_storage.devicemapper.plugins.plugin_utils import _devicemapper_plan as dmplan
from ansible_collections.container_storage.devicemapper.plugins.plugin_utils._devicemapper_plan import (
    parse_storage_opts, plan_devicemapper, verify_docker,
)

STAMP = "20261205T170000Z"
OVERLAY2_RUNNING = "running_overlay2_is_read_from_docker_info"
OVERLAY2_STOPPED = "stopped_docker_without_config_uses_the_driver_in_its_data_root"
LOOP_RUNNING = "running_loop_lvm_is_flagged_as_loop"
POOL_IN_DAEMON_JSON = "stopped_docker_reads_the_pool_from_daemon_json"
NO_DOCKER = "host_without_docker"
DOCKER_26 = "docker_26_on_its_default_graph_driver"
DOCKER_26_NO_CONTAINERD = "docker_26_stopped_image_store_without_storage_driver_is_containerds_default_snapshotter"
DEVICES = ["/dev/vdb"]


def plan_for(tmp_path, monkeypatch, case=OVERLAY2_RUNNING, data_root=None, state=None, flags=True,
             config_plan=None, check_mode=False, sections=None, **given):
    probe = storage_info(case, tmp_path, monkeypatch, flags=flags)
    if sections is None:
        sections = host_read(tmp_path, data_root or probe["data_root"], state=state)
    given.setdefault("devicemapper_devices", DEVICES)
    return plan_devicemapper(probe, sections, variables(**given), STAMP, config_plan=config_plan,
                             check_mode=check_mode, host="vm1")


def record(**fields):
    return json.dumps(dict({"pending": None, "pool": "", "backups": []}, **fields), indent=4)


# ---- the variables (main.yml's two checks, now the plan's first refusals)

@pytest.mark.parametrize("name", dmplan.BOOLEANS)
@pytest.mark.parametrize("given, expected", [
    (False, False), ("false", False), ("no", False), ("False", False), ("0", False), ("off", False),
    (True, True), ("true", True), ("yes", True), ("1", True),
])
def test_every_boolean_is_converted_as_ansible_does(name, given, expected, tmp_path, monkeypatch):
    # remove_vg needs remove_pool: give both so that the case is about the conversion
    extra = {"devicemapper_remove_pool": True} if name == "remove_vg" else {}
    plan = plan_for(tmp_path, monkeypatch, **dict(extra, **{"devicemapper_" + name: given}))
    assert plan[name] is expected


def test_every_boolean_of_the_argument_spec_is_converted():
    with open(os.path.join(ROLE, "meta", "argument_specs.yml")) as handle:
        spec = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    assert sorted("devicemapper_" + name for name in dmplan.BOOLEANS) == sorted(
        name for name, option in spec.items() if option["type"] == "bool")


@pytest.mark.parametrize("given, expected", [
    ("dm.min_free_space=10%", {"dm.min_free_space": "10%"}),
    ("dm.min_free_space=10%, dm.use_deferred_deletion=false",
     {"dm.min_free_space": "10%", "dm.use_deferred_deletion": "false"}),
    ('{"dm.min_free_space": "10%"}', {"dm.min_free_space": "10%"}),
    ({"dm.min_free_space": "10%"}, {"dm.min_free_space": "10%"}),
])
def test_storage_opts_from_the_command_line(given, expected, tmp_path, monkeypatch):
    assert parse_storage_opts(given) == (expected, [])
    plan = plan_for(tmp_path, monkeypatch, devicemapper_storage_opts=given)
    assert plan["refusals"] == []
    assert plan["storage_opts"] == dict({"dm.thinpooldev": "/dev/mapper/docker-thinpool",
                                         "dm.use_deferred_removal": True, "dm.use_deferred_deletion": True},
                                        **expected)


def test_storage_opts_without_equals_sign_is_named_in_the_refusal(tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, devicemapper_storage_opts="dm.min_free_space,dm.basesize=20G")
    assert plan["refusals"] == [
        "devicemapper role: devicemapper_storage_opts must be a dict of dm.* options, or on the command line "
        "`dm.name=value` pairs separated by commas (-e 'devicemapper_storage_opts=dm.min_free_space=10%'), "
        "or a JSON object; these parts have no '=': dm.min_free_space."]


OWNED = ("dm.thinpooldev, dm.directlvm_device, dm.directlvm_device_force, dm.thinp_percent, dm.thinp_metapercent, "
         "dm.thinp_autoextend_threshold, dm.thinp_autoextend_percent")


@pytest.mark.parametrize("given, message", [
    ({"devicemapper_devices": []},
     "devicemapper_devices must list the pool's block devices in direct-lvm mode; got []."),
    ({"devicemapper_mode": "docker-managed", "devicemapper_devices": ["/dev/vdb", "/dev/vdc"]},
     "devicemapper_devices must list exactly one device in docker-managed mode (Docker's dm.directlvm_device); "
     "got ['/dev/vdb', '/dev/vdc']."),
    ({"devicemapper_mode": "docker-managed", "devicemapper_data_size": "95%FREE"},
     "devicemapper_data_size must be N%VG in docker-managed mode (Docker's dm.thinp_percent); got 95%FREE."),
    ({"devicemapper_mode": "docker-managed", "devicemapper_metadata_size": "1G"},
     "devicemapper_metadata_size must be N%VG in docker-managed mode (Docker's dm.thinp_metapercent); got 1G."),
    ({"devicemapper_storage_opts": {"DM.ThinPoolDev": "/dev/mapper/x"}},
     "devicemapper_storage_opts may not set DM.ThinPoolDev: the role sets it from devicemapper_mode (it owns %s)."
     % OWNED),
    ({"devicemapper_storage_opts": '{"dm.basesize": 20G}'},  # not JSON
     "devicemapper_storage_opts must be a dict of dm.* options, or on the command line `dm.name=value` pairs "
     "separated by commas, or a JSON object; got {\"dm.basesize\": 20G}."),
    ({"devicemapper_remove_vg": "yes"},
     "devicemapper_remove_vg needs devicemapper_remove_pool: true; got devicemapper_remove_pool=False."),
    ({"devicemapper_runtime": "containerd-snapshotter", "devicemapper_mode": "loop-lvm"},
     "devicemapper_runtime containerd-snapshotter needs devicemapper_state present and devicemapper_mode "
     "direct-lvm; got state=present, mode=loop-lvm."),
    ({"devicemapper_runtime": "containerd-snapshotter", "devicemapper_state": "absent"},
     "devicemapper_runtime containerd-snapshotter needs devicemapper_state present and devicemapper_mode "
     "direct-lvm; got state=absent, mode=direct-lvm."),
])
def test_a_broken_rule_is_refused_alone_naming_its_variable(given, message, tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, **given)
    assert plan["refusals"] == ["devicemapper role: " + message]


def test_of_several_broken_rules_only_the_first_is_reported(tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, devicemapper_mode="docker-managed", devicemapper_devices=["/dev/vdb", "/dev/vdc"],
                    devicemapper_data_size="95%FREE", devicemapper_remove_vg=True)
    assert plan["refusals"] == [
        "devicemapper role: devicemapper_devices must list exactly one device in docker-managed mode (Docker's "
        "dm.directlvm_device); got ['/dev/vdb', '/dev/vdc']."]


@pytest.mark.parametrize("given", [
    {"devicemapper_mode": "loop-lvm", "devicemapper_devices": []},
    {"devicemapper_state": "absent", "devicemapper_devices": []},
    {"devicemapper_mode": "docker-managed", "devicemapper_data_size": "90%VG", "devicemapper_metadata_size": "2%VG"},
    {"devicemapper_remove_pool": True, "devicemapper_remove_vg": True, "devicemapper_state": "absent"},
])
def test_variables_that_go_together_are_not_refused(given, tmp_path, monkeypatch):
    assert plan_for(tmp_path, monkeypatch, **given)["refusals"] == []


# ---- Docker's storage and the switch (probe.yml)

@pytest.mark.parametrize("case, given, dockerd, expected", [
    (OVERLAY2_RUNNING, "auto", "20.10", "docker-graphdriver"),
    (DOCKER_26, "auto", "26.1", "containerd-snapshotter"),
    (DOCKER_26_NO_CONTAINERD, "auto", "26.1", "containerd-snapshotter"),
    (DOCKER_26, "docker-graphdriver", "26.1", "docker-graphdriver"),
    (OVERLAY2_RUNNING, "containerd-snapshotter", "20.10", "containerd-snapshotter"),
    ("docker_28_on_its_default_graph_driver_with_containerd_2", "auto", "28.5", "containerd-snapshotter"),
])
def test_auto_keeps_the_graph_driver_up_to_docker_24(case, given, dockerd, expected, tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, case=case, devicemapper_runtime=given)
    assert plan["runtime"] == expected
    assert plan["tasks_file"] == ("snapshotter.yml" if expected == "containerd-snapshotter" else "present.yml")


def test_absent_is_always_the_graph_drivers(tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, case=DOCKER_26, flags=False, devicemapper_state="absent",
                    config_plan={"changed": False})
    assert plan["runtime"] == "docker-graphdriver" and plan["tasks_file"] == "absent.yml"


@pytest.mark.parametrize("dockerd, containerd, expected", [
    ("24.0", True, "docker-graphdriver"), ("25.0", True, "containerd-snapshotter"),
    (None, True, "containerd-snapshotter"), (None, False, "docker-graphdriver"),
])
def test_auto_at_the_version_boundary_and_without_docker(dockerd, containerd, expected):
    # versions the lab has not recorded: the rule itself
    assert dmplan.choose_runtime("auto", "present", dockerd, containerd) == expected


def test_docker_25_and_later_is_refused_on_the_graph_driver(tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, case=DOCKER_26, devicemapper_runtime="docker-graphdriver")
    assert plan["refusals"][0] == (
        "devicemapper role: dockerd 26.1 on vm1 has no devicemapper storage driver: Docker Engine 25 removed it. "
        "Nothing was changed. Keep Docker 24 or older on this host, or put the pool under containerd's devmapper "
        "snapshotter (devicemapper_runtime: auto or containerd-snapshotter; Docker then uses it through the "
        "containerd image store), or move Docker to overlay2; see docs/containerd.md and docs/devicemapper-guide.md.")


def test_a_docker_that_is_not_installed_is_refused_unless_not_managed(tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, case=NO_DOCKER, flags=False, devicemapper_runtime="docker-graphdriver",
                    config_plan={"changed": True})
    assert plan["refusals"] == [
        "devicemapper role: no dockerd or no docker.service on vm1 (dockerd: None). Install Docker Engine 24 or "
        "older first, or set devicemapper_manage_docker: false to prepare the pool and daemon.json before Docker "
        "is installed."]
    (tmp_path / "b").mkdir()
    plan = plan_for(tmp_path / "b", monkeypatch, case=NO_DOCKER, flags=False, devicemapper_manage_docker=False,
                    devicemapper_runtime="docker-graphdriver", config_plan={"changed": True})
    assert plan["refusals"] == []


@pytest.mark.parametrize("case, mode, switch", [
    (OVERLAY2_RUNNING, "direct-lvm", True),
    (LOOP_RUNNING, "loop-lvm", False),
    (LOOP_RUNNING, "direct-lvm", True),
    (POOL_IN_DAEMON_JSON, "direct-lvm", False),
])
def test_docker_switches_only_when_it_runs_on_another_store(case, mode, switch, tmp_path, monkeypatch):
    devices = [] if mode == "loop-lvm" else DEVICES
    plan = plan_for(tmp_path, monkeypatch, case=case, devicemapper_mode=mode, devicemapper_devices=devices)
    assert plan["switch"] is switch
    assert plan["target_store"] == ("devicemapper:loop" if mode == "loop-lvm" else "devicemapper:docker-thinpool")


@pytest.mark.parametrize("case, switch", [(OVERLAY2_RUNNING, False), (LOOP_RUNNING, True)])
def test_absent_switches_only_off_devicemapper(case, switch, tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, case=case, flags=False, devicemapper_state="absent",
                    config_plan={"changed": False})
    assert plan["switch"] is switch and plan["restart"] is switch


def test_what_was_running_comes_from_the_first_unfinished_run(tmp_path, monkeypatch):
    stopped = dict(case=OVERLAY2_STOPPED)
    pending = record(pending={"docker_active": True, "since": "2026-12-05T16:00:00Z"})
    assert plan_for(tmp_path, monkeypatch, state=pending, **stopped)["was_active"] is True
    (tmp_path / "b").mkdir()
    assert plan_for(tmp_path / "b", monkeypatch, state=record(), **stopped)["was_active"] is False
    (tmp_path / "c").mkdir()
    assert plan_for(tmp_path / "c", monkeypatch, state=record())["was_active"] is True


def test_the_socket_is_stopped_with_the_service(tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch)
    assert plan["units"] == ["docker.socket", "docker.service"]
    assert plan["stop"] is True and plan["steps"][0] == "stop docker.socket docker.service"


def test_the_records_sha256_is_kept_as_read(tmp_path, monkeypatch):
    text = record(pool="docker/thinpool")
    plan = plan_for(tmp_path, monkeypatch, state=text)
    written = (tmp_path / "state" / "state.json").read_bytes()
    assert plan["record_sha"] == hashlib.sha256(written).hexdigest()
    assert plan["record"] == json.loads(text)
    (tmp_path / "b").mkdir()
    assert plan_for(tmp_path / "b", monkeypatch)["record_sha"] == "none"


@pytest.mark.parametrize("given, expected", [
    ("/var/lib/docker/", "/var/lib/docker"), ("/var/lib/docker//", "/var/lib/docker"),
    ("/var/lib/docker", "/var/lib/docker"), ("/", "/"),
])
def test_data_root_trailing_slash_is_dropped(given, expected):
    assert dmplan.strip_trailing_slashes(given) == expected


def test_host_read_drops_the_trailing_slash_too(tmp_path):
    root = tmp_path / "docker"
    root.mkdir()
    (tmp_path / "docker.bk-20250101T000000Z").mkdir()
    (tmp_path / "docker.bk-20250101T000000Z" / "f").write_text("x" * 5000)
    with_slash = host_read(tmp_path, str(root) + "//")
    assert with_slash["backups"] == host_read(tmp_path, str(root))["backups"]
    sizes = dmplan.backup_sizes(with_slash["backups"])
    assert list(sizes) == [str(tmp_path / "docker.bk-20250101T000000Z")] and sizes[list(sizes)[0]] > 5000


def test_inner_mounts_are_found_and_refused_when_the_data_root_moves(tmp_path, monkeypatch):
    mounts = ["/", "/var/lib/docker", "/var/lib/docker/volumes", "/var/lib/docker2", "/var/lib/dockerX/a",
              # Docker's own, gone once it stops: layers, shm, a local volume in use
              "/var/lib/docker/overlay2/0123abcd/merged", "/var/lib/docker/devicemapper/mnt/0123abcd",
              "/var/lib/docker/containers/0123abcd/mounts/shm", "/var/lib/docker/volumes/nfsdata/_data",
              "/var/lib/docker/image"]
    assert dmplan.inner_mounts(mounts, "/var/lib/docker") == ["/var/lib/docker/volumes", "/var/lib/docker/image"]
    # this machine's own mounts, as the host read lists them: a data root with one inside
    sections = host_read(tmp_path, "/")
    root = os.path.dirname(sorted(line for line in sections["mounts"] if line.count("/") > 1)[0])
    found = dmplan.inner_mounts(sections["mounts"], root)
    assert found
    probe = storage_info(OVERLAY2_STOPPED, tmp_path, monkeypatch)
    probe["data_root"] = root  # the data root docker_storage_info read, on this machine
    plan = plan_devicemapper(probe, sections, variables(devicemapper_devices=DEVICES), STAMP, host="vm1")
    assert plan["move_data"] is True and plan["inner_mounts"] == found
    assert plan["refusals"][0].startswith("devicemapper role: %s is mounted inside Docker's data root %s on vm1;"
                                          % (", ".join(found), root))
    plan = plan_devicemapper(probe, sections, variables(devicemapper_devices=DEVICES,
                                                        devicemapper_backup_docker_data=False), STAMP)
    assert plan["move_data"] is False and plan["refusals"] == []


def test_earlier_backups_and_lost_found_are_never_moved_again():
    entries = ["image", "docker.bk-20250101T000000Z", "lost+found", "overlay2", "docker.bkX"]
    assert dmplan.movable_entries(entries, "/var/lib/docker") == ["image", "overlay2", "docker.bkX"]


def test_a_stopped_docker_with_data_is_moved_aside_beside_its_data_root(tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, case=OVERLAY2_STOPPED)
    assert plan["entries"] == ["overlay2"] and plan["move_data"] is True
    assert plan["backup_path"] == str(tmp_path / "docker") + ".bk-" + STAMP and plan["stash_mode"] == "beside"
    assert plan["stop"] is False and plan["start"] is True  # stopped: started on the new store
    assert plan["steps"] == ["move %s aside to %s" % (plan["data_root"], plan["backup_path"]),
                             "write daemon.json", "start docker.socket docker.service"]
    assert plan["record_after"]["backups"] == [{"path": plan["backup_path"], "store": "overlay2", "inside": False}]


def test_a_running_docker_not_managed_keeps_its_data_root(tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, case=OVERLAY2_STOPPED, devicemapper_manage_docker=False)
    assert plan["move_data"] is True  # stopped: nothing writes into it
    (tmp_path / "b").mkdir()
    probe = storage_info(OVERLAY2_RUNNING, tmp_path / "b", monkeypatch)
    probe["data_root_entries"] = ["image"]
    plan = plan_devicemapper(probe, host_read(tmp_path / "b", "/var/lib/docker"),
                             variables(devicemapper_devices=DEVICES, devicemapper_manage_docker=False), STAMP)
    assert plan["move_data"] is False and plan["stop"] is False and plan["start"] is False


def test_present_after_absent_puts_the_same_store_back(tmp_path, monkeypatch):
    backup = str(tmp_path / "docker") + ".bk-20250101T000000Z"
    os.makedirs(backup)
    backups = [{"path": backup, "store": "devicemapper:docker-thinpool", "inside": False},
               {"path": "/gone.bk-1", "store": "devicemapper:docker-thinpool", "inside": False}]
    plan = plan_for(tmp_path, monkeypatch, case=OVERLAY2_STOPPED, state=record(backups=backups))
    assert plan["restore"] == backups[0] and plan["unstash_mode"] == "beside"
    assert plan["steps"][1] == "put back " + backup
    # the restored backup and the one no longer on the host leave the record; the new one is in it
    assert [entry["path"] for entry in plan["record_after"]["backups"]] == [plan["backup_path"]]
    assert plan["backups_listed"] == [{"path": backup, "store": "not recorded", "bytes": plan["backup_sizes"][backup]},
                                      {"path": plan["backup_path"], "store": "overlay2", "bytes": None}]
    assert [entry["path"] for entry in plan["backups_listed_after_restore"]] == [plan["backup_path"]]


def backups_on_disk(tmp_path, *stores):
    """Backups of the data root ``empty`` that exist on disk, one per store, oldest first, as the record lists them."""
    backups = []
    for day, store in enumerate(stores, 1):
        path = str(tmp_path / "empty") + ".bk-202501%02dT000000Z" % day
        os.makedirs(path)
        backups.append({"path": path, "store": store, "inside": False})
    return backups


def test_absent_puts_back_the_store_docker_ran_on_before_devicemapper(tmp_path, monkeypatch):
    backups = backups_on_disk(tmp_path, "overlay2", "devicemapper:loop")
    plan = plan_for(tmp_path, monkeypatch, case=POOL_IN_DAEMON_JSON, flags=False, state=record(backups=backups),
                    devicemapper_state="absent", config_plan={"changed": True})
    assert plan["switch"] is True and plan["restore"] == backups[0]
    assert plan["write_storage_driver"] is None and plan["write_storage_opts"] is None
    assert plan["record_after"]["pool"] == ""


@pytest.mark.parametrize("recorded, mode, pool, reported", [
    ("", "direct-lvm", "thinpool", False),
    ("docker/thinpool", "direct-lvm", "thinpool", False),
    ("docker/thinpool", "direct-lvm", "newpool", True),
    ("docker/thinpool", "loop-lvm", "thinpool", True),
])
def test_a_pool_no_longer_wanted_is_reported_not_removed(recorded, mode, pool, reported, tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, state=record(pool=recorded), devicemapper_mode=mode,
                    devicemapper_pool=pool)
    assert bool(plan["old_pool"]) is reported and bool(plan["old_pool_warning"]) is reported
    if reported:
        assert plan["old_pool_warning"].startswith(
            "[WARNING] vm1: thin pool docker/thinpool, which an earlier run pointed Docker at, is no longer used (")


# ---- daemon.json (planned with docker_daemon_config's own code)

@pytest.mark.parametrize("opts", [
    {"dm.use_deferred_removal": True, "dm.use_deferred_deletion": True},
    {"dm.use_deferred_removal": False, "dm.use_deferred_deletion": False, "dm.min_free_space": "10%",
     "dm.mountopt": ["nodiscard", "noatime"], "dm.basesize": 20},
])
def test_the_plan_plans_daemon_json_with_the_modules_code(opts, tmp_path, monkeypatch):
    # as the role merges them: its own, the deferred removal/deletion defaults, then the user's
    wanted = {"dm.thinpooldev": "/dev/mapper/docker-thinpool", "dm.use_deferred_removal": True,
              "dm.use_deferred_deletion": True}
    wanted.update(opts)
    entries, errors = render_storage_opts(wanted)
    assert not errors
    daemon_json = json.dumps({"log-level": "warn", "storage-driver": "devicemapper", "storage-opts": entries})
    probe = storage_info(OVERLAY2_RUNNING, tmp_path, monkeypatch, files={"daemon.json": daemon_json},
                         path="{tmpdir}/daemon.json")
    sections = host_read(tmp_path, probe["data_root"])
    plan = plan_devicemapper(probe, sections, variables(devicemapper_devices=DEVICES, devicemapper_storage_opts=opts),
                             STAMP)
    assert plan["refusals"] == []
    assert plan["config_plan"]["changed"] is False and plan["write_config"] is False
    probe["daemon_json"]["storage-opts"] = entries[:-1]
    plan = plan_devicemapper(probe, sections, variables(devicemapper_devices=DEVICES, devicemapper_storage_opts=opts),
                             STAMP)
    assert plan["config_plan"]["changed"] is True and plan["write_config"] is True


def test_a_storage_flag_outside_daemon_json_is_refused_before_any_change(tmp_path, monkeypatch):
    probe = storage_info("storage_flags_in_a_drop_in_are_reported", tmp_path, monkeypatch, flags=False)
    probe["daemon_json_problem"] = None  # the case's file also has a key twice, refused first
    plan = plan_devicemapper(probe, host_read(tmp_path, probe["data_root"]),
                             variables(devicemapper_devices=DEVICES), STAMP, host="vm1")
    assert plan["refusals"] == [
        "devicemapper role: %s (on vm1; nothing was changed)" % plan["config_plan"]["msg"]]
    assert "--storage-driver overlay2" in plan["refusals"][0]


@pytest.mark.parametrize("vg, pool", [("docker", "thinpool"), ("my-vg", "thin-pool"), ("a--b", "c")])
def test_the_planned_pool_path_is_the_one_thinpool_gives(vg, pool, tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, devicemapper_vg=vg, devicemapper_pool=pool)
    assert plan["storage_opts"]["dm.thinpooldev"] == dm_path(vg, pool) == plan["dm_path"]
    assert plan["expected_pool"] == plan["dm_name"] == dm_path(vg, pool)[len("/dev/mapper/"):]


def test_docker_managed_mode_gives_docker_the_device_and_percentages(tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, devicemapper_mode="docker-managed", devicemapper_force="yes")
    assert plan["storage_opts"] == {
        "dm.directlvm_device": "/dev/vdb", "dm.thinp_percent": "95", "dm.thinp_metapercent": "1",
        "dm.thinp_autoextend_threshold": 80, "dm.thinp_autoextend_percent": 20, "dm.directlvm_device_force": True,
        "dm.use_deferred_removal": True, "dm.use_deferred_deletion": True}
    assert render_storage_opts(plan["storage_opts"])[0][-3] == "dm.directlvm_device_force=true"
    assert plan["expected_pool"] == "docker-thinpool"


# ---- stop, start, record

@pytest.mark.parametrize("case, state, verb", [
    (OVERLAY2_RUNNING, "present", "start"),    # service and socket enabled
    (OVERLAY2_STOPPED, "present", "enable"),   # recorded disabled
    (LOOP_RUNNING, "absent", "start"),
])
def test_docker_is_enabled_only_when_it_is_not(case, state, verb, tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, case=case, flags=state == "present", devicemapper_state=state,
                    config_plan=None if state == "present" else {"changed": True})
    assert plan["start_verb"] == verb and plan["start"] is True


def test_nothing_to_do_is_no_stop_no_start_no_record(tmp_path, monkeypatch):
    entries, _errors = render_storage_opts({"dm.thinpooldev": "/dev/mapper/docker-thinpool",
                                            "dm.use_deferred_removal": True, "dm.use_deferred_deletion": True})
    daemon_json = json.dumps({"storage-driver": "devicemapper", "storage-opts": entries,
                              "data-root": str(tmp_path / "empty")})
    probe = storage_info(POOL_IN_DAEMON_JSON, tmp_path, monkeypatch, files={"daemon.json": daemon_json})
    sections = host_read(tmp_path, probe["data_root"], state=record(pool="docker/thinpool"))
    plan = plan_devicemapper(probe, sections, variables(devicemapper_devices=DEVICES), STAMP)
    assert plan["switch"] is False and plan["write_config"] is False and plan["stop"] is False
    assert plan["touches_host"] is False and plan["record_first"] is False
    # recorded stopped and disabled: present starts and enables it, without recording
    assert plan["start"] is True and plan["start_verb"] == "enable" and plan["start_record"] == "no-record"
    assert plan["steps"] == ["start docker.socket docker.service"]


def test_a_pending_record_is_finished_even_when_nothing_else_changes(tmp_path, monkeypatch):
    pending = record(pool="docker/thinpool", pending={"docker_active": True, "since": "2026-12-05T16:00:00Z"})
    plan = plan_for(tmp_path, monkeypatch, case=LOOP_RUNNING, state=pending, devicemapper_mode="loop-lvm",
                    devicemapper_devices=[])
    assert plan["switch"] is False and plan["touches_host"] is True and plan["start_record"] == "record"


def test_check_mode_says_what_would_happen_and_verifies_only_an_unchanged_docker(tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, check_mode=True)
    assert plan["check_mode"] is True and plan["verify_unstarted"] is False and plan["verify_started"] is False
    assert plan["steps"] == ["stop docker.socket docker.service", "write daemon.json",
                             "start docker.socket docker.service"]
    (tmp_path / "b").mkdir()
    probe = storage_info("check_mode_is_reported", tmp_path / "b", monkeypatch)
    plan = plan_devicemapper(probe, host_read(tmp_path / "b", "/var/lib/docker"),
                             variables(devicemapper_devices=DEVICES), STAMP)
    assert plan["check_mode"] is True  # told by the module, not by ansible_check_mode


# ---- the activation drop-in, the profile directory, the packages

@pytest.mark.parametrize("found, activate, written", [
    (None, True, True),
    ("SAME", True, False),
    ("OTHER", True, True),
    (None, False, False),
])
def test_drop_in_is_written_only_when_it_differs(found, activate, written, tmp_path, monkeypatch):
    wanted = "[Service]\nExecStartPre=-/usr/sbin/lvchange --activate y docker/thinpool\n"
    content = {"SAME": wanted, "OTHER": wanted + "# changed\n", None: None}[found]
    probe = storage_info(OVERLAY2_RUNNING, tmp_path, monkeypatch)
    sections = host_read(tmp_path, "/var/lib/docker", dropin=content)
    if content is not None:
        assert base64.b64decode(sections["dropin"][0]).decode() == content
        # the test runs as root, as the role does: the host read says root:root:644 for a file made so
        sections["dropin"][1] = "root:root:644"
    plan = devicemapper_plan(probe, sections, variables(devicemapper_devices=DEVICES,
                                                        devicemapper_activate_on_boot=activate), STAMP,
                             dropin_wanted={"docker-graphdriver": wanted, "containerd-snapshotter": "other"})
    assert plan["dropin_write"] is written and plan["dropin_content"] == wanted
    assert plan["dropin_check_message"].startswith(
        "would write /etc/systemd/system/docker.service.d/devicemapper-thinpool.conf (root:root 0644, %s) and "
        "reload systemd: [Service]" % ("was root:root:644" if content else "new"))


def test_drop_in_with_another_mode_is_written_again(tmp_path, monkeypatch):
    wanted = "x"
    probe = storage_info(OVERLAY2_RUNNING, tmp_path, monkeypatch)
    sections = host_read(tmp_path, "/var/lib/docker", dropin=wanted)
    sections["dropin"][1] = "root:root:600"
    plan = devicemapper_plan(probe, sections, variables(devicemapper_devices=DEVICES), STAMP,
                             dropin_wanted={"docker-graphdriver": wanted, "containerd-snapshotter": wanted})
    assert plan["dropin_write"] is True


@pytest.mark.parametrize("mode, activate, removed", [
    ("direct-lvm", True, False), ("direct-lvm", False, True), ("loop-lvm", True, True),
])
def test_drop_in_no_longer_wanted_is_removed(mode, activate, removed, tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, devicemapper_mode=mode, devicemapper_activate_on_boot=activate,
                    devicemapper_devices=[] if mode == "loop-lvm" else DEVICES,
                    sections=host_read(tmp_path, "/var/lib/docker", dropin="[Service]\n"))
    assert plan["remove_dropin"] is removed
    (tmp_path / "b").mkdir()
    assert plan_for(tmp_path / "b", monkeypatch, devicemapper_mode=mode, devicemapper_activate_on_boot=activate,
                    devicemapper_devices=[] if mode == "loop-lvm" else DEVICES)["remove_dropin"] is False


def test_profile_dir_as_lvmconfig_prints_it(tmp_path, monkeypatch):
    # lvm prints its output recorded in the lab (tests/unit/fixtures/lvm_profile/lvmconfig_profile_dir.yml)
    plan = plan_for(tmp_path, monkeypatch)
    assert plan["profile_dir"] == "/etc/lvm/profile"


def test_a_failing_lvmconfig_is_reported_not_hidden(tmp_path, monkeypatch):
    sections = host_read(tmp_path, "/var/lib/docker", lvm="echo '  Configuration node config/profile_dir not found' >&2; exit 5")
    assert sections["lvmconfig_error"] == ["rc=5", "  Configuration node config/profile_dir not found"]
    assert "lvmconfig" not in sections
    # thinpool then reads the directory itself (profile_dir is omitted)
    assert plan_for(tmp_path, monkeypatch, sections=sections)["profile_dir"] == ""


def test_tools_missing_are_those_the_host_read_did_not_find(tmp_path, monkeypatch):
    sections = host_read(tmp_path, "/var/lib/docker", tools=("lvm", "no-such-tool-here"))
    assert [os.path.basename(line) for line in sections["tools"]] == ["lvm"]
    plan = plan_for(tmp_path, monkeypatch, sections=sections)
    assert plan["tools_missing"] == ["thin_check"]
    assert plan["install_prerequisites"] is True
    (tmp_path / "b").mkdir()
    assert plan_for(tmp_path / "b", monkeypatch, devicemapper_install_packages="no")["install_prerequisites"] is False


def without_lvm_tools(tmp_path):
    """The host read of a host without lvm2 and thin-provisioning-tools (a minimal Debian 12):
    host_read.sh looks for tools that are not on its PATH."""
    return host_read(tmp_path, "/var/lib/docker", tools=("no-lvm-here", "no-thin-check-here"))


def test_check_mode_without_the_lvm_tools_previews_the_pool_instead_of_reading_lvm(tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, sections=without_lvm_tools(tmp_path), check_mode=True)
    assert plan["refusals"] == []
    assert plan["tools_missing"] == ["lvm", "thin_check"]
    assert plan["install_prerequisites"] is True
    assert plan["pool_after_install"] is True
    assert plan["pool_check_message"] == (
        "would create the thin pool docker/thinpool (data 95%VG, metadata 1%VG, chunk 512K) on /dev/vdb with the "
        "autoextend profile docker-thinpool; LVM is read after the install (lvm, thin_check not found)")
    # daemon.json is planned all the same
    assert plan["config_plan"]["changed"] is True


def with_lvm_tools(tmp_path):
    """The host read of a host with both tools: host_read.sh only looks thin_check up, never runs it."""
    (tmp_path / "bin").mkdir(exist_ok=True)
    (tmp_path / "bin" / "thin_check").write_text("#!/bin/sh\nexit 2\n")
    (tmp_path / "bin" / "thin_check").chmod(0o755)
    sections = host_read(tmp_path, "/var/lib/docker")
    assert [os.path.basename(line) for line in sections["tools"]] == ["lvm", "thin_check"]
    return sections


@pytest.mark.parametrize("check_mode, sections, after_install", [
    (False, without_lvm_tools, False),  # a real run installs the tools first, then reads LVM
    (True, with_lvm_tools, False),  # the tools are there: thinpool reads LVM in check mode
])
def test_the_pool_is_read_whenever_lvm_is_there_when_it_runs(check_mode, sections, after_install,
                                                             tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, sections=sections(tmp_path), check_mode=check_mode)
    assert plan["refusals"] == []
    assert plan["pool_after_install"] is after_install
    assert plan["pool_check_message"] == ""


@pytest.mark.parametrize("check_mode", [False, True])
def test_missing_lvm_tools_not_to_be_installed_are_refused_in_one_line(check_mode, tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, sections=without_lvm_tools(tmp_path), check_mode=check_mode,
                    devicemapper_install_packages=False)
    assert plan["refusals"] == [
        "devicemapper role: install lvm2 and thin-provisioning-tools (device-mapper-persistent-data on the Red Hat "
        "family) on vm1 first, or set devicemapper_install_packages: true; lvm, thin_check not found. "
        "Nothing was changed."]
    assert "\n" not in plan["refusals"][0]


@pytest.mark.parametrize("given", [
    {"devicemapper_mode": "loop-lvm"},  # Docker's loop files need no LVM tools
    {"devicemapper_state": "absent"},
])
def test_missing_lvm_tools_are_not_refused_where_nothing_runs_them(given, tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, sections=without_lvm_tools(tmp_path), check_mode=True,
                    devicemapper_install_packages=False, **given)
    assert plan["refusals"] == []
    assert plan["pool_after_install"] is False


def test_the_roles_constants_are_the_plans():
    with open(os.path.join(ROLE, "vars", "main.yml")) as handle:
        role_vars = yaml.safe_load(handle)
    assert tuple(role_vars["__devicemapper_tools"]) == dmplan.TOOLS
    assert role_vars["__devicemapper_state_file"].replace("{{ __devicemapper_state_dir }}",
                                                          role_vars["__devicemapper_state_dir"]) == dmplan.STATE_FILE
    assert set(role_vars["__devicemapper_variables"]) == set(DEFAULTS)
    for name, value in role_vars["__devicemapper_variables"].items():
        assert value == "{{ %s }}" % name


# ---- absent with devicemapper_remove_pool

def test_removing_the_pool_forgets_its_backups(tmp_path, monkeypatch):
    backups = backups_on_disk(tmp_path, "devicemapper:docker-thinpool", "devicemapper:loop")
    mine = backups[0]["path"]
    plan = plan_for(tmp_path, monkeypatch, case=POOL_IN_DAEMON_JSON, flags=False, devicemapper_state="absent",
                    state=record(pool="docker/thinpool", backups=backups), devicemapper_remove_pool="true",
                    devicemapper_remove_vg=True, config_plan={"changed": False})
    assert plan["remove_pool_now"] is True and plan["remove_vg_words"] == " and VG docker"
    assert plan["pool_backups_words"] == mine
    assert plan["forget_pool"] is True
    assert plan["record_without_pool"] == {"pending": None, "pool": "", "backups": [backups[1]]}
    (tmp_path / "b").mkdir()
    plan = plan_for(tmp_path / "b", monkeypatch, flags=False, devicemapper_state="absent",
                    devicemapper_mode="loop-lvm", devicemapper_remove_pool=True, config_plan={"changed": False})
    assert plan["remove_pool_now"] is False and plan["forget_pool"] is False


# ---- verify.yml: what docker info says against the plan

def _info_from_start(tmp_path, docker_out):
    ran = run_role_script("docker_start.sh", ["start", "info", "no-record", "", "", ""] + ["docker.service"],
                          tmp_path, {"systemctl": "exit 0", "docker": "cat '%s'" % docker_out})
    assert ran.returncode == 0, ran.stderr
    from ansible_collections.container_storage.devicemapper.plugins.filter.docker_info import docker_info
    return docker_info("\n".join(parse_sections(ran.stdout)["info"]), ran.stderr)


def test_verify_accepts_what_the_role_configured_and_names_each_difference(tmp_path, monkeypatch):
    from case_runner import load_fixture
    loop_out = tmp_path / "loop.json"
    loop_out.write_text(load_fixture("docker_storage_info/docker_info_devicemapper_loop")["out"])
    reading = _info_from_start(tmp_path, loop_out)
    loop_plan = plan_for(tmp_path, monkeypatch, case=LOOP_RUNNING, devicemapper_mode="loop-lvm",
                         devicemapper_devices=[], devicemapper_state="present")
    loop_plan["config_state"] = "present"
    verified = verify_docker(reading, loop_plan, "vm1")
    assert verified["mismatches"] == []
    assert verified["success_msg"] == "Docker runs on devicemapper, pool docker-254:0-15406-pool (loop-lvm)."
    (tmp_path / "b").mkdir()
    direct = plan_for(tmp_path / "b", monkeypatch, devicemapper_storage_opts={"dm.use_deferred_deletion": False})
    verified = verify_docker(reading, direct, "vm1")
    assert verified["mismatches"] == [
        "expected Pool Name: docker-thinpool, got docker-254:0-15406-pool",
        "expected no Data loop file in direct-lvm mode, got /var/lib/docker/devicemapper/devicemapper/data",
        "expected Deferred Deletion Enabled: false, got true"]
    assert verified["fail_msg"].startswith(
        "devicemapper role: Docker on vm1 does not run on the storage the role configured (expected Pool Name: ")
    assert "docker info says: Storage Driver: devicemapper, Pool Name: docker-254:0-15406-pool, Data file: /dev/loop0," \
        in verified["fail_msg"]
    direct["config_state"] = "absent"
    assert verify_docker(reading, direct, "vm1")["mismatches"] == [
        "expected Docker running on another driver than devicemapper, got devicemapper"]


def test_verify_after_a_failed_docker_info_names_the_error(tmp_path, monkeypatch):
    reading = _info_from_start(tmp_path, tmp_path / "missing")  # docker fails: cat of a missing file
    assert reading["info"] is None and "docker info printed no JSON" in reading["info_error"]
    plan = plan_for(tmp_path, monkeypatch)
    verified = verify_docker(reading, plan, "vm1")
    assert verified["mismatches"][0] == "expected Storage Driver: devicemapper, got none"
    assert verified["fail_msg"].endswith("(%s)" % reading["info_error"])


# ---- containerd's snapshotter (probe_containerd.yml): may containerd take the pool?

# `lvs` of VG docker recorded in the Debian 13 lab (tests/unit/fixtures/containerd_read/recipe.yml):
POOL_EMPTY = "containerd_read/lvs_pool_empty"  # a new pool docker/thinpool
POOL_USED = "containerd_read/lvs_pool_containerd"  # containerd's snapshotter on it, a snapshot written to
POOL_LVM_VOLUMES = "containerd_read/lvs_pool_lvm_volumes"  # LVM's thin volume olddata on it, a linear LV other


def containerd_plan(tmp_path, monkeypatch, lvs=None, metadata=False, state=None, case=DOCKER_26, **read):
    from devicemapper_reads import containerd_read
    probe = storage_info(case, tmp_path, monkeypatch)
    sections = dict(host_read(tmp_path, probe["data_root"], state=state))
    if lvs is not None:
        read["lvs"] = lvs
    sections.update(containerd_read(tmp_path, metadata=metadata, **read))
    return plan_devicemapper(probe, sections, variables(devicemapper_devices=DEVICES), STAMP, host="vm1")


def test_a_new_or_empty_pool_is_containerds_to_take(tmp_path, monkeypatch):
    plan = containerd_plan(tmp_path, monkeypatch)
    assert plan["runtime"] == "containerd-snapshotter" and plan["foreign_data"] == [] and plan["refusals"] == []
    for lvs, metadata in ((POOL_EMPTY, False), (POOL_USED, True)):
        (tmp_path / str(metadata)).mkdir()
        # containerd's own thin devices are not LVM volumes; its metadata.db says they are its own.
        assert containerd_plan(tmp_path / str(metadata), monkeypatch, lvs, metadata)["foreign_data"] == []


def test_a_vg_that_does_not_exist_yet_has_no_rows(tmp_path, monkeypatch):
    from devicemapper_reads import VGS_OTHER, containerd_read
    sections = containerd_read(tmp_path, POOL_USED, vgs=VGS_OTHER)
    assert [line for line in sections["pool"] if line] == []


def test_a_pool_with_lvm_thin_volumes_is_refused(tmp_path, monkeypatch):
    plan = containerd_plan(tmp_path, monkeypatch, POOL_LVM_VOLUMES, metadata=True)
    assert plan["foreign_data"] == ["LVM thin volumes olddata"]
    message = plan["refusals"][0]
    for part in ("thin pool docker/thinpool (docker-thinpool) on vm1", "Nothing was changed", "playbooks/migrate.yml",
                 "already holds data that is not containerd's: LVM thin volumes olddata."):
        assert part in message


def test_data_in_use_without_containerds_metadata_is_refused(tmp_path, monkeypatch):
    found = containerd_plan(tmp_path, monkeypatch, POOL_USED)["foreign_data"]
    assert len(found) == 1 and "7.40%" in found[0] and "/var/lib/containerd/devmapper/metadata.db" in found[0]


def test_a_pool_of_dockers_graph_driver_is_refused(tmp_path, monkeypatch):
    assert len(containerd_plan(tmp_path, monkeypatch, POOL_EMPTY, state=record(pool="docker/thinpool"))[
        "foreign_data"]) == 1
    backups = [{"path": "/var/lib/docker.bk-1", "store": "devicemapper:docker-thinpool"}]
    (tmp_path / "b").mkdir()
    found = containerd_plan(tmp_path / "b", monkeypatch, POOL_EMPTY, metadata=True, state=record(backups=backups))
    assert "devicemapper:docker-thinpool store" in found["foreign_data"][0]
    # Another pool's record says nothing about this one.
    (tmp_path / "c").mkdir()
    assert containerd_plan(tmp_path / "c", monkeypatch, POOL_EMPTY, state=record(pool="docker/otherpool"))[
        "foreign_data"] == []


def test_containerd_must_be_installed_and_the_mode_direct_lvm(tmp_path, monkeypatch):
    plan = containerd_plan(tmp_path, monkeypatch, case=DOCKER_26_NO_CONTAINERD)
    assert plan["refusals"] == [
        "devicemapper role: containerd's devmapper snapshotter on vm1 needs devicemapper_mode: direct-lvm (got "
        "direct-lvm: loop-lvm and docker-managed are the graph driver's own modes) and containerd installed "
        "(found: None). Nothing was changed."]


def test_containerds_service_and_drop_in_are_read(tmp_path, monkeypatch):
    plan = containerd_plan(tmp_path, monkeypatch, active="inactive", enabled="disabled", dropin="[Service]\n")
    assert plan["containerd_active"] is False and plan["containerd_enabled"] is False
    assert base64.b64decode(plan["dropin_found"][0]) == b"[Service]\n"
    assert plan["dropin_unit"] == "containerd"
    assert plan["dropin_path"] == "/etc/systemd/system/containerd.service.d/devicemapper-thinpool.conf"
    (tmp_path / "b").mkdir()
    plan = containerd_plan(tmp_path / "b", monkeypatch)
    assert plan["containerd_active"] is True and plan["containerd_enabled"] is True and plan["dropin_found"] == []


def test_daemon_json_is_planned_with_the_containerd_image_store(tmp_path, monkeypatch):
    plan = containerd_plan(tmp_path, monkeypatch)
    assert plan["with_docker"] is True
    assert plan["config_plan"]["changed"] is True and plan["docker_restart"] is True
    assert plan["config_plan"]["config"] == {"features": {"containerd-snapshotter": True},
                                             "storage-driver": "devmapper"}
    wanted = json.dumps({"features": {"containerd-snapshotter": True}, "storage-driver": "devmapper"})
    (tmp_path / "b").mkdir()
    probe = storage_info(DOCKER_26, tmp_path / "b", monkeypatch, files={"daemon.json": wanted},
                         path="{tmpdir}/daemon.json")
    from devicemapper_reads import containerd_read
    sections = dict(host_read(tmp_path / "b", probe["data_root"]), **containerd_read(tmp_path / "b"))
    plan = plan_devicemapper(probe, sections, variables(devicemapper_devices=DEVICES), STAMP)
    assert plan["config_plan"]["changed"] is False and plan["docker_restart"] is False
    # Docker not managed: nothing to plan, nothing refused
    plan = plan_devicemapper(probe, sections, variables(devicemapper_devices=DEVICES,
                                                        devicemapper_manage_docker=False), STAMP)
    assert plan["with_docker"] is False and plan["config_plan"] == {"changed": False, "failed": False, "msg": ""}


# ---- snapshotter.yml's verification: what containerd and Docker report after the restarts

@pytest.mark.parametrize("case, mismatches", [
    ("docker_26_image_store_on_the_devmapper_snapshotter", []),
    ("docker_26_on_devmapper_with_the_plugin_in_error_warns",
     ["containerd's devmapper snapshotter plugin is error, expected ok (pool docker-thinpool)"]),
    ("docker_26_image_store_on_containerds_default_snapshotter",
     ["docker info says Storage Driver: overlayfs, expected devmapper"]),
    (DOCKER_26, ["containerd's devmapper snapshotter plugin is skip, expected ok (pool docker-thinpool)",
                 "docker info says Storage Driver: overlay2, expected devmapper",
                 "docker info says driver-type: -, expected io.containerd.snapshotter.v1"]),
])
def test_containerds_snapshotter_is_verified_with_docker(case, mismatches, tmp_path, monkeypatch):
    plan = containerd_plan(tmp_path, monkeypatch)
    (tmp_path / "after").mkdir()
    reprobe = storage_info(case, tmp_path / "after", monkeypatch, flags=False)
    verified = verify_docker(reprobe, plan, "vm1")
    assert verified["mismatches"] == mismatches
    if mismatches:
        assert verified["fail_msg"] == "devicemapper role: on vm1 %s." % "; ".join(mismatches)
    else:
        assert verified["success_msg"] == ("containerd's devmapper snapshotter is ok on pool docker-thinpool; "
                                           "Docker runs on devmapper (io.containerd.snapshotter.v1).")


def test_containerds_snapshotter_without_docker_is_verified_on_the_plugin_alone(tmp_path, monkeypatch):
    from devicemapper_reads import containerd_read
    probe = storage_info(DOCKER_26, tmp_path, monkeypatch)
    sections = dict(host_read(tmp_path, probe["data_root"]), **containerd_read(tmp_path))
    plan = plan_devicemapper(probe, sections, variables(devicemapper_devices=DEVICES,
                                                        devicemapper_manage_docker=False), STAMP)
    (tmp_path / "after").mkdir()
    stopped = storage_info("docker_26_stopped_with_the_image_store_in_daemon_json_and_containerd_stopped",
                           tmp_path / "after", monkeypatch, flags=False)
    verified = verify_docker(stopped, plan, "vm1")
    assert verified["mismatches"] == ["containerd's devmapper snapshotter plugin is none, expected ok "
                                      "(pool docker-thinpool)"]
    assert verified["fail_msg"].endswith("(pool docker-thinpool). (%s)" % stopped["containerd"]["plugins_error"])


# ---- snapshotter.yml: what is restarted once containerd's config.toml is written

SKIPPED = {"changed": False, "skipped": True}
UNCHANGED = {"changed": False}
CHANGED = {"changed": True}


def containerd_switch(plan, config_plan=None, written=None, removed=None):
    """containerd's switch planned as snapshotter.yml plans it; a result not given was unchanged or skipped."""
    return dmplan.plan_containerd_switch(plan, variables(devicemapper_devices=DEVICES), config_plan or UNCHANGED,
                                         written or SKIPPED, removed or SKIPPED)


@pytest.mark.parametrize("check_mode, config_plan, written, restart", [
    (False, UNCHANGED, SKIPPED, False),
    (False, CHANGED, {"changed": True, "restart_needed": True}, True),
    # containerd_devmapper says whether the settings it wrote need a restart
    (False, CHANGED, {"changed": True, "restart_needed": False}, False),
    (True, UNCHANGED, SKIPPED, False),
    # in check mode nothing was written: a planned change would restart it
    (True, CHANGED, SKIPPED, True),
])
def test_containerd_restarts_only_on_changed_settings(check_mode, config_plan, written, restart, tmp_path,
                                                      monkeypatch):
    plan = dict(containerd_plan(tmp_path, monkeypatch), check_mode=check_mode)
    switch = containerd_switch(plan, config_plan, written)
    assert switch["containerd_restart"] is restart
    assert switch["containerd_start_args"] == ["containerd.service", "yes", "yes" if restart else "no"]
    # containerd runs and is enabled (as read): only a restart starts it
    assert switch["containerd_start"] is restart


def test_a_stopped_or_disabled_containerd_is_started_and_enabled(tmp_path, monkeypatch):
    plan = containerd_plan(tmp_path, monkeypatch, active="inactive", enabled="disabled")
    switch = containerd_switch(plan)
    assert switch["containerd_restart"] is False and switch["containerd_start"] is True
    assert switch["containerd_start_args"] == ["containerd.service", "no", "no"]
    (tmp_path / "b").mkdir()
    plan = containerd_plan(tmp_path / "b", monkeypatch, enabled="disabled")
    assert containerd_switch(plan)["containerd_start"] is True


def test_docker_restarts_on_a_changed_daemon_json_and_starts_when_it_does_not_run(tmp_path, monkeypatch):
    plan = containerd_plan(tmp_path, monkeypatch)
    # Docker 26 recorded running and enabled, daemon.json without the containerd image store
    assert plan["docker_restart"] is True and plan["docker_start"] is True
    assert plan["docker_start_args"] == ["restart", "docker.service", "docker.socket", "docker.service"]
    assert containerd_switch(plan)["docker_restart"] is True
    unchanged = dict(plan, docker_restart=False)
    assert containerd_switch(unchanged)["docker_restart"] is False
    (tmp_path / "b").mkdir()
    probe = storage_info("docker_26_stopped_with_the_image_store_in_daemon_json_and_containerd_stopped",
                         tmp_path / "b", monkeypatch, path="{tmpdir}/daemon.json",
                         files={"daemon.json": json.dumps({"features": {"containerd-snapshotter": True},
                                                           "storage-driver": "devmapper"})})
    from devicemapper_reads import containerd_read
    sections = dict(host_read(tmp_path / "b", probe["data_root"]), **containerd_read(tmp_path / "b"))
    plan = plan_devicemapper(probe, sections, variables(devicemapper_devices=DEVICES), STAMP)
    # daemon.json already right, Docker stopped: started, not restarted
    assert plan["docker_restart"] is False and plan["docker_start"] is True
    assert plan["docker_start_args"][:2] == ["start", "docker.service"]
    # Docker not managed: never started
    plan = plan_devicemapper(probe, sections, variables(devicemapper_devices=DEVICES,
                                                        devicemapper_manage_docker=False), STAMP)
    assert plan["docker_start"] is False


def test_check_mode_says_what_a_real_run_would_do_to_containerd_and_docker(tmp_path, monkeypatch):
    plan = dict(containerd_plan(tmp_path, monkeypatch, active="inactive", enabled="disabled"), check_mode=True)
    switch = containerd_switch(plan, CHANGED)
    assert switch["say_check_steps"] is True
    assert switch["check_message"] == (
        "would write the devmapper snapshotter settings into /etc/containerd/config.toml, then restart containerd, "
        "then enable containerd, then write daemon.json (containerd image store on devmapper), then restart docker")
    switch = containerd_switch(dict(plan, docker_restart=False))
    assert switch["check_steps"] == ["start containerd", "enable containerd"]
    (tmp_path / "b").mkdir()
    running = dict(containerd_plan(tmp_path / "b", monkeypatch), check_mode=True, docker_restart=False)
    assert containerd_switch(running)["check_steps"] == [] and containerd_switch(running)["say_check_steps"] is False
    # a real run does the steps instead of saying them
    assert containerd_switch(dict(plan, check_mode=False), CHANGED, {"changed": True})["say_check_steps"] is False


@pytest.mark.parametrize("check_mode, config_plan, docker_restart, verify", [
    (False, CHANGED, True, True),
    (True, UNCHANGED, False, True),
    # in check mode nothing was restarted: settings that would change cannot be verified
    (True, CHANGED, False, False),
    (True, UNCHANGED, True, False),
])
def test_what_runs_is_verified_only_on_the_settings_it_runs_with(check_mode, config_plan, docker_restart, verify,
                                                                 tmp_path, monkeypatch):
    plan = dict(containerd_plan(tmp_path, monkeypatch), check_mode=check_mode, docker_restart=docker_restart)
    assert containerd_switch(plan, config_plan)["verify"] is verify
    assert containerd_switch(dict(plan, verify=False), config_plan)["verify"] is False
    if check_mode and verify:
        stopped = dict(plan, containerd_active=False)
        assert containerd_switch(stopped, config_plan)["verify"] is False


def test_removing_containerds_drop_in_reloads_systemd(tmp_path, monkeypatch):
    plan = containerd_plan(tmp_path, monkeypatch)
    assert containerd_switch(plan, removed={"changed": True})["reload_units"] is True
    assert containerd_switch(plan, removed=SKIPPED)["reload_units"] is False
    assert containerd_switch(plan, removed={})["reload_units"] is False


def containerd_results(**given):
    results = dict(snapshotter_config=SKIPPED, containerd_started={}, config_written={}, docker_started={},
                   rb_config=SKIPPED, rb_config_new=SKIPPED, rb_start=SKIPPED)
    results.update(given)
    return results


def test_the_containerd_result_says_what_was_and_would_be_restarted(tmp_path, monkeypatch):
    plan = containerd_plan(tmp_path, monkeypatch)
    written = {"changed": True, "restart_needed": True, "backup_file": "/etc/containerd/config.toml.1.bak"}
    switch = containerd_switch(plan, CHANGED, written)
    result = dmplan.containerd_switch_result(plan, switch, containerd_results(
        snapshotter_config=written, containerd_started={"changed": True}, docker_started={"changed": True},
        config_written={"changed": True, "backup_file": "/etc/docker/daemon.json.2.bak"}))
    assert result == {"store": "containerd-snapshotter:docker-thinpool", "runtime": "containerd-snapshotter",
                      "containerd_config_changed": True, "containerd_restarted": True, "docker_configured": True,
                      "docker_restarted": True, "containerd_config_backup": "/etc/containerd/config.toml.1.bak",
                      "daemon_json_backup": "/etc/docker/daemon.json.2.bak"}
    unchanged = dmplan.containerd_switch_result(plan, containerd_switch(plan), containerd_results())
    assert [unchanged[key] for key in ("containerd_config_changed", "containerd_restarted", "docker_restarted",
                                       "containerd_config_backup", "daemon_json_backup")] == [False] * 3 + [""] * 2
    # check mode: nothing ran, the result says what a real run would do
    check = dict(plan, check_mode=True)
    would = dmplan.containerd_switch_result(check, containerd_switch(check, CHANGED), containerd_results(
        containerd_started=SKIPPED, docker_started=SKIPPED))
    assert would["containerd_config_changed"] and would["containerd_restarted"] and would["docker_restarted"]


FAILED_TASK = {"name": "Restart Docker (or start and enable it) on the containerd image store"}
FAILED_START = {"failed": True, "msg": "non-zero return code", "stderr": "Job for docker.service failed.\n"}


def test_the_snapshotters_rescue_says_what_failed_and_what_was_put_back(tmp_path, monkeypatch):
    plan = containerd_plan(tmp_path, monkeypatch)
    results = containerd_results(
        snapshotter_config={"changed": True, "backup_file": "/etc/containerd/config.toml.1.bak"},
        containerd_started={"changed": True}, config_written={"changed": True, "backup_file": "/etc/docker/d.bak"},
        docker_started=FAILED_START, rb_config={"changed": True}, rb_start={"changed": True})
    assert dmplan.containerd_switch_failure(plan, results, "vm1", FAILED_TASK, FAILED_START) == (
        "devicemapper role: putting containerd's devmapper snapshotter in place on vm1 failed (Restart Docker (or "
        "start and enable it) on the containerd image store: non-zero return code Job for docker.service failed.). "
        "Done: the pool docker/thinpool is built; containerd settings written (backup "
        "/etc/containerd/config.toml.1.bak);\ncontainerd restarted;\n"
        "daemon.json put back from /etc/docker/d.bak and Docker started again on it.")
    created = dict(results, config_written={"changed": True, "backup_file": None}, rb_config=SKIPPED,
                   rb_config_new={"changed": True}, rb_start={"failed": True})
    assert dmplan.containerd_switch_failure(plan, created, "vm1", FAILED_TASK, FAILED_START).endswith(
        ";\ncontainerd restarted;\ndaemon.json the role created removed, Docker NOT started again.")
    containerd_failed = containerd_results(containerd_started={"failed": True, "msg": "timeout"})
    message = dmplan.containerd_switch_failure(plan, containerd_failed, "vm1", {"name": "Restart (or start) and "
                                               "enable containerd"}, {"failed": True, "msg": "timeout"})
    assert message.endswith("(Restart (or start) and enable containerd: timeout ). Done: the pool docker/thinpool is "
                            "built; containerd settings unchanged;\ncontainerd restart failed;\ndaemon.json unchanged.")
    written = containerd_results(config_written={"changed": True, "backup_file": None})
    assert dmplan.containerd_switch_failure(plan, written, "vm1", {}, {}).endswith(
        "failed (?:  ). Done: the pool docker/thinpool is built; containerd settings unchanged;\n"
        "containerd not restarted;\ndaemon.json written (backup none).")


# ---- rollback.yml: what is put back after a failed switch, and what the failure says

def rollback_results(**given):
    results = dict(recorded={"changed": True, "rc": 0}, stopped={}, moved={}, restored={}, config_written={},
                   started={})
    results.update(given)
    return results


LOST_RACE = {"failed": True, "rc": 75, "changed": False,
             "stderr": "another run of the role changed /var/lib/x/state.json since this run read it\n"}


@pytest.mark.parametrize("recorded, failed, again", [
    ({}, False, None), (SKIPPED, False, None), ({"rc": 0, "changed": True}, False, None),
    (LOST_RACE, True, True),
    ({"failed": True, "rc": 1, "stderr": "another run held the host lock"}, True, True),
    ({"failed": True, "rc": 2, "stderr": "", "msg": "state_record.sh failed"}, True, False),
])
def test_the_rescue_stops_only_when_the_record_step_failed_and_says_why(recorded, failed, again, tmp_path,
                                                                        monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, devicemapper_mode="direct-lvm")
    rollback = dmplan.plan_rollback(plan, rollback_results(recorded=recorded), {}, {}, STAMP, "h1")
    assert rollback["record_failed"] is failed
    if failed:
        reason = recorded["stderr"].strip() or recorded["msg"]
        assert rollback["record_message"] == (
            "devicemapper role: on h1 the role's record was not written: %s. This run changed nothing of Docker (the "
            "pool steps before it are the same for every run). %s"
            % (reason, "Run the role again once the other run has finished." if again else ""))


@pytest.mark.parametrize("results, changed", [
    ({"stopped": {"failed": True, "changed": False}}, False),
    ({}, False),
    ({"stopped": {"changed": True}}, True),
    ({"moved": {"changed": True}}, True),
    ({"restored": {"changed": True}}, True),
    ({"config_written": {"changed": True}}, True),
    ({"started": {"changed": True, "failed": True}}, True),
    # a failed rename moved nothing
    ({"moved": {"changed": True, "failed": True}}, False),
])
def test_docker_changed_is_what_this_run_did_before_it_failed(results, changed, tmp_path, monkeypatch):
    plan = dict(plan_for(tmp_path, monkeypatch, devicemapper_mode="direct-lvm"),
                restore={"path": "/var/lib/docker.bk-1", "store": "devicemapper:docker-thinpool"})
    assert dmplan.plan_rollback(plan, rollback_results(**results), {}, {}, STAMP, "h1")["docker_changed"] is changed


def test_what_is_put_back_follows_what_the_switch_did(tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, devicemapper_mode="direct-lvm")
    plan = dict(plan, restore={"path": "/var/lib/docker.bk-1", "store": "devicemapper:docker-thinpool"})
    nothing = dmplan.plan_rollback(plan, rollback_results(), {}, {}, STAMP, "h1")
    assert [nothing[key] for key in ("stop", "moved", "restored", "stash", "unstash", "config_put_back",
                                     "config_removed")] == [False] * 7
    assert nothing["start"] is (plan["manage_docker"] and plan["was_active"]) is True
    assert dmplan.plan_rollback(dict(plan, was_active=False), rollback_results(), {}, {}, STAMP, "h1")[
        "start"] is False
    started = rollback_results(stopped={"changed": True}, moved={"changed": True}, started={"failed": True})
    rollback = dmplan.plan_rollback(plan, started, {}, {}, STAMP, "h1")
    assert rollback["stop"] and rollback["moved"] and rollback["unstash"] and rollback["stash"]
    # what the failed start wrote in the new data root is moved aside, never deleted
    assert rollback["rollback_from"] == "/var/lib/docker.bk-%s-failed" % STAMP
    assert rollback["stash_args"] == ["/var/lib/docker", "/var/lib/docker.bk-%s-failed" % STAMP, "beside"]
    # moved but the start never ran: the data root is put back, nothing to move aside
    moved = dmplan.plan_rollback(plan, rollback_results(moved={"changed": True}), {}, {}, STAMP, "h1")
    assert moved["unstash"] and not moved["stash"]
    # a failed move inside a mount point may have moved part of it; a failed rename moved nothing
    half = rollback_results(moved={"changed": True, "failed": True})
    assert dmplan.plan_rollback(plan, half, {}, {}, STAMP, "h1")["moved"] is False
    assert dmplan.plan_rollback(dict(plan, data_root_is_mount=True), half, {}, {}, STAMP, "h1")["moved"] is True
    # the store put back is moved back to where it was
    restored = dmplan.plan_rollback(plan, rollback_results(restored={"changed": True}), {}, {}, STAMP, "h1")
    assert restored["restored"] and restored["stash"]
    assert restored["stash_args"] == ["/var/lib/docker", "/var/lib/docker.bk-1", "beside"]
    half = rollback_results(restored={"changed": True, "failed": True})
    assert dmplan.plan_rollback(plan, half, {}, {}, STAMP, "h1")["restored"] is False
    assert dmplan.plan_rollback(dict(plan, unstash_mode="inside"), half, {}, {}, STAMP, "h1")["restored"] is True
    # daemon.json: back from the backup, or removed when the role created it
    backup = dmplan.plan_rollback(plan, rollback_results(config_written={"changed": True, "backup_file": "/b"}),
                                  {}, {}, STAMP, "h1")
    assert backup["config_put_back"] is True and backup["config_removed"] is False
    created = dmplan.plan_rollback(plan, rollback_results(config_written={"changed": True, "backup_file": None}),
                                   {}, {}, STAMP, "h1")
    assert created["config_put_back"] is False and created["config_removed"] is True


def test_the_failure_names_the_task_or_the_stopped_wave(tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, devicemapper_mode="direct-lvm")
    failure = dmplan.plan_rollback(plan, rollback_results(), {"name": "Start and enable Docker"},
                                   {"msg": "non-zero return code", "stderr": " Job failed \n"}, STAMP, "h1")["failure"]
    assert failure == "Start and enable Docker: non-zero return code Job failed"
    wave = dmplan.plan_rollback(plan, rollback_results(), {}, {}, STAMP, "h1")["failure"]
    assert wave == "another host of this wave failed: the play stopped the wave"


def rb_results(**given):
    results = dict(config_written={}, rb_config=SKIPPED, rb_config_new=SKIPPED, rb_stash=SKIPPED,
                   rb_unstash=SKIPPED, rb_start=SKIPPED)
    results.update(given)
    return results


def test_the_rollback_says_what_was_rolled_back(tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, devicemapper_mode="direct-lvm")
    backup = plan["backup_path"]
    results = rollback_results(stopped={"changed": True}, moved={"changed": True}, started={"failed": True},
                               config_written={"changed": True, "backup_file": "/etc/docker/daemon.json.1.bak"})
    rollback = dmplan.plan_rollback(plan, results, {"name": "Start and enable Docker"}, {"msg": "boom"}, STAMP, "h1")
    report = dmplan.rollback_report(plan, rollback, rb_results(
        config_written=results["config_written"], rb_config={"changed": True}, rb_stash={"changed": True},
        rb_unstash={"changed": True, "rc": 0}, rb_start={"changed": True}), "h1")
    assert report == {"rolled_back": True, "docker_changed": True, "docker_running": True, "message": (
        "devicemapper role: switching Docker's storage on h1 failed (Start and enable Docker: boom). Rolled back: "
        "daemon.json restored from /etc/docker/daemon.json.1.bak;\ndata root put back from %s (what Docker wrote "
        "meanwhile is in /var/lib/docker.bk-%s-failed);\n\nDocker started again on its previous storage." % (
            backup, STAMP))}
    failed = dmplan.rollback_report(plan, rollback, rb_results(
        config_written=results["config_written"], rb_config={"changed": False, "failed": True, "msg": "no space"},
        rb_unstash={"failed": True, "rc": 4, "stderr": "exists"},
        rb_start={"failed": True, "stderr": "", "msg": " start failed "}), "h1")
    assert failed["docker_running"] is False
    assert failed["message"].endswith(
        "Rolled back: daemon.json NOT restored (no space);\ndata root NOT put back: it is in %s (exists);\n\n"
        "Docker did NOT start again: start failed." % backup)
    plan = dict(plan, restore={"path": "/var/lib/docker.bk-1"})
    nothing = dmplan.plan_rollback(plan, rollback_results(
        restored={"changed": True}, config_written={"changed": True, "backup_file": None}), {}, {}, STAMP, "h1")
    results = rb_results(config_written={"changed": True, "backup_file": None}, rb_config_new={"changed": True})
    report = dmplan.rollback_report(plan, nothing, results, "h1")
    assert report["docker_running"] is False
    assert report["message"].endswith(
        "Rolled back: daemon.json the role created removed;\ndata root not moved;\nrestored store moved back to "
        "/var/lib/docker.bk-1; \nDocker left as it was (not running before, or not managed).")
    unchanged = dmplan.rollback_report(plan, dmplan.plan_rollback(plan, rollback_results(), {}, {}, STAMP, "h1"),
                                       rb_results(), "h1")
    assert "Rolled back: daemon.json unchanged;\ndata root not moved;\n\n" in unchanged["message"]


# ---- absent.yml: what removing the pool destroys

def test_removing_the_pool_says_what_it_destroys(tmp_path, monkeypatch):
    plan = plan_for(tmp_path, monkeypatch, POOL_IN_DAEMON_JSON, devicemapper_state="absent",
                    devicemapper_remove_pool=True, devicemapper_remove_vg=True, devicemapper_mode="direct-lvm")
    info = {"pools": [{"data_percent": 7.4, "size": 21474836480, "thin_volumes": ["olddata"]}]}
    warning = dmplan.pool_removal_warning(plan, info, "h1")
    assert warning["warn"] is True
    assert warning["message"] == (
        "[WARNING] devicemapper_remove_pool=true on h1: removing thin pool docker/thinpool (7.4%% of its 21474836480 "
        "bytes in use, 1 LVM thin volumes besides Docker's own devices) and VG docker destroys every image layer and "
        "container file system Docker kept in it; the data root moved aside (%s) can no longer be used."
        % plan["pool_backups_words"])
    assert dmplan.pool_removal_warning(plan, {"pools": []}, "h1")["warn"] is False
    assert dmplan.pool_removal_warning(plan, SKIPPED, "h1")["warn"] is False
    # the role's filter gives the warning with the plan
    probe = storage_info(POOL_IN_DAEMON_JSON, tmp_path, monkeypatch)
    sections = host_read(tmp_path, probe["data_root"])
    given = variables(devicemapper_devices=DEVICES, devicemapper_state="absent", devicemapper_remove_pool=True)
    assert devicemapper_plan(probe, sections, given, STAMP, host="h1", pool_info=info)["pool_removal"][
        "message"].startswith("[WARNING] devicemapper_remove_pool=true on h1: removing thin pool docker/thinpool (7.4%")
