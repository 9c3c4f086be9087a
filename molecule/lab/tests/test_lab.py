"""The lab VM runs a real kernel with device-mapper thin provisioning."""


def test_kernel_is_debian_cloud(host):
    assert "cloud-amd64" in host.check_output("uname -r")


def test_spare_disk_is_a_block_device_with_a_stable_id(host):
    assert host.run("test -b /dev/vdb").rc == 0
    assert host.file("/dev/disk/by-id/virtio-labdisk1").linked_to == "/dev/vdb"


def test_dmsetup_lists_thin_pool_target(host):
    targets = host.check_output("dmsetup targets")
    assert "thin-pool" in targets.split()


def test_raw_lvm_thin_pool_is_active(host):
    attrs = host.check_output("lvs --noheadings -o lv_attr,chunk_size --units k labvg/pool").split()
    assert attrs[0][0] == "t", attrs  # a thin pool
    assert attrs[0][4] == "a", attrs  # active
    assert attrs[1].startswith("512"), attrs
    # the kernel, not only LVM's metadata, holds a thin-pool for it
    status = host.check_output("dmsetup status --target thin-pool")
    assert status.startswith("labvg-pool"), status


def test_docker_is_20_10_with_devicemapper_support(host):
    assert "20.10" in host.check_output("dockerd --version")
