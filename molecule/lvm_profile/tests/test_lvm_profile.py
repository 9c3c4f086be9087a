"""lvm_profile in a real VM: the file, the attachments, and dmeventd really growing the pool."""

import time

ONE_GIB = 1024 ** 3
PROFILE = "/etc/lvm/profile/autoextend60.profile"


def pool(host, name):
    fields = host.check_output(
        "lvs --noheadings --units b --nosuffix --separator , "
        "-o lv_size,data_percent,lv_profile,seg_monitor labvg/%s" % name).strip().split(",")
    return {"size": int(fields[0]), "data_percent": float(fields[1]),
            "profile": fields[2], "monitor": fields[3]}


def written_at(host):
    return int(host.file("/root/autoextend_written_at").content_string.strip())


def test_profile_file_is_managed_root_owned_0644(host):
    profile = host.file(PROFILE)
    assert profile.user == "root" and profile.group == "root"
    assert profile.mode == 0o644
    content = profile.content_string
    assert content.startswith("# LVM metadata profile 'autoextend60', managed by Ansible")
    assert "\tthin_pool_autoextend_threshold = 60\n" in content
    assert "\tthin_pool_autoextend_percent = 20\n" in content
    # LVM itself reads the file back with the values we wrote
    merged = host.check_output("lvmconfig --metadataprofile autoextend60 --mergedconfig "
                               "activation/thin_pool_autoextend_threshold")
    assert merged.strip() == "thin_pool_autoextend_threshold=60"


def test_only_labvg_grow_uses_the_profile_and_both_are_monitored(host):
    assert pool(host, "grow")["profile"] == "autoextend60"
    assert pool(host, "still")["profile"] == ""
    assert pool(host, "grow")["monitor"] == "monitored"
    assert pool(host, "still")["monitor"] == "monitored"


def test_absent_removed_the_scratch_profile(host):
    assert not host.file("/etc/lvm/profile/scratch.profile").exists
    assert not host.file("/etc/lvm/profile/never-written.profile").exists
    # removed only after VG sparevg (no LV) stopped using it
    assert not host.file("/etc/lvm/profile/vgonly.profile").exists
    assert host.check_output("vgs --noheadings -o vg_profile sparevg").strip() == ""


def test_pool_with_the_profile_grows_within_a_minute(host):
    # the guest's clock wrote written_at; count the minute on it, not the controller's
    guest_now = int(host.check_output("date +%s"))
    deadline = time.time() + written_at(host) + 60 - guest_now
    grow = pool(host, "grow")
    while grow["size"] <= ONE_GIB and time.time() < deadline:
        time.sleep(2)
        grow = pool(host, "grow")
    assert grow["size"] > ONE_GIB, "labvg/grow did not grow within 60 s: %r" % grow
    # +20% of 1G, rounded up to whole 4M extents
    assert grow["size"] >= int(ONE_GIB * 1.2)
    resized = [line for line in host.check_output(
        "journalctl -u dm-event --no-pager -o short-unix").splitlines()
        if "labvg/grow successfully resized" in line]
    assert resized, "no dmeventd resize of labvg/grow in the journal"
    delay = float(resized[0].split()[0]) - written_at(host)
    # negative: dmeventd saw 60% cross while the 700M were still being written
    print("labvg/grow: %d bytes, %.2f%% used; dmeventd resized it %+.0f s from the end of the write"
          % (grow["size"], grow["data_percent"], delay))
    assert delay <= 60


def test_pool_without_the_profile_does_not_grow(host):
    # dmeventd looks at the pools every 10 s; give it two rounds after labvg/grow grew.
    time.sleep(max(0, written_at(host) + 25 - int(host.check_output("date +%s"))))
    still = pool(host, "still")
    assert still["data_percent"] > 60, "labvg/still was not filled past 60%%: %r" % still
    assert still["size"] == ONE_GIB, "labvg/still grew without a profile: %r" % still
    logs = host.check_output("journalctl -u dm-event --no-pager -o cat")
    assert "labvg/still successfully resized" not in logs
