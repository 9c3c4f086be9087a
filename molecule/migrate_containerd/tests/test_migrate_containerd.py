"""Docker 26 moved from overlay2 to the containerd image store on the devmapper snapshotter."""

import json


def test_docker_runs_on_the_devmapper_snapshotter(host):
    info = json.loads(host.check_output("docker info --format '{{json .}}'"))
    assert info["Driver"] == "devmapper"
    assert dict(info["DriverStatus"])["driver-type"] == "io.containerd.snapshotter.v1"
    config = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert config == {"features": {"containerd-snapshotter": True}, "storage-driver": "devmapper"}
    toml = host.file("/etc/containerd/config.toml").content_string
    assert 'pool_name = "docker-thinpool"' in toml


def test_every_image_carried_under_its_containerd_id_with_its_tags(host):
    """In the containerd image store an image's ID is its manifest's digest: the record holds it."""
    state = json.loads(host.file("/var/lib/container-storage-migrate/state.json").content_string)
    assert state["phase"] == "done"
    assert state["target"] == "containerd-snapshotter"
    before = host.file("/root/ids-before").content_string.split()
    by_old_id = {image["id"]: image for image in state["images"]}
    assert sorted(by_old_id) == sorted(before)
    tags = {}
    for old_id in before:
        store_id = by_old_id[old_id]["store_id"]
        assert store_id != old_id
        out = host.check_output("docker image inspect --format '{{.Id}} {{range .RepoTags}}{{.}} {{end}}' %s" % store_id)
        found = out.split()
        assert found[0] == store_id
        tags[old_id] = sorted(found[1:])
    assert tags[before[0]] == ["lab/a:1"]
    assert tags[before[1]] == ["lab/b:1", "lab/b:latest"]
    assert tags[before[2]] == []  # the untagged image the stopped container used


def test_the_manifest_digest_names_the_old_config(host):
    """The record's containerd ID is the archive's manifest, whose config is the old image ID."""
    state = json.loads(host.file("/var/lib/container-storage-migrate/state.json").content_string)
    image = state["images"][0]
    manifest = json.loads(host.check_output(
        "tar -xOf /var/tmp/docker-export/%s blobs/sha256/%s" % (image["file"], image["store_id"].split(":")[1])))
    assert manifest["config"]["digest"] == image["id"]


def test_named_volume_file_kept_and_images_run_from_the_pool(host):
    out = host.check_output("docker run --rm -v labdata:/data lab/a:1 /bin/busybox cat /data/file")
    assert out == "kept-in-volume"
    status = host.check_output("dmsetup status docker-thinpool").split()
    used_data = int(status[5].split("/")[0])
    assert used_data > 0


def test_old_store_kept_until_confirmation(host):
    assert host.file("/var/lib/docker/overlay2").is_directory
    assert host.file("/var/lib/docker/image/overlay2").is_directory


def test_user_defined_network_kept_and_in_the_inventory(host):
    """Issue 26: the networks are part of the inventory the store is checked against after the switch."""
    found = host.check_output("docker network inspect --format '{{.Driver}} {{range .IPAM.Config}}{{.Subnet}}{{end}}' labnet")
    assert found == "bridge 172.31.9.0/24"
    record = json.loads(host.file("/var/lib/container-storage-migrate/state.json").content_string)
    assert [net["name"] for net in record["inventory"]["networks"]] == ["labnet"]
    assert record["inventory"]["volume_digests"]["labdata"]["files"] == 1
