"""The migrate role's rollback of daemon.json (issue 14): the whole file when it is as the
migration left it, only its storage keys when someone changed it since. Rendered with Ansible."""

import os

import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "migrate")


def tasks(filename):
    with open(os.path.join(ROLE, "tasks", filename)) as handle:
        return yaml.safe_load(handle)


def task(filename, name):
    return next(item for item in tasks(filename) if item["name"] == name)


def render(expression, **variables):
    return Templar(loader=DataLoader(), variables=variables).template(expression)


WHOLE = task("rollback.yml", "Decide how daemon.json is put back")["ansible.builtin.set_fact"]["__migrate_rb_whole_config"]
KEYS = task("rollback.yml",
            "Put back only the storage keys of daemon.json (it changed since the migration; the rest is kept)")
WRITTEN = {"storage-driver": "overlay2", "log-level": "info"}


def whole(current, record, failed=False):
    return render(WHOLE, __migrate_failed=failed, __migrate_rb=record, __migrate_probe={"daemon_json": current})


def test_the_whole_file_comes_back_when_it_is_as_the_migration_left_it():
    assert whole(dict(WRITTEN), {"docker_config_written": WRITTEN}) is True


def test_only_the_storage_keys_come_back_when_it_changed_since():
    changed = dict(WRITTEN, **{"log-level": "warn", "live-restore": True})
    assert whole(changed, {"docker_config_written": WRITTEN}) is False
    assert whole(None, {"docker_config_written": WRITTEN}) is False


def test_a_failed_run_and_an_older_record_put_the_whole_file_back():
    changed = dict(WRITTEN, **{"log-level": "warn"})
    assert whole(changed, {"docker_config_written": WRITTEN}, failed=True) is True
    assert whole(changed, {}) is True


def keys_args(storage, snapshotter=False, source_driver="devicemapper"):
    variables = {"__migrate_rb": {"docker_config_storage": storage, "source_driver": source_driver},
                 "__migrate_rb_snapshotter": snapshotter,
                 "migrate_docker_config": "/etc/docker/daemon.json", "migrate_docker_service": "docker"}
    for name, expression in KEYS["vars"].items():
        variables[name] = render(expression, **variables)
    args = KEYS["container_storage.devicemapper.docker_daemon_config"]
    omit = "__omit_place_holder__"
    return {key: value for key, value in
            ((key, render(value, omit=omit, **variables)) for key, value in args.items()) if value != omit}


def test_the_old_storage_keys_are_set_as_they_were():
    args = keys_args({"storage-driver": "devicemapper",
                      "storage-opts": ["dm.thinpooldev=/dev/mapper/docker-thinpool", "dm.use_deferred_removal=true",
                                       "dm.mkfsarg=-E", "dm.mkfsarg=nodiscard", " dm.fs = xfs"]})
    assert args["state"] == "present"
    assert args["storage_driver"] == "devicemapper"
    assert args["storage_opts"] == {"dm.thinpooldev": "/dev/mapper/docker-thinpool", "dm.use_deferred_removal": "true",
                                    "dm.mkfsarg": ["-E", "nodiscard"], "dm.fs": " xfs"}
    assert args["backup"] is True


def test_without_an_old_storage_driver_the_storage_keys_are_removed():
    args = keys_args({"storage-driver": None, "storage-opts": []})
    assert args["state"] == "absent"
    assert "storage_driver" not in args and "storage_opts" not in args


def test_off_the_containerd_image_store_the_store_goes_off_and_the_old_driver_is_named():
    """Without storage-driver before, Docker picked overlay2 itself: daemon.json must name it now,
    as storage-driver devmapper would otherwise stay and be refused by the graph drivers."""
    args = keys_args({"storage-driver": None, "storage-opts": []}, snapshotter=True, source_driver="overlay2")
    assert args["state"] == "present"
    assert args["storage_driver"] == "overlay2"
    assert args["containerd_snapshotter"] is False
    assert args["storage_opts"] == {}


def test_off_the_containerd_image_store_an_old_storage_driver_is_put_back_as_it_was():
    args = keys_args({"storage-driver": "overlay2", "storage-opts": ["overlay2.size=10G"]}, snapshotter=True,
                     source_driver="overlay2")
    assert args["storage_driver"] == "overlay2"
    assert args["storage_opts"] == {"overlay2.size": "10G"}
    assert args["containerd_snapshotter"] is False


def test_the_overlay2_targets_leave_the_image_store_flag_alone():
    assert "containerd_snapshotter" not in keys_args({"storage-driver": "devicemapper", "storage-opts": []})
