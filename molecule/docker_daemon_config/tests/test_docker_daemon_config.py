"""Docker 20.10 runs on devicemapper with exactly what docker_daemon_config wrote."""

import json

import pytest


@pytest.fixture(scope="module")
def daemon_json(host):
    return json.loads(host.file("/etc/docker/daemon.json").content_string)


@pytest.fixture(scope="module")
def side_effect(host):
    return json.loads(host.file("/root/side_effect.json").content_string)


def test_file_keeps_the_existing_key_first_and_adds_the_storage_keys(daemon_json):
    assert list(daemon_json) == ["log-level", "storage-driver", "storage-opts"]
    assert daemon_json["log-level"] == "warn"
    assert daemon_json["storage-driver"] == "devicemapper"
    assert daemon_json["storage-opts"] == [
        "dm.loopdatasize=2G", "dm.loopmetadatasize=200M", "dm.basesize=3G", "dm.fs=ext4",
        "dm.min_free_space=5%", "dm.use_deferred_removal=true", "dm.use_deferred_deletion=true",
    ]


def test_existing_file_kept_its_owner_and_mode(host):
    assert host.check_output("stat -c '%U %G %a' /etc/docker/daemon.json") == "root root 640"


def test_backup_holds_the_previous_file(host):
    backups = host.check_output("ls /etc/docker").split()
    backups = [name for name in backups if name.startswith("daemon.json.") and name.endswith("~")]
    assert len(backups) == 1, backups
    previous = json.loads(host.file("/etc/docker/" + backups[0]).content_string)
    assert previous == {"log-level": "warn"}


def test_docker_runs_on_devicemapper_with_the_written_options(host):
    info = json.loads(host.check_output("docker info --format '{{json .}}'"))
    assert info["Driver"] == "devicemapper"
    status = dict(info["DriverStatus"])
    expected = {
        "Base Device Size": "3.221GB",  # dm.basesize=3G
        "Backing Filesystem": "ext4",  # dm.fs=ext4
        "Data Space Total": "2.147GB",  # dm.loopdatasize=2G
        "Metadata Space Total": "209.7MB",  # dm.loopmetadatasize=200M
        "Deferred Removal Enabled": "true",
        "Deferred Deletion Enabled": "true",
    }
    assert {key: status.get(key) for key in expected} == expected, status


def test_docker_took_the_log_level_from_the_kept_key(host):
    # dockerd logs at "warn": its usual info-level start-up lines are absent.
    log = host.check_output("journalctl -u docker -b --no-pager -o cat")
    assert "Started docker.service - Docker Application Container Engine" in log, log
    assert "API listen on" not in log, log


def test_conflicting_dropin_failed_the_module_before_writing(side_effect):
    result = side_effect["conflicting"]
    assert result["failed"] is False  # failed_when: false; the module's own verdict is below
    assert "10-storage.conf: ExecStart has --storage-driver overlay2" in result["msg"]
    assert result["conflicts"] == [
        "/etc/systemd/system/docker.service.d/10-storage.conf: ExecStart has --storage-driver overlay2"]
    assert side_effect["checksum_before"] == side_effect["checksum_after"]


def test_bad_option_failed_the_module_and_left_the_file(side_effect):
    msg = side_effect["bad_option"]["msg"]
    assert "dm.thinp_percent needs dm.directlvm_device" in msg
    assert "dm.use_deferred_deletion=true needs dm.use_deferred_removal=true" in msg
    assert "dm.thinp_percent and dm.thinp_metapercent must be set together" in msg
    assert side_effect["checksum_before"] == side_effect["checksum_after"]


def test_invalid_utf8_failed_the_module_and_left_the_bytes(side_effect):
    result = side_effect["invalid_utf8"]
    assert "/root/latin1.json is not valid UTF-8: byte 0xe9 at byte offset 21" in result["msg"], result
    assert side_effect["latin1_before"] == side_effect["latin1_after"]


def test_held_host_lock_failed_the_module_before_writing(side_effect):
    result = side_effect["lock_held"]
    assert "another run holds the host lock" in result["msg"], result
    assert "lock_timeout=3" in result["msg"], result
    assert result["changed"] is False
    assert side_effect["checksum_before"] == side_effect["checksum_after"]
