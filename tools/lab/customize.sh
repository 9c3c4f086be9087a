#!/bin/sh
# mmdebstrap customize hook for the lab image: $1 is the image root, $2 the
# public key that may log in as root. Runs on the host, acting on the tree.
set -eu
root="$1"
pubkey="$2"

echo lab > "$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 lab\n' > "$root/etc/hosts"
printf 'LABEL=root / ext4 rw,relatime 0 1\n' > "$root/etc/fstab"

install -d -m 0700 "$root/root/.ssh"
install -m 0600 "$pubkey" "$root/root/.ssh/authorized_keys"
cat > "$root/etc/ssh/sshd_config.d/lab.conf" <<'CONF'
PermitRootLogin prohibit-password
UseDNS no
CONF
chroot "$root" ssh-keygen -A

# Static address on qemu's user network: no DHCP wait at boot.
cat > "$root/etc/systemd/network/10-lab.network" <<'CONF'
[Match]
Name=en* eth*

[Network]
Address=10.0.2.15/24
Gateway=10.0.2.2
DNS=10.0.2.3
CONF
printf 'nameserver 10.0.2.3\n' > "$root/etc/resolv.conf"
systemctl -q --root="$root" enable systemd-networkd.service

# Tests decide when Docker starts; timers only slow a short-lived VM down.
systemctl -q --root="$root" disable docker.service docker.socket containerd.service
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \
            systemd-networkd-wait-online.service getty@tty1.service; do
    systemctl -q --root="$root" mask "$unit"
done
systemctl -q --root="$root" enable serial-getty@ttyS0.service

# The monitor scenario starts the exporter when it needs it.
for unit in prometheus-node-exporter.service prometheus-node-exporter-apt.timer \
            prometheus-node-exporter-smartmon.timer prometheus-node-exporter-nvme.timer \
            prometheus-node-exporter-ipmitool-sensor.timer prometheus-node-exporter-mellanox-hca-temp.timer; do
    if [ -e "$root/lib/systemd/system/$unit" ] || [ -e "$root/usr/lib/systemd/system/$unit" ]; then
        systemctl -q --root="$root" disable "$unit"
    fi
done

# Ansible sends each module run as a zip of sources that zipimport compiles on
# every task; under emulation that is a third of a module run. Cache the bytecode
# in the guest (lab only: see lab_zipimport_cache.py).
here=$(dirname "$0")
for pydir in "$root"/usr/lib/python3.*; do
    [ -d "$pydir/lib-dynload" ] || continue
    site="$root/usr/local/lib/$(basename "$pydir")/dist-packages"
    install -d "$site"
    install -m 0644 "$here/lab_zipimport_cache.py" "$site/lab_zipimport_cache.py"
    echo 'import lab_zipimport_cache' > "$site/lab_zipimport_cache.pth"
done

# A one-file image for `docker import`: no registry is reachable from the lab.
tmp=$(mktemp -d)
mkdir -p "$tmp/bin"
cp "$root/bin/busybox" "$tmp/bin/busybox"
for applet in sh ls cat dd sleep echo rm mkdir sync df; do
    ln -s busybox "$tmp/bin/$applet"
done
install -d "$root/opt/lab"
tar -C "$tmp" -cf "$root/opt/lab/busybox.tar" bin
rm -rf "$tmp"

# Smaller image, faster mkfs: package caches are not needed in the VM.
rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
