"""Live table changes: devices grown, file systems readable all along, Docker's pool grown."""

import json

import pytest


def table(host, name):
    return host.check_output("dmsetup table %s" % name).split()


@pytest.mark.parametrize("name, length", [("labl", 260096), ("labg", 391168)])
def test_devices_grown_and_active(host, name, length):
    assert int(table(host, name)[1]) == length
    assert int(host.check_output("blockdev --getsz /dev/mapper/%s" % name)) == length
    attr = host.check_output("dmsetup info -c --noheadings -o attr %s" % name)
    assert "s" not in attr, "device left suspended: %s" % attr


@pytest.mark.parametrize("name", ["labl", "labg"])
def test_file_system_still_mounted_with_its_data(host, name):
    assert host.mount_point("/mnt/%s" % name).exists
    expected = host.file("/root/%s.sha256" % name).content_string
    actual = host.check_output(
        "dd if=/mnt/%s/probe bs=64k iflag=direct status=none | sha256sum" % name)
    assert actual.strip() == expected.strip()
    # The file system can use the new space.
    host.check_output("resize2fs /dev/mapper/%s" % name)


def test_reads_never_failed_nor_stalled(host):
    assert host.run("kill -0 $(cat /root/probe-reader.pid)").rc == 0, "reader died"
    assert not host.file("/root/probe.err").exists, host.file("/root/probe.err").content_string
    stamps = [float(x) for x in host.file("/root/probe.log").content_string.split()]
    assert len(stamps) > 50
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    # Each round is two 1 MiB direct reads and a 0.2 s sleep; a device left
    # suspended would hold a read until the next resume.
    assert max(gaps) < 20, "reads stalled for %.1f s" % max(gaps)
    now = float(host.check_output("date +%s.%N"))
    assert now - stamps[-1] < 20


def driver_status(host):
    return dict(json.loads(host.check_output("docker info --format '{{json .DriverStatus}}'")))


def to_bytes(text):
    number, unit = float(text[:-2]), text[-2:]
    return number * {"kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}[unit]


def test_docker_pool_grown_to_3g(host):
    before = dict(json.loads(host.file("/root/docker-before.json").content_string))
    after = driver_status(host)
    assert after["Pool Name"] == before["Pool Name"]
    assert to_bytes(before["Data Space Total"]) == pytest.approx(2 * 2**30, rel=0.01)
    assert to_bytes(after["Data Space Total"]) == pytest.approx(3 * 2**30, rel=0.01)
    assert host.file(after["Data loop file"]).size == 3 * 2**30


def test_container_kept_running(host):
    expected = host.file("/root/sleeper.id").content_string.strip()
    state = json.loads(host.check_output("docker inspect sleeper"))[0]
    assert state["Id"] == expected
    assert state["State"]["Running"] is True
    assert state["RestartCount"] == 0
    started = state["State"]["StartedAt"]
    # its root file system is a thin device of the grown pool
    out = host.check_output(
        "docker exec sleeper /bin/busybox sh -c 'echo written > /probe; /bin/busybox cat /probe'")
    assert out == "written"
    assert json.loads(host.check_output("docker inspect sleeper"))[0]["State"]["StartedAt"] == started
