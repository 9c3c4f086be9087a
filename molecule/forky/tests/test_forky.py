"""Debian forky: Docker 28 moved from overlay2 to containerd 2's devmapper snapshotter."""

import json
import tomllib

DEVMAPPER = "io.containerd.snapshotter.v1.devmapper"


def test_the_version_3_file_kept_its_settings_and_got_the_devmapper_ones(host):
    """`containerd config default` writes the devmapper table with empty values: the module
    fills in the role's, and every other setting stays as containerd wrote it."""
    before = tomllib.loads(host.file("/root/config-default.toml").content_string)
    after = tomllib.loads(host.file("/etc/containerd/config.toml").content_string)
    assert before["version"] == after["version"] == 3
    assert before["plugins"][DEVMAPPER]["pool_name"] == ""
    wanted = dict(before["plugins"][DEVMAPPER], pool_name="docker-thinpool",
                  root_path="/var/lib/containerd/devmapper", base_image_size="1GB")
    wanted.update(discard_blocks=True, fs_type="ext4")  # the role's defaults
    assert after["plugins"].pop(DEVMAPPER) == wanted
    before["plugins"].pop(DEVMAPPER)
    # The CRI plugin's default snapshotter is left alone (devicemapper_cri_default_snapshotter is false).
    assert after == before


def test_containerds_devmapper_plugin_is_ok(host):
    rows = [line.split() for line in host.check_output("ctr plugins ls").splitlines()]
    assert ["io.containerd.snapshotter.v1", "devmapper", "linux/amd64", "ok"] in rows


def test_docker_runs_on_the_devmapper_snapshotter(host):
    info = json.loads(host.check_output("docker info --format '{{json .}}'"))
    assert info["Driver"] == "devmapper"
    assert dict(info["DriverStatus"])["driver-type"] == "io.containerd.snapshotter.v1"
    assert info["ServerVersion"].startswith("28.")
    config = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert config == {"features": {"containerd-snapshotter": True}, "storage-driver": "devmapper"}


def test_every_image_carried_with_its_tags(host):
    state = json.loads(host.file("/var/lib/container-storage-migrate/state.json").content_string)
    assert state["phase"] == "done"
    assert state["target"] == "containerd-snapshotter"
    before = host.file("/root/ids-before").content_string.split()
    by_old_id = {image["id"]: image for image in state["images"]}
    assert sorted(by_old_id) == sorted(before)
    tags = []
    for old_id in before:
        out = host.check_output("docker image inspect --format '{{range .RepoTags}}{{.}} {{end}}' %s"
                                % by_old_id[old_id]["store_id"])
        tags.append(sorted(out.split()))
    assert tags == [["lab/a:1"], ["lab/b:1", "lab/b:latest"]]


def test_named_volume_file_kept_and_containers_write_in_the_pool(host):
    out = host.check_output("docker run --rm -v labdata:/data lab/a:1 /bin/busybox cat /data/file")
    assert out == "kept-in-volume"
    status = host.check_output("dmsetup status docker-thinpool").split()
    assert int(status[5].split("/")[0]) > 0
