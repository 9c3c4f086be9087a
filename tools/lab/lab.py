#!/usr/bin/env python3
"""The VM lab: Debian 12 (or 13) guests with a real kernel and spare disks.

This host's kernel has no device-mapper, so everything that touches LVM or
dmsetup is exercised in qemu guests built and run by this tool.

    lab.py build [--suite S]           build (or reuse) the cached image
    lab.py up NAME [--suite S] [--disks N] [--disk-size 10G] [--json]
    lab.py ssh NAME [-- COMMAND...]
    lab.py cycle NAME [--hard]         power-cycle, disks kept
    lab.py down NAME | --all
    lab.py list
    lab.py run [--suite S] [--disks N] [--keep] -- COMMAND...   boot, run
        COMMAND with LAB_INVENTORY set (and {inventory} replaced), always tear down

Suites: bookworm (Debian 12, Docker 20.10 with devicemapper; the default),
bookworm-minimal (Debian 12 with Docker but without lvm2, thin-provisioning-tools
and python3-apt, as a cloud image has it), trixie (Debian 13, Docker 26 and
containerd 1.7, for containerd's devmapper snapshotter) and forky (Debian testing,
Docker 28 and containerd 2 with its config version 3). Each has its own cached image. LAB_SUITE sets the default suite
for tools that call up() without one (tools/lab/record_fixtures.py).

A VM starts from a snapshot of a just-booted guest of its image when it can: the
first `up` of an image (per CPU count and memory) boots it cold with no spare disk,
saves its RAM and root disk under the image's cache directory, and every later `up`
restores that in seconds instead of a 25-75 s boot, gives it its own root overlay,
plugs in its new spare disks, sets its clock and checks it sees the disks in order.
A restore that fails falls back to a cold boot; LAB_SNAPSHOT=0 always boots cold.
`cycle` always boots cold (a real power cycle).

Software emulation is the default: on these machines /dev/kvm opens but a
Linux guest hangs at kernel start. Set LAB_ACCEL=kvm to opt in to KVM.
"""

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE_DIR = os.environ.get(
    "LAB_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "container-storage-lab")
)
STATE_DIR = os.environ.get("LAB_STATE_DIR", "/tmp/container-storage-lab")
MIRROR = os.environ.get("LAB_MIRROR", "http://deb.debian.org/debian")
SUITE = "bookworm"
PACKAGES = [
    "linux-image-cloud-amd64", "systemd-sysv", "udev", "openssh-server", "python3",
    "python3-apt", "lvm2", "thin-provisioning-tools", "docker.io", "apparmor",
    "busybox-static", "iproute2", "kmod", "procps", "e2fsprogs", "xfsprogs",
    "util-linux", "jq",
]
# The monitor scenario's exporter and curl, baked in (installing them in a booted
# guest took minutes of its run); customize.sh leaves the exporter disabled.
MONITOR_PACKAGES = ["prometheus-node-exporter", "curl"]
# Debian 13: Docker 26 has no devicemapper graph driver; containerd 1.7 has the
# devmapper snapshotter. trixie ships the docker CLI apart from docker.io.
TRIXIE_PACKAGES = PACKAGES + ["docker-cli", "containerd"]
# A Debian 12 host as a cloud image has it: Docker, but no lvm2,
# thin-provisioning-tools or python3-apt (the role's first run installs them).
MINIMAL_PACKAGES = [name for name in PACKAGES
                    if name not in ("lvm2", "thin-provisioning-tools", "python3-apt")]
# Suite name -> (Debian suite, packages, extra mmdebstrap options).
SUITES = {
    "bookworm": ("bookworm", PACKAGES + MONITOR_PACKAGES, []),
    # Installing lvm2 rebuilds the guest's initramfs (minutes under emulation), which the
    # lab never boots: qemu starts the guest with the image's own copy (qemu_argv).
    "bookworm-minimal": ("bookworm", MINIMAL_PACKAGES, [
        "--customize-hook=sed -i 's/^update_initramfs=.*/update_initramfs=no/' "
        "\"$1/etc/initramfs-tools/update-initramfs.conf\""]),
    "trixie": ("trixie", TRIXIE_PACKAGES, []),
    # Debian testing: Docker 28, containerd 2 (config version 3), Python 3.14. The
    # mirror's forky Release file can be past its Valid-Until date.
    "forky": ("forky", TRIXIE_PACKAGES, ["--aptopt=Acquire::Check-Valid-Until \"false\""]),
}
DEFAULT_SUITE = os.environ.get("LAB_SUITE", SUITE)
ROOT_SIZE = "3G"
BOOT_TIMEOUT = int(os.environ.get("LAB_BOOT_TIMEOUT", "240"))
# A guest that shows no progress this long (console silent, the SSH port unchanged)
# before its login prompt is a hung boot, not a slow one. Both grow with the suite's
# boot time (boot_limits).
BOOT_STALL_SECONDS = int(os.environ.get("LAB_BOOT_STALL_SECONDS", "60"))
# Seconds from qemu's start to SSH, measured on a loaded 2-core host under emulation.
SUITE_BOOT_SECONDS = {"bookworm": 27, "trixie": 75}
# Restore VMs from a snapshot of a just-booted guest (see up()); 0 boots every VM cold.
USE_SNAPSHOTS = os.environ.get("LAB_SNAPSHOT", "1") != "0"
# Bump when qemu_argv's devices change: a snapshot restores only into the same devices.
SNAPSHOT_FORMAT = 2
BOOT_ATTEMPTS = 3
# A VM outlives no test run: qemu is started under `timeout`.
VM_MAX_LIFETIME = os.environ.get("LAB_VM_MAX_LIFETIME", "4h")
SSH_OPTIONS = [
    "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
]


def log(msg):
    print("lab: %s" % msg, file=sys.stderr, flush=True)


class LabError(Exception):
    pass


# ---------------------------------------------------------------- the image

def suite_recipe(suite):
    """(Debian suite, packages, extra mmdebstrap options) of a lab suite."""
    if suite not in SUITES:
        raise LabError("unknown suite %r (known: %s)" % (suite, ", ".join(sorted(SUITES))))
    return SUITES[suite]


def suite_packages(suite):
    return suite_recipe(suite)[1]


def recipe_hash(suite=SUITE):
    """Key of the image cache: everything that decides the image's content."""
    digest = hashlib.sha256()
    debian_suite, packages, options = suite_recipe(suite)
    digest.update(json.dumps([debian_suite, MIRROR, sorted(packages), ROOT_SIZE]
                             + ([options] if options else [])).encode())
    for name in ("customize.sh", "lab_zipimport_cache.py"):
        with open(os.path.join(HERE, name), "rb") as hook:
            digest.update(hook.read())
    return digest.hexdigest()[:16]


def image_dir(suite=SUITE):
    return os.path.join(CACHE_DIR, "images", recipe_hash(suite))


def build_image(suite=SUITE):
    """Build the image unless the cache already holds one for this recipe."""
    target = image_dir(suite)
    if os.path.exists(os.path.join(target, "ready")):
        return target
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder; the others wait and reuse
        if os.path.exists(os.path.join(target, "ready")):
            return target
        started = time.time()
        work = tempfile.mkdtemp(prefix="build-", dir=os.path.dirname(target))
        try:
            key = os.path.join(work, "id_ed25519")
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lab",
                            "-f", key], check=True, stdout=sys.stderr)
            tree = os.path.join(work, "tree")
            hook = 'sh %s "$1" %s' % (os.path.join(HERE, "customize.sh"), key + ".pub")
            log("building the %s image with mmdebstrap (about a minute)" % suite)
            debian_suite, packages, options = suite_recipe(suite)
            subprocess.run(["mmdebstrap", "--variant=minbase", "--quiet"] + options
                           + ["--include=" + ",".join(packages),
                              "--customize-hook=" + hook, debian_suite, tree, MIRROR],
                           check=True, stdout=sys.stderr)
            boot = os.path.join(tree, "boot")
            for prefix, name in (("vmlinuz-", "vmlinuz"), ("initrd.img-", "initrd.img")):
                found = sorted(f for f in os.listdir(boot) if f.startswith(prefix))
                if not found:
                    raise LabError("the image has no %s*" % prefix)
                shutil.copy(os.path.join(boot, found[-1]), os.path.join(work, name))
            subprocess.run(["mkfs.ext4", "-q", "-d", tree, "-L", "root",
                            os.path.join(work, "root.img"), ROOT_SIZE],
                           check=True, stdout=sys.stderr)
            shutil.rmtree(tree)
            with open(os.path.join(work, "ready"), "w") as ready:
                ready.write("built in %.0f s\n" % (time.time() - started))
            if os.path.exists(target):
                shutil.rmtree(target)
            os.rename(work, target)
            log("image ready in %.0f s: %s" % (time.time() - started, target))
        finally:
            if os.path.exists(work):
                shutil.rmtree(work, ignore_errors=True)
    return target


# ---------------------------------------------------------------- the VMs

def vm_dir(name):
    return os.path.join(STATE_DIR, name)


def free_port():
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_json(path):
    with open(path) as handle:
        return json.load(handle)


def write_json(path, data):
    with open(path + ".tmp", "w") as handle:
        json.dump(data, handle, indent=2)
    os.rename(path + ".tmp", path)


def vm_config(name):
    path = os.path.join(vm_dir(name), "vm.json")
    if not os.path.exists(path):
        raise LabError("no VM named %s (see `lab.py list`)" % name)
    return read_json(path)


def qemu_argv(config, incoming_fd=None):
    """qemu's command line; with ``incoming_fd`` it restores a snapshot (spare disks are
    plugged in afterwards, see restore_snapshot)."""
    accel = os.environ.get("LAB_ACCEL", "tcg")
    if accel == "kvm":
        accel_args = ["-accel", "kvm", "-cpu", "host"]
    else:
        accel_args = ["-accel", "tcg,thread=multi", "-cpu", os.environ.get("LAB_CPU", "max")]
    directory = config["dir"]
    argv = ["timeout", "--signal=KILL", VM_MAX_LIFETIME, "qemu-system-x86_64"] + accel_args + [
        "-m", str(config["memory"]), "-smp", str(config["cpus"]),
        "-display", "none", "-monitor", "none", "-no-user-config", "-nodefaults",
        "-serial", "file:" + os.path.join(directory, "console.log"),
        "-pidfile", os.path.join(directory, "qemu.pid"),
        "-qmp", "unix:%s,server=on,wait=off" % os.path.join(directory, "qmp.sock"),
        "-kernel", os.path.join(config["image"], "vmlinuz"),
        "-initrd", os.path.join(config["image"], "initrd.img"),
        "-append", "root=LABEL=root rw console=ttyS0 systemd.show_status=0",
        # Explicit devices and PCI slots, root first (so vda, vdb, ...): a disk plugged
        # into a restored guest takes the slot it has in a cold boot.
        "-drive", "file=%s,if=none,id=root,format=qcow2,cache=unsafe"
                  % os.path.join(directory, "root.qcow2"),
        "-device", "virtio-blk-pci,drive=root,serial=labroot,addr=0x%x" % ROOT_PCI_SLOT,
        # A restored guest gets a new generation ID, so its kernel reseeds its random
        # numbers instead of repeating the snapshot's.
        "-device", "vmgenid,guid=auto",
        "-netdev", "user,id=net0,hostfwd=tcp:127.0.0.1:%d-:22" % config["port"],
        "-device", "virtio-net-pci,netdev=net0,addr=0x%x" % NET_PCI_SLOT,
    ]
    if incoming_fd is not None:
        return argv + ["-incoming", "fd:%d" % incoming_fd]
    for index, disk in enumerate(config["disks"], start=1):
        argv += ["-drive", "file=%s,if=none,id=disk%d,format=qcow2,cache=unsafe" % (disk, index),
                 "-device", "virtio-blk-pci,drive=disk%d,serial=labdisk%d,addr=0x%x"
                 % (index, index, disk_pci_slot(index))]
    return argv


ROOT_PCI_SLOT, NET_PCI_SLOT = 2, 3


def disk_pci_slot(index):
    return NET_PCI_SLOT + index


def qemu_pid(config):
    try:
        with open(os.path.join(config["dir"], "qemu.pid")) as handle:
            pid = int(handle.read().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def start_qemu(config, incoming=None):
    """Start qemu (a cold boot, or with ``incoming``, an open snapshot state file, a restore)."""
    for stale in ("qemu.pid", "qmp.sock"):
        if os.path.exists(os.path.join(config["dir"], stale)):
            os.unlink(os.path.join(config["dir"], stale))
    with open(os.path.join(config["dir"], "console.log"), "ab"):
        pass
    incoming_fd = incoming.fileno() if incoming is not None else None
    with open(os.path.join(config["dir"], "qemu.log"), "ab") as qlog:
        # own session: the VM must not die with the shell that started it
        # (molecule's create step); `down` and the callers' traps end it.
        proc = subprocess.Popen(qemu_argv(config, incoming_fd), stdin=subprocess.DEVNULL,
                                stdout=qlog, stderr=qlog, start_new_session=True,
                                pass_fds=() if incoming_fd is None else (incoming_fd,))
    config["launcher_pid"] = proc.pid
    write_json(os.path.join(config["dir"], "vm.json"), config)
    return proc


def ssh_argv(config, command=None):
    argv = ["ssh"] + SSH_OPTIONS + ["-i", config["identity_file"], "-p", str(config["port"]),
                                    "root@127.0.0.1"]
    if command:
        argv += ["--"] + list(command)
    return argv


def console_tail(config, lines=40):
    path = os.path.join(config["dir"], "console.log")
    try:
        with open(path, errors="replace") as handle:
            tail = handle.read().splitlines()[-lines:]
    except OSError:
        tail = []
    return "\n".join(["--- serial console of %s (last %d lines) ---" % (config["name"], lines)]
                     + tail + ["--- end of console ---"])


BOOT_FAILURES = ("Dropping to a shell", "Kernel panic", "emergency mode")
# serial-getty's prompt: the guest's userspace is up, sshd is (slowly) on its way.
LOGIN_PROMPT = "login:"


def read_console(config):
    try:
        with open(config["console_log"], errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def boot_failure(text):
    return next((marker for marker in BOOT_FAILURES if marker in text), None)


class BootStalled(LabError):
    pass


def boot_limits(suite):
    """(stall seconds, timeout seconds) for a cold boot of ``suite``: both grow with the
    suite's known boot time, so a Debian 13 guest on a loaded host is not cut short."""
    expected = SUITE_BOOT_SECONDS.get(suite, max(SUITE_BOOT_SECONDS.values()))
    return max(BOOT_STALL_SECONDS, 2 * expected), max(BOOT_TIMEOUT, 4 * expected)


class BootWatch:
    """Judges from what a booting guest shows whether it is alive.

    Progress is new console output or a change in what the SSH port answers (closed,
    silent, a banner). A guest whose console reached its login prompt is alive: from
    there only the overall timeout applies, since sshd may take long on a loaded host.
    """

    def __init__(self, stall_seconds, now):
        self.stall_seconds = stall_seconds
        self.last_progress = now
        self.seen = None
        self.at_login = False

    def observe(self, now, console_size, at_login, port_state):
        """Record one look at the guest; True when it counts as stalled."""
        self.at_login = self.at_login or at_login
        state = (console_size, port_state)
        if state != self.seen:
            self.seen, self.last_progress = state, now
        return not self.at_login and now - self.last_progress > self.stall_seconds


def ssh_port_state(port, timeout=2.0):
    """What the forwarded SSH port answers: 'banner', 'silent' (open, nothing said yet) or
    'closed' (qemu's user network closes it while nothing listens in the guest)."""
    try:
        with contextlib.closing(socket.create_connection(("127.0.0.1", port), timeout)) as sock:
            sock.settimeout(timeout)
            data = sock.recv(64)
    except socket.timeout:
        return "silent"
    except OSError:
        return "closed"
    if data.startswith(b"SSH-"):
        return "banner"
    return "closed" if not data else "silent"


def ssh_answers(config):
    return subprocess.run(ssh_argv(config, ["true"]), stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=False).returncode == 0


def wait_for_ssh(config, proc=None):
    stall_seconds, timeout = boot_limits(config.get("suite"))
    started = time.time()
    watch = BootWatch(stall_seconds, started)
    while time.time() < started + timeout:
        text = read_console(config)
        port_state = ssh_port_state(config["port"])
        if watch.observe(time.time(), len(text), LOGIN_PROMPT in text, port_state):
            raise BootStalled("%s made no progress (console silent, SSH port %s) for %d s\n%s"
                              % (config["name"], port_state, stall_seconds, console_tail(config, 15)))
        failure = boot_failure(text)
        if failure == "Kernel panic":
            # Seen under software emulation (a scheduler oops in the guest's first
            # seconds on a loaded host): a fresh boot of the same disks goes through.
            raise BootStalled("%s panicked while booting\n%s" % (config["name"], console_tail(config, 15)))
        if failure:
            raise LabError("%s failed to boot (%r on its console)\n%s"
                           % (config["name"], failure, console_tail(config)))
        if proc is not None and proc.poll() is not None:
            raise LabError("qemu for %s exited (rc %s)\n%s" % (config["name"], proc.returncode,
                                                              console_tail(config)))
        # ssh only once sshd greets: a refused ssh costs the busy host a process.
        if port_state == "banner" and ssh_answers(config):
            return
        time.sleep(1)
    raise LabError("%s did not answer SSH within %d s\n%s" % (config["name"], timeout,
                                                              console_tail(config)))


def boot(config, attempts=BOOT_ATTEMPTS):
    """Start qemu and wait for SSH; a boot that hangs or panics early is powered off and started again.

    Seen here under software emulation with the host loaded: now and then a
    kernel stops printing a fraction of a second into boot and never goes on,
    or oopses in the scheduler and panics.
    """
    for attempt in range(1, attempts + 1):
        proc = start_qemu(config)
        try:
            wait_for_ssh(config, proc)
            return
        except BootStalled as exc:
            stop_qemu(config)
            if attempt == attempts:
                raise
            log("%s; powering it off and booting again (attempt %d of %d)"
                % (str(exc).splitlines()[0], attempt + 1, attempts))


# ---------------------------------------------------------------- snapshots

class Qmp:
    """A minimal QMP client on a VM's qmp.sock."""

    def __init__(self, config, timeout=30):
        path = os.path.join(config["dir"], "qmp.sock")
        deadline = time.time() + timeout
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(timeout)
        while True:
            try:
                self.sock.connect(path)
                break
            except OSError:
                if time.time() > deadline:
                    raise LabError("qemu of %s opened no QMP socket in %d s" % (config["name"], timeout))
                time.sleep(0.1)
        self.reader = self.sock.makefile("rb")
        self._reply()  # the greeting
        self.execute("qmp_capabilities")

    def _reply(self):
        while True:
            line = self.reader.readline()
            if not line:
                raise LabError("qemu closed its QMP socket")
            message = json.loads(line)
            if "event" not in message:
                return message

    def execute(self, command, fds=(), **arguments):
        data = json.dumps({"execute": command, "arguments": arguments}).encode()
        if fds:
            socket.send_fds(self.sock, [data], list(fds))
        else:
            self.sock.sendall(data)
        reply = self._reply()
        if "error" in reply:
            raise LabError("qemu %s: %s" % (command, reply["error"].get("desc", reply["error"])))
        return reply.get("return")

    def close(self):
        self.reader.close()
        self.sock.close()


def qemu_version():
    return subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True,
                          check=True).stdout.splitlines()[0]


def snapshot_dir(image, cpus, memory):
    """Where the snapshot of a just-booted guest of ``image`` lives: keyed by everything a
    restore must match (the VM's shape, qemu, this file's device layout)."""
    digest = hashlib.sha256(json.dumps([SNAPSHOT_FORMAT, qemu_version(), cpus, memory,
                                        os.environ.get("LAB_ACCEL", "tcg"),
                                        os.environ.get("LAB_CPU", "max")]).encode())
    return os.path.join(image, "snapshot-" + digest.hexdigest()[:12])


def save_snapshot(image, suite, cpus, memory):
    """Boot ``image`` cold with no spare disk, let it settle, and save its RAM and root disk.

    Returns the snapshot's directory, or None when another process is saving it right now
    (the caller boots cold rather than wait).
    """
    target = snapshot_dir(image, cpus, memory)
    if os.path.exists(os.path.join(target, "ready")):
        return target
    with open(target + ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        if os.path.exists(os.path.join(target, "ready")):
            return target
        started = time.time()
        work = tempfile.mkdtemp(prefix="snapshot-build-", dir=image)
        config = {"name": "snapshot-" + os.path.basename(work), "dir": work, "image": image,
                  "suite": suite, "port": free_port(), "disks": [], "memory": memory,
                  "cpus": cpus, "identity_file": os.path.join(image, "id_ed25519"),
                  "console_log": os.path.join(work, "console.log")}
        try:
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b",
                            os.path.join(image, "root.img"), os.path.join(work, "root.qcow2")],
                           check=True, stdout=sys.stderr)
            boot(config)
            # Let the boot's own jobs finish, so a restored guest has nothing left to start.
            subprocess.run(ssh_argv(config, ["systemctl is-system-running --wait; sync"]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180,
                           check=False)
            qmp = Qmp(config)
            try:
                qmp.execute("stop")
                with open(os.path.join(work, "state"), "wb") as state:
                    qmp.execute("getfd", fds=[state.fileno()], fdname="state")
                    qmp.execute("migrate", uri="fd:state")
                    deadline = time.time() + 300
                    while True:
                        status = qmp.execute("query-migrate").get("status")
                        if status == "completed":
                            break
                        if status in ("failed", "cancelled") or time.time() > deadline:
                            raise LabError("saving the snapshot of %s: migration %s" % (suite, status))
                        time.sleep(0.2)
                    os.fsync(state.fileno())
            finally:
                qmp.close()
            stop_qemu(config)
            os.chmod(os.path.join(work, "root.qcow2"), 0o444)  # the base of every restored root
            with open(os.path.join(work, "ready"), "w") as ready:
                ready.write("saved in %.0f s\n" % (time.time() - started))
            os.rename(work, target)
            log("snapshot of a booted %s guest saved in %.0f s: %s" % (suite, time.time() - started, target))
        finally:
            stop_qemu(config)
            if os.path.exists(work):
                shutil.rmtree(work, ignore_errors=True)
    return target


def disk_check_command(count):
    """One guest command: wait (up to 30 s) for ``count`` plugged spare disks, settle udev,
    set the clock (a restored guest's stands at the snapshot's time), list disk serials."""
    return ("set -e; date -u -s @%d >/dev/null; n=0; "
            "while [ \"$(ls -d /sys/block/vd? | wc -l)\" -lt %d ] && [ $n -lt 150 ]; "
            "do sleep 0.2; n=$((n+1)); done; udevadm settle; "
            "for d in /sys/block/vd?; do echo \"${d##*/} $(cat $d/serial)\"; done"
            % (int(time.time()), count + 1))


def expected_disk_serials(count):
    """What disk_check_command must print: root on vda, spare disk i on the i-th next name."""
    names = ["vd" + chr(ord("a") + index) for index in range(count + 1)]
    return dict(zip(names, ["labroot"] + ["labdisk%d" % index for index in range(1, count + 1)]))


def parse_disk_serials(output):
    return dict(line.split(None, 1) for line in output.splitlines() if len(line.split(None, 1)) == 2)


def restore_snapshot(config, snapshot):
    """Start the VM from ``snapshot``, plug its spare disks in, check the guest sees them."""
    with open(os.path.join(snapshot, "state"), "rb") as state:
        proc = start_qemu(config, incoming=state)
        qmp = Qmp(config)
        try:
            deadline = time.time() + 60
            while True:
                status = qmp.execute("query-status").get("status")
                if status == "running":
                    break
                if status == "paused":
                    # the guest was stopped for the save, and a restore keeps that state
                    qmp.execute("cont")
                    continue
                if proc.poll() is not None or time.time() > deadline:
                    raise LabError("qemu for %s did not resume from the snapshot (%s)"
                                   % (config["name"], status))
                time.sleep(0.1)
            for index, disk in enumerate(config["disks"], start=1):
                node = "disk%d" % index
                qmp.execute("blockdev-add", driver="qcow2", **{"node-name": node},
                            file={"driver": "file", "filename": disk},
                            cache={"direct": False, "no-flush": True})
                qmp.execute("device_add", driver="virtio-blk-pci", drive=node, id=node,
                            serial="lab" + node, bus="pci.0", addr="0x%x" % disk_pci_slot(index))
        finally:
            qmp.close()
    deadline = time.time() + 60
    while not ssh_answers(config):
        if proc.poll() is not None or time.time() > deadline:
            raise LabError("%s restored from the snapshot did not answer SSH" % config["name"])
        time.sleep(0.5)
    result = subprocess.run(ssh_argv(config, [disk_check_command(len(config["disks"]))]),
                            capture_output=True, text=True, timeout=120, check=False)
    seen, expected = parse_disk_serials(result.stdout), expected_disk_serials(len(config["disks"]))
    if result.returncode != 0 or seen != expected:
        raise LabError("%s restored from the snapshot: disks %s, expected %s (rc %d: %s)"
                       % (config["name"], seen, expected, result.returncode, result.stderr.strip()))


def create_root_overlay(directory, backing, backing_format):
    path = os.path.join(directory, "root.qcow2")
    if os.path.exists(path):
        os.unlink(path)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", backing_format, "-b", backing,
                    path], check=True, stdout=sys.stderr)


def up(name, disks=1, disk_size="10G", memory=1536, cpus=2, suite=None, image=None):
    """Boot a VM from the suite's image (or from ``image``, a built image directory).

    The VM is restored from a snapshot of a just-booted guest when there is one (saved on
    first use; LAB_SNAPSHOT=0 always boots cold); a restore that goes wrong falls back to a
    cold boot.
    """
    suite = suite or DEFAULT_SUITE
    image = image or build_image(suite)
    directory = vm_dir(name)
    if os.path.exists(os.path.join(directory, "vm.json")):
        old = read_json(os.path.join(directory, "vm.json"))
        if qemu_pid(old):
            raise LabError("VM %s is already running (port %s)" % (name, old["port"]))
        shutil.rmtree(directory)
    os.makedirs(directory)
    disk_paths = []
    for index in range(1, disks + 1):
        path = os.path.join(directory, "disk%d.qcow2" % index)
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", path, disk_size], check=True)
        disk_paths.append(path)
    config = {
        "name": name, "dir": directory, "image": image, "suite": suite, "port": free_port(),
        "address": "127.0.0.1", "user": "root",
        "identity_file": os.path.join(image, "id_ed25519"),
        "disks": disk_paths, "disk_size": disk_size, "memory": memory, "cpus": cpus,
        "console_log": os.path.join(directory, "console.log"),
    }
    started = time.time()
    try:
        snapshot = None
        if USE_SNAPSHOTS:
            try:
                snapshot = save_snapshot(image, suite, cpus, memory)
            except (LabError, OSError, subprocess.SubprocessError) as exc:
                log("no snapshot of %s (%s); booting cold" % (suite, str(exc).splitlines()[0]))
        config["boot_mode"] = "cold"
        if snapshot:
            restore_started = time.time()
            create_root_overlay(directory, os.path.join(snapshot, "root.qcow2"), "qcow2")
            try:
                restore_snapshot(config, snapshot)
                config["boot_mode"] = "restored"
                started = restore_started
            except (LabError, OSError, subprocess.SubprocessError) as exc:
                stop_qemu(config)
                log("%s: the restore failed (%s); booting cold" % (name, str(exc).splitlines()[0]))
        if config["boot_mode"] == "cold":
            create_root_overlay(directory, os.path.join(image, "root.img"), "raw")
            boot(config)
    except BaseException:
        down(name)
        raise
    config["boot_seconds"] = round(time.time() - started, 1)
    write_json(os.path.join(directory, "vm.json"), config)
    log("%s answered SSH after %.1f s (%s, port %d)" % (name, config["boot_seconds"],
                                                       config["boot_mode"], config["port"]))
    return config


def stop_qemu(config, graceful_seconds=0):
    pid = qemu_pid(config)
    if pid and graceful_seconds:
        subprocess.run(ssh_argv(config, ["systemctl", "poweroff"]), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=30, check=False)
        deadline = time.time() + graceful_seconds
        while time.time() < deadline and qemu_pid(config):
            time.sleep(1)
    for candidate in (qemu_pid(config), config.get("launcher_pid")):
        if candidate:
            with contextlib.suppress(OSError):
                os.kill(candidate, signal.SIGKILL)
    deadline = time.time() + 10
    while time.time() < deadline and qemu_pid(config):
        time.sleep(0.2)


def cycle(name, hard=False):
    """Power-cycle a VM: same overlay, same spare disks, same port."""
    config = vm_config(name)
    stop_qemu(config, graceful_seconds=0 if hard else 60)
    started = time.time()
    boot(config)
    log("%s is back after %.1f s" % (name, time.time() - started))
    return config


def down(name):
    directory = vm_dir(name)
    path = os.path.join(directory, "vm.json")
    if os.path.exists(path):
        stop_qemu(read_json(path))
    console = os.path.join(directory, "console.log")
    if os.path.exists(console):
        # the last console of each VM stays readable after teardown
        os.makedirs(os.path.join(STATE_DIR, "logs"), exist_ok=True)
        shutil.copy(console, os.path.join(STATE_DIR, "logs", name + ".console.log"))
    shutil.rmtree(directory, ignore_errors=True)


def list_vms():
    if not os.path.isdir(STATE_DIR):
        return []
    return sorted(n for n in os.listdir(STATE_DIR)
                  if os.path.exists(os.path.join(STATE_DIR, n, "vm.json")))


def down_all():
    for name in list_vms():
        log("tearing down %s" % name)
        down(name)


def write_inventory(configs, path):
    lines = ["[lab]"]
    for config in configs:
        lines.append(
            "%s ansible_host=127.0.0.1 ansible_port=%d ansible_user=root "
            "ansible_ssh_private_key_file=%s ansible_python_interpreter=/usr/bin/python3 "
            "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'"
            % (config["name"], config["port"], config["identity_file"]))
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def run_with_vms(command, count=1, disks=1, disk_size="10G", keep=False, prefix="run",
                 suite=None):
    """Boot VMs, run a command against them, and always tear them down."""
    names = ["%s-%d-%d" % (prefix, os.getpid(), i) for i in range(count)]
    configs = []

    def on_signal(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGTERM, on_signal)
    # also when started from a shell that ignores SIGINT for background jobs
    signal.signal(signal.SIGINT, signal.default_int_handler)
    rc = 1
    try:
        for name in names:
            configs.append(up(name, disks=disks, disk_size=disk_size, suite=suite))
        inventory = os.path.join(vm_dir(names[0]), "inventory.ini")
        write_inventory(configs, inventory)
        env = dict(os.environ, LAB_INVENTORY=inventory, LAB_VMS=" ".join(names))
        argv = [part.replace("{inventory}", inventory) for part in command]
        rc = subprocess.run(argv, env=env).returncode
        if rc != 0:
            for config in configs:
                print(console_tail(config, 25), file=sys.stderr)
        return rc
    finally:
        if keep and rc == 0:
            for config in configs:
                log("kept %s: ssh -i %s -p %d root@127.0.0.1  (tear down: %s down %s)"
                    % (config["name"], config["identity_file"], config["port"],
                       os.path.relpath(__file__), config["name"]))
        else:
            for name in names:
                down(name)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    for action in ("build", "image-dir"):
        sub.add_parser(action).add_argument("--suite", choices=sorted(SUITES), default=DEFAULT_SUITE)
    p_up = sub.add_parser("up")
    p_up.add_argument("name")
    p_up.add_argument("--suite", choices=sorted(SUITES), default=DEFAULT_SUITE)
    p_up.add_argument("--disks", type=int, default=1)
    p_up.add_argument("--disk-size", default="10G")
    p_up.add_argument("--memory", type=int, default=1536)
    p_up.add_argument("--cpus", type=int, default=2)
    p_up.add_argument("--json", action="store_true")
    p_ssh = sub.add_parser("ssh")
    p_ssh.add_argument("name")
    p_ssh.add_argument("command", nargs=argparse.REMAINDER)
    p_cycle = sub.add_parser("cycle")
    p_cycle.add_argument("name")
    p_cycle.add_argument("--hard", action="store_true")
    p_down = sub.add_parser("down")
    p_down.add_argument("name", nargs="?")
    p_down.add_argument("--all", action="store_true")
    sub.add_parser("list")
    p_console = sub.add_parser("console")
    p_console.add_argument("name")
    p_run = sub.add_parser("run")
    p_run.add_argument("--count", type=int, default=1)
    p_run.add_argument("--disks", type=int, default=1)
    p_run.add_argument("--disk-size", default="10G")
    p_run.add_argument("--keep", action="store_true")
    p_run.add_argument("--prefix", default="run")
    p_run.add_argument("--suite", choices=sorted(SUITES), default=DEFAULT_SUITE)
    p_run.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)

    try:
        if args.action == "build":
            print(build_image(args.suite))
        elif args.action == "image-dir":
            print(image_dir(args.suite))
        elif args.action == "up":
            config = up(args.name, args.disks, args.disk_size, args.memory, args.cpus, args.suite)
            if args.json:
                print(json.dumps(config))
        elif args.action == "ssh":
            command = args.command[1:] if args.command[:1] == ["--"] else args.command
            return subprocess.run(ssh_argv(vm_config(args.name), command)).returncode
        elif args.action == "cycle":
            cycle(args.name, args.hard)
        elif args.action == "down":
            if args.all:
                down_all()
            elif args.name:
                down(args.name)
            else:
                parser.error("down needs a NAME or --all")
        elif args.action == "list":
            for name in list_vms():
                config = vm_config(name)
                state = "running" if qemu_pid(config) else "stopped"
                print("%s\t%s\tport %s" % (name, state, config["port"]))
        elif args.action == "console":
            print(console_tail(vm_config(args.name), 200))
        elif args.action == "run":
            command = args.command[1:] if args.command[:1] == ["--"] else args.command
            if not command:
                parser.error("run needs a command after --")
            return run_with_vms(command, args.count, args.disks, args.disk_size, args.keep,
                                args.prefix, args.suite)
    except LabError as exc:
        log(str(exc))
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
