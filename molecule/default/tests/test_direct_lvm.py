"""Docker 20.10 switched from overlay2 to direct-lvm by the role, resized, then power-cycled."""

import json
import re

import pytest


def docker_info(host):
    info = json.loads(host.check_output("docker info --format '{{json .}}'"))
    return info, dict(info["DriverStatus"])


def pool_report(host):
    report = json.loads(host.check_output(
        "lvs --reportformat json --units b --nosuffix -o lv_name,lv_attr,lv_size,chunk_size,"
        "seg_monitor,lv_profile,zero docker/thinpool"))
    return report["report"][0]["lv"][0]


def pool_used_blocks(host):
    # dmsetup status: start len thin-pool transaction meta_used/total data_used/total ...
    fields = host.check_output("dmsetup status docker-thinpool").split()
    return int(fields[5].split("/")[0])


def test_vm_booted_and_docker_started_by_itself(host):
    # Under emulation the boot may still be running when SSH answers; wait for
    # it, then Docker must be up (started at boot, not by a test's docker call).
    state = host.run("timeout 300 systemctl is-system-running --wait").stdout.strip()
    assert state in ("running", "degraded"), state
    assert host.service("docker").is_running
    assert host.service("docker").is_enabled


def test_idempotence_did_not_restart_docker(host):
    after_converge = host.file("/root/docker-started-converge").content_string
    after_idempotence = host.file("/root/docker-started-idempotence").content_string
    assert "MainPID=" in after_converge
    assert after_converge == after_idempotence


def test_docker_came_back_on_the_pool_after_power_cycle(host):
    info, status = docker_info(host)
    assert info["Driver"] == "devicemapper"
    assert status["Pool Name"] == "docker-thinpool"
    assert "Data loop file" not in status
    assert status["Pool Blocksize"] == "524.3kB"
    assert status["Deferred Removal Enabled"] == "true"
    assert status["Deferred Deletion Enabled"] == "true"


def test_pool_is_active_monitored_with_profile(host):
    lv = pool_report(host)
    assert lv["lv_attr"][0] == "t" and lv["lv_attr"][4] == "a", lv
    assert lv["lv_attr"][7] != "z", lv  # zeroing off
    assert int(lv["chunk_size"]) == 512 * 1024
    assert lv["seg_monitor"] == "monitored"
    assert lv["lv_profile"] == "docker-thinpool"
    # 95% of the two 10G disks, as the guide sizes it, after the resize
    assert 18.5 * 2**30 < int(lv["lv_size"]) < 20 * 2**30, lv


def test_resize_added_the_disk_and_grew_the_pool(host):
    pvs = json.loads(host.check_output("pvs --reportformat json -o pv_name,vg_name"))["report"][0]["pv"]
    assert sorted(pv["pv_name"] for pv in pvs if pv["vg_name"] == "docker") == ["/dev/vdb", "/dev/vdc"]
    before = int(host.file("/root/pool-size-before-resize").content_string.strip())
    assert 9 * 2**30 < before < 10 * 2**30  # 95% of the first disk
    _info, status = docker_info(host)
    assert float(status["Data Space Total"][:-2]) > 19 and status["Data Space Total"].endswith("GB"), status


def test_resize_left_docker_and_the_container_running(host):
    keeper_before = host.file("/root/keeper-before-resize").content_string.strip()
    assert host.file("/root/keeper-after-resize").content_string.split("\n")[:3] == [keeper_before, "true", "kept"]
    assert host.file("/root/docker-started-resize").content_string == \
        host.file("/root/docker-started-idempotence").content_string


def test_profile_file(host):
    profile = host.file("/etc/lvm/profile/docker-thinpool.profile")
    assert profile.user == "root" and profile.mode == 0o644
    text = re.sub(r"\s+", "", profile.content_string)
    assert "thin_pool_autoextend_threshold=80" in text
    assert "thin_pool_autoextend_percent=20" in text


def test_daemon_json_has_the_guide_settings_and_kept_the_rest(host):
    config = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert config["storage-driver"] == "devicemapper"
    assert config["storage-opts"] == [
        "dm.thinpooldev=/dev/mapper/docker-thinpool",
        "dm.use_deferred_removal=true",
        "dm.use_deferred_deletion=true",
    ]
    assert config["log-opts"] == {"max-size": "10m"}


def test_activation_drop_in(host):
    dropin = host.file("/etc/systemd/system/docker.service.d/devicemapper-thinpool.conf")
    assert "--activate y docker/thinpool" in dropin.content_string


def test_old_overlay2_data_moved_aside_not_deleted(host):
    backups = host.check_output("ls -d /var/lib/docker.bk-*").split()
    assert len(backups) == 1, backups
    assert host.file(backups[0] + "/overlay2").is_directory
    assert host.file(backups[0] + "/image/overlay2/repositories.json").contains("busybox")
    assert not host.file("/var/lib/docker/overlay2").exists


@pytest.mark.parametrize("megabytes", [200])
def test_container_writes_land_in_the_pool(host, megabytes):
    before = pool_used_blocks(host)
    host.check_output(
        "docker run --name writer busybox-dm /bin/busybox dd if=/dev/zero of=/big bs=1M count=%d conv=fsync"
        % megabytes)
    try:
        after = pool_used_blocks(host)
    finally:
        host.run("docker rm -f writer")
    grown = (after - before) * 512 * 1024
    assert grown >= megabytes * 2**20 * 0.95, (before, after)
