"""The devicemapper role put Docker 26 on containerd's devmapper snapshotter, on the role's pool."""

import json
import re
import time


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
        # 100 MiB of a pool of about 0.8 GiB (20%VG) is about 12 points.
        assert after - before > 2.0, (before, after)
    finally:
        host.run("docker rm writer")


def pool_bytes(host):
    return int(host.check_output("lvs --noheadings --units b --nosuffix -o lv_size docker/thinpool").strip())


def test_the_autoextend_profile_grows_the_pool_under_containerds_writes(host):
    """dmeventd grows the pool by the role's profile (threshold 80, percent 20) when a
    container's writes through the snapshotter pass the threshold, as on the graph driver."""
    size = pool_bytes(host)
    used = pool_data_percent(host) / 100 * size
    # To 88% of the pool: past the threshold, and within the container's 1 GB base volume.
    megabytes = int((0.88 * size - used) / 2**20) + 1
    assert 0 < megabytes < 900, (size, used)
    host.check_output("docker run --name filler busybox:lab dd if=/dev/zero of=/fill bs=1M count=%d conv=fsync"
                      % megabytes)
    try:
        deadline = time.time() + 180
        grown = pool_bytes(host)
        while grown == size and time.time() < deadline:
            time.sleep(5)
            grown = pool_bytes(host)
        # One step is 20% of the pool (rounded up to whole extents), and it brings the use below 80% again.
        assert grown >= size * 1.19, (size, grown)
        assert pool_data_percent(host) < 80.0
    finally:
        host.run("docker rm filler")
