"""containerd's devmapper snapshotter in use: plugin ok, a container's root is a thin volume of the pool."""

import re

import pytest

IMAGE = "docker.io/library/busybox:lab"

# An OCI image archive from the busybox tarball baked into the lab image (no
# registry is reachable from the lab): one uncompressed layer, built in the VM.
OCI_ARCHIVE = r'''
import hashlib, io, json, tarfile
layer = open("/opt/lab/busybox.tar", "rb").read()
def blob(data):
    return "sha256:" + hashlib.sha256(data).hexdigest(), data
layer_digest, _ = blob(layer)
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                     "rootfs": {"type": "layers", "diff_ids": [layer_digest]}}).encode()
config_digest, _ = blob(config)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest,
               "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest,
                "size": len(layer)}]}).encode()
manifest_digest, _ = blob(manifest)
index = json.dumps({"schemaVersion": 2, "manifests": [{
    "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
    "size": len(manifest), "platform": {"architecture": "amd64", "os": "linux"},
    "annotations": {"io.containerd.image.name": "%s", "org.opencontainers.image.ref.name": "lab"}}]}).encode()
with tarfile.open("/root/busybox-oci.tar", "w") as archive:
    for name, data in [("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'), ("index.json", index),
                       ("blobs/sha256/" + layer_digest[7:], layer),
                       ("blobs/sha256/" + config_digest[7:], config),
                       ("blobs/sha256/" + manifest_digest[7:], manifest)]:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
''' % IMAGE


def pool_data_percent(host):
    out = host.check_output("lvs --noheadings -o data_percent docker/thinpool")
    return float(out.strip())


def test_devmapper_plugin_is_ok(host):
    plugins = host.check_output("ctr plugins ls")
    line = next(line for line in plugins.splitlines()
                if re.match(r"io\.containerd\.snapshotter\.v1\s+devmapper\s", line))
    assert line.split()[-1] == "ok", plugins


def test_effective_config_uses_the_pool(host):
    dump = host.check_output("containerd config dump")
    section = dump.split('[plugins."io.containerd.snapshotter.v1.devmapper"]', 1)[1].split("\n\n")[0]
    assert 'pool_name = "docker-thinpool"' in section
    assert 'base_image_size = "1GB"' in section
    assert 'root_path = "/var/lib/containerd/devmapper"' in section
    cri = dump.split('[plugins."io.containerd.grpc.v1.cri".containerd]', 1)[1].split("\n\n")[0]
    assert 'snapshotter = "devmapper"' in cri


def test_the_debian_file_kept_its_settings(host):
    config = host.file("/etc/containerd/config.toml").content_string
    assert 'bin_dir = "/usr/lib/cni"' in config
    assert 'path = "/var/lib/containerd/opt"' in config
    backups = host.check_output("ls /etc/containerd").split()
    assert any(name.startswith("config.toml.") for name in backups), backups


@pytest.fixture(scope="module")
def image(host):
    host.check_output("python3 - <<'PY'\n%s\nPY" % OCI_ARCHIVE)
    host.check_output("ctr images import --snapshotter devmapper /root/busybox-oci.tar")
    assert IMAGE in host.check_output("ctr images ls -q")
    return IMAGE


def test_container_root_is_a_thin_volume_of_the_pool(host, image):
    before = pool_data_percent(host)
    out = host.check_output(
        "ctr run --snapshotter devmapper %s writer /bin/sh -c "
        "'grep \" / \" /proc/mounts; df -k -P / | tail -1; "
        "dd if=/dev/urandom of=/big bs=1M count=100 2>/dev/null; sync; echo wrote'" % image)
    try:
        root_mount = out.splitlines()[0].split()
        assert root_mount[0].startswith("/dev/mapper/docker-thinpool-snap-"), out
        assert root_mount[2] == "ext4", out
        size_kib = int(out.splitlines()[1].split()[1])
        assert 900 * 1024 < size_kib < 1100 * 1024, out  # base_image_size 1GB
        assert out.strip().endswith("wrote"), out
        # the writer's snapshot is still there (container not removed): its data is in the pool
        after = pool_data_percent(host)
        pool_bytes = int(host.check_output(
            "lvs --noheadings --units b --nosuffix -o lv_size docker/thinpool").strip())
        assert (after - before) / 100.0 * pool_bytes > 90 * 1024 * 1024, (before, after)
    finally:
        host.run("ctr containers rm writer")


def test_lvm_sees_no_thin_volumes_of_its_own(host):
    # containerd makes its thin devices with dmsetup messages: LVM lists none of them,
    # containerd's own metadata under root_path keeps their ids
    lvs = host.check_output("lvs --noheadings -o lv_name docker").split()
    assert lvs == ["thinpool"], lvs
    assert host.file("/var/lib/containerd/devmapper/metadata.db").exists
