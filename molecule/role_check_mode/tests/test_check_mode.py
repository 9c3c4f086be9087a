"""A refused run (dockerd 25) and a check-mode run of the role left a fresh host exactly as it was."""

import json


def test_no_pv_no_vg_no_signature_on_the_disk(host):
    assert host.check_output("pvs --noheadings -o pv_name") == ""
    assert host.run("vgs docker").rc != 0
    assert host.run("blkid /dev/vdb").rc == 2  # no signature at all


def test_ran_without_python3_apt(host):
    assert host.run("python3 -c 'import apt_pkg'").rc != 0
    assert host.run("python3 -c 'import apt'").rc != 0


def test_no_file_written(host):
    assert not host.file("/var/lib/container-storage-devicemapper").exists
    assert not host.file("/etc/lvm/profile/docker-thinpool.profile").exists
    assert not host.file("/etc/systemd/system/docker.service.d/devicemapper-thinpool.conf").exists
    assert host.check_output("sha256sum /etc/docker/daemon.json") == \
        host.file("/root/daemon-json-prepare").content_string.strip()
    assert host.check_output("ls -d /etc/docker/daemon.json* | wc -l") == "1"  # no backup either


def test_docker_untouched(host):
    now = host.check_output("systemctl show docker -p MainPID -p ActiveEnterTimestampMonotonic")
    assert now == host.file("/root/docker-started-prepare").content_string.strip()
    info = json.loads(host.check_output("docker info --format '{{json .}}'"))
    assert info["Driver"] == "overlay2"
    assert info["Images"] == 1
    assert not host.service("docker").is_enabled  # the lab image keeps it disabled


def test_data_root_not_moved(host):
    assert host.check_output("ls /var/lib/docker") == host.file("/root/data-root-prepare").content_string.strip()
    assert host.run("ls -d /var/lib/docker.bk-*").rc != 0
