"""The devicemapper role put Docker 26 on containerd's devmapper snapshotter, on the role's pool."""

import json
import re


def pool_data_percent(host):
    return float(host.check_output("lvs --noheadings -o data_percent docker/thinpool").strip())


def test_docker_runs_on_the_devmapper_snapshotter(host):
    info = json.loads(host.check_output("docker info --format '{{json .}}'"))
    assert info["Driver"] == "devmapper", info["Driver"]
    assert ["driver-type", "io.containerd.snapshotter.v1"] in info["DriverStatus"], info["DriverStatus"]


def test_containerd_plugin_is_ok_and_the_pool_is_the_roles(host):
    plugins = host.check_output("ctr plugins ls")
    line = next(line for line in plugins.splitlines()
                if re.match(r"io\.containerd\.snapshotter\.v1\s+devmapper\s", line))
    assert line.split()[-1] == "ok", plugins
    section = host.check_output("containerd config dump").split(
        '[plugins."io.containerd.snapshotter.v1.devmapper"]', 1)[1].split("\n\n")[0]
    assert 'pool_name = "docker-thinpool"' in section
    assert 'base_image_size = "1GB"' in section
    # The role's pool: profile attached and monitored, as for the graph driver.
    lvs = host.check_output("lvs --noheadings -o lv_profile,seg_monitor docker/thinpool").split()
    assert lvs == ["docker-thinpool", "monitored"], lvs


def test_the_pool_is_activated_before_containerd_starts(host):
    dropin = host.file("/etc/systemd/system/containerd.service.d/devicemapper-thinpool.conf")
    assert dropin.exists
    assert "--activate y docker/thinpool" in dropin.content_string
    assert not host.file("/etc/systemd/system/docker.service.d/devicemapper-thinpool.conf").exists


def test_daemon_json_and_the_old_store_kept(host):
    config = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert config["storage-driver"] == "devmapper"
    assert config["features"]["containerd-snapshotter"] is True
    # Nothing deleted: the overlay2 store with the image imported in prepare is still there.
    assert host.file("/var/lib/docker/overlay2").is_directory
    assert host.check_output("ls /var/lib/docker/image/overlay2/imagedb/content/sha256")


def test_a_container_writes_into_the_pool(host):
    host.check_output("docker import /opt/lab/busybox.tar busybox:lab >/dev/null")
    before = pool_data_percent(host)
    host.check_output("docker run --name writer busybox:lab sh -c "
                      "'dd if=/dev/urandom of=/big bs=1M count=100 2>/dev/null && sync'")
    try:
        after = pool_data_percent(host)
        # 100 MiB of a pool of about 3.8 GiB is about 2.6 points.
        assert after - before > 2.0, (before, after)
    finally:
        host.run("docker rm writer")
