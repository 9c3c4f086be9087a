"""What a user would check after the thinpool scenario: the pool Docker's guide asks for."""

import json


def lvs(host, fields, target):
    out = host.check_output(
        "lvs --reportformat json --units b --nosuffix -a -o %s %s" % (",".join(fields), target))
    return json.loads(out)["report"][0]["lv"]


def test_docker_pool_spans_both_disks_at_95_percent(host):
    vg = json.loads(host.check_output(
        "vgs --reportformat json --units b --nosuffix -o vg_extent_count,vg_extent_size,pv_count docker"
    ))["report"][0]["vg"][0]
    assert vg["pv_count"] == "2"
    pool = lvs(host, ["lv_size", "lv_attr", "chunk_size", "seg_monitor", "lv_when_full"],
               "docker/thinpool")[0]
    extents = int(vg["vg_extent_count"]) * 95 // 100
    assert int(pool["lv_size"]) == extents * int(vg["vg_extent_size"])
    assert pool["lv_attr"][0] == "t" and pool["lv_attr"][4] == "a"
    assert pool["lv_attr"][7] != "z"  # zeroing off
    assert pool["chunk_size"] == "524288"
    assert pool["seg_monitor"] == "monitored"
    assert pool["lv_when_full"] == "error"


def test_pool_is_a_live_thin_pool_under_the_guide_name(host):
    assert "docker-thinpool: " in host.check_output("dmsetup status --target thin-pool")


def test_refused_ext4_device_still_holds_its_file(host):
    assert host.run("mount -o ro /dev/lab-ext4 /mnt/ext4").rc == 0
    try:
        assert host.file("/mnt/ext4/precious.txt").content_string == "keep-me\n"
    finally:
        host.run("umount /mnt/ext4")


def test_other_vg_and_mounted_device_untouched(host):
    assert host.run("vgs othervg").rc == 0
    assert host.mount_point("/mnt/busy").exists


def test_guide_vg_removed_and_its_pv_wiped_then_reused(host):
    assert host.run("vgs guide").rc != 0
    killed = lvs(host, ["lv_name", "lv_attr"], "killed")
    assert [lv["lv_name"] for lv in killed if lv["lv_attr"][0] == "t"] == ["pool"]
    # no leftovers of the guide's layout
    assert "thinpoolmeta" not in host.check_output("lvs -a --noheadings -o lv_name")


def test_partitioned_disk_survived_force_with_its_inner_vg(host):
    """issue 10 item 1: force must not wipe a disk whose partition is a PV of another VG."""
    assert host.run("vgs innervg").rc == 0
    assert host.run("vgchange -q -ay innervg").rc == 0
    try:
        assert host.check_output("head -c 8 /dev/innervg/precious") == "keep-me"
    finally:
        host.run("vgchange -q -an innervg")
