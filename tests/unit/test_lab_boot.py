"""tools/lab/lab.py: how the boot wait judges a guest alive, and how a restored guest's
spare disks are checked (no VM)."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools", "lab"))

import lab  # noqa: E402


def test_a_slow_suite_gets_a_longer_stall_window_and_timeout():
    bookworm_stall, bookworm_timeout = lab.boot_limits("bookworm")
    trixie_stall, trixie_timeout = lab.boot_limits("trixie")
    # Debian 13 needed about 75 s to SSH on a loaded host: its stall window must outlast that.
    assert trixie_stall > lab.SUITE_BOOT_SECONDS["trixie"]
    assert trixie_stall > bookworm_stall >= lab.BOOT_STALL_SECONDS
    assert trixie_timeout > bookworm_timeout >= lab.BOOT_TIMEOUT
    # an unknown suite is treated as the slowest known one
    assert lab.boot_limits("forky") == (trixie_stall, trixie_timeout)


def test_a_silent_console_with_a_silent_port_is_a_stall():
    watch = lab.BootWatch(60, now=0)
    assert not watch.observe(0, 100, False, "closed")
    assert not watch.observe(60, 100, False, "closed")
    assert watch.observe(61, 100, False, "closed")


def test_console_output_or_a_change_at_the_ssh_port_is_progress():
    watch = lab.BootWatch(60, now=0)
    watch.observe(0, 100, False, "closed")
    assert not watch.observe(50, 200, False, "closed")    # the console grew
    assert not watch.observe(100, 200, False, "silent")   # the port now accepts, sshd not yet
    assert not watch.observe(150, 200, False, "silent")
    assert watch.observe(161, 200, False, "silent")


def test_a_guest_at_its_login_prompt_is_not_stalled_while_sshd_is_slow():
    # The case: the console reached login at 55 s, then nothing for more than 60 s
    # while sshd started on a loaded host.
    watch = lab.BootWatch(60, now=0)
    watch.observe(55, 5000, True, "closed")
    assert not watch.observe(200, 5000, True, "closed")
    # the login prompt, once seen, stays seen (the console log only grows)
    assert not watch.observe(400, 5000, False, "closed")


def test_the_disk_check_expects_root_then_the_spare_disks_in_order():
    assert lab.expected_disk_serials(0) == {"vda": "labroot"}
    assert lab.expected_disk_serials(3) == {"vda": "labroot", "vdb": "labdisk1", "vdc": "labdisk2",
                                            "vdd": "labdisk3"}


def test_a_restored_guest_with_its_disks_out_of_order_does_not_pass_the_check():
    output = "vda labroot\nvdb labdisk2\nvdc labdisk1\n"
    assert lab.parse_disk_serials(output) == {"vda": "labroot", "vdb": "labdisk2", "vdc": "labdisk1"}
    assert lab.parse_disk_serials(output) != lab.expected_disk_serials(2)
    missing = "vda labroot\nvdb labdisk1\n"
    assert lab.parse_disk_serials(missing) != lab.expected_disk_serials(2)


def test_the_disk_check_waits_for_root_and_every_spare_disk():
    command = lab.disk_check_command(3)
    assert '-lt 4 ]' in command
    assert command.startswith("set -e; date -u -s @")


def test_spare_disks_take_the_slots_after_root_and_network():
    assert [lab.disk_pci_slot(index) for index in (1, 2, 3)] == [4, 5, 6]
    argv = lab.qemu_argv({"dir": "/d", "image": "/i", "memory": 1536, "cpus": 2, "port": 2222,
                          "disks": ["/d/disk1.qcow2", "/d/disk2.qcow2"]})
    devices = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-device"]
    assert devices == ["virtio-blk-pci,drive=root,serial=labroot,addr=0x2",
                       "vmgenid,guid=auto",
                       "virtio-net-pci,netdev=net0,addr=0x3",
                       "virtio-blk-pci,drive=disk1,serial=labdisk1,addr=0x4",
                       "virtio-blk-pci,drive=disk2,serial=labdisk2,addr=0x5"]
    # a restore starts with root and network only; the spare disks are plugged in after
    restore = lab.qemu_argv({"dir": "/d", "image": "/i", "memory": 1536, "cpus": 2, "port": 2222,
                             "disks": ["/d/disk1.qcow2"]}, incoming_fd=7)
    assert restore[-2:] == ["-incoming", "fd:7"]
    assert [restore[i + 1] for i, arg in enumerate(restore) if arg == "-device"] == devices[:3]


def test_building_the_image_prints_only_its_path_on_stdout(tmp_path):
    """`lab.py up --json` builds the image when the cache has none: mkfs.ext4 -q still says
    "Creating regular file ..." (seen on this host), which once went to stdout before the
    JSON, and molecule's create step failed with a JSONDecodeError instead of booting."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stand_ins = {
        "ssh-keygen": 'while [ $# -gt 1 ]; do shift; done; : > "$1"; echo "key made"',
        # mmdebstrap ... SUITE TREE MIRROR: make the tree's kernel and initrd
        "mmdebstrap": 'for a; do tree=$prev; prev=$a; done; mkdir -p "$tree/boot"; '
                      ': > "$tree/boot/vmlinuz-6.1.0-lab"; : > "$tree/boot/initrd.img-6.1.0-lab"; echo "I: done"',
        "mkfs.ext4": 'for a; do img=$prev; prev=$a; done; : > "$img"; echo "Creating regular file $img"',
    }
    for name, body in stand_ins.items():
        path = bin_dir / name
        path.write_text("#!/bin/sh\n" + body + "\n")
        path.chmod(0o755)
    env = dict(os.environ, LAB_CACHE=str(tmp_path / "cache"),
               PATH=str(bin_dir) + os.pathsep + os.environ["PATH"])
    script = os.path.join(os.path.dirname(lab.__file__), "lab.py")
    result = subprocess.run([sys.executable, script, "build", "--suite", "bookworm"], env=env,
                            capture_output=True, text=True, check=True)
    image = result.stdout.strip()
    assert result.stdout == image + "\n"
    assert os.path.exists(os.path.join(image, "ready"))
    assert "Creating regular file" in result.stderr
