"""The collector runs as root and writes into node_exporter's textfile directory, which on Debian
sits in /var/lib/prometheus, owned by the prometheus user (prometheus-node-exporter's postinst
chowns it). The attack of issue 27, run here as the unprivileged user nobody on a copy of that
layout, must leave the file it aims at byte for byte as it was."""

import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from test_thinpool_monitor_role import fake_tools, install_like_the_role

NOBODY = 65534  # nobody:nogroup on Debian

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="building another user's tree needs root")


def as_nobody(*argv):
    """One command as the attacker (an argument list, never a shell line)."""
    subprocess.run(list(argv), user=NOBODY, group=NOBODY, extra_groups=[], check=True, timeout=30,
                   capture_output=True)


@pytest.fixture
def layout():
    """base/etc/shadow (root, 0600) and Debian's base/var/lib/prometheus (nobody's) with a root-owned
    node-exporter/ in it. Not under pytest's tmp_path: nobody must be able to walk to it."""
    base = tempfile.mkdtemp(prefix="thinpool-attack-", dir="/tmp")
    os.chmod(base, 0o755)
    os.makedirs(os.path.join(base, "etc"))
    shadow = os.path.join(base, "etc", "shadow")
    with open(shadow, "wb") as handle:
        handle.write(b"root:$y$j9T$secret:19000:0:99999:7:::\n")
    os.chmod(shadow, 0o600)
    prometheus = os.path.join(base, "var", "lib", "prometheus")
    os.makedirs(os.path.join(prometheus, "node-exporter"))
    os.chown(prometheus, NOBODY, NOBODY)
    yield base, shadow, os.path.join(prometheus, "node-exporter")
    shutil.rmtree(base)


def snapshot(path):
    info = os.lstat(path)
    with open(path, "rb") as handle:
        return handle.read(), info.st_mode, info.st_uid, info.st_gid, info.st_ino


def run_collector(tmp_path, output):
    script = install_like_the_role(str(tmp_path / "install"))
    fake_tools(str(tmp_path / "bin"), ["m1"])
    return subprocess.run([sys.executable, script, "--docker-config", "/nonexistent", "--containerd-config",
                           "/nonexistent", "textfile", "--output", output], env={"PATH": str(tmp_path / "bin")},
                          capture_output=True, text=True, timeout=60, check=False)


def test_debian_layout_is_written_root_owned(tmp_path, layout):
    _base, _shadow, textfile_dir = layout
    proc = run_collector(tmp_path, os.path.join(textfile_dir, "thinpool.prom"))
    assert proc.returncode == 0, proc.stderr
    assert os.listdir(textfile_dir) == ["thinpool.prom"]
    info = os.lstat(os.path.join(textfile_dir, "thinpool.prom"))
    assert (oct(info.st_mode), info.st_uid, info.st_gid) == (oct(0o100644), 0, 0)


def test_the_issue_attack_leaves_the_target_untouched(tmp_path, layout):
    _base, shadow, textfile_dir = layout
    before = snapshot(shadow)
    # the issue's steps, as the owner of /var/lib/prometheus
    as_nobody("mv", textfile_dir, textfile_dir + ".orig")
    as_nobody("mkdir", textfile_dir)
    as_nobody("ln", "-s", shadow, os.path.join(textfile_dir, "thinpool.prom"))
    proc = run_collector(tmp_path, os.path.join(textfile_dir, "thinpool.prom"))
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1] == (
        "thinpool_monitor: refusing to write %s/thinpool.prom: %s is owned by uid %d: another user could "
        "replace what is written there" % (textfile_dir, textfile_dir, NOBODY))
    assert snapshot(shadow) == before
    assert os.listdir(textfile_dir) == ["thinpool.prom"]  # nothing written beside the link either
    assert os.readlink(os.path.join(textfile_dir, "thinpool.prom")) == shadow


def test_a_symlinked_textfile_directory_is_not_followed(tmp_path, layout):
    base, shadow, textfile_dir = layout
    before = snapshot(shadow)
    as_nobody("mv", textfile_dir, textfile_dir + ".orig")
    as_nobody("ln", "-s", os.path.dirname(shadow), textfile_dir)  # node-exporter -> base/etc
    proc = run_collector(tmp_path, os.path.join(textfile_dir, "thinpool.prom"))
    assert proc.returncode == 1
    assert "%s is a symlink; refusing to follow it" % textfile_dir in proc.stderr
    assert snapshot(shadow) == before
    assert os.listdir(os.path.join(base, "etc")) == ["shadow"]


def test_a_directory_above_that_another_user_could_replace_is_refused(tmp_path, layout):
    base, _shadow, _textfile_dir = layout
    # nobody's directory two levels above a root-owned textfile directory
    deep = os.path.join(base, "var", "lib", "prometheus", "node-exporter", "a", "b")
    os.makedirs(deep)
    proc = run_collector(tmp_path, os.path.join(deep, "thinpool.prom"))
    assert proc.returncode == 1
    assert ("%s could be replaced by another user: %s is owned by uid %d"
            % (os.path.join(base, "var", "lib", "prometheus", "node-exporter"),
               os.path.join(base, "var", "lib", "prometheus"), NOBODY)) in proc.stderr
    assert os.listdir(deep) == []


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o1777])
def test_a_textfile_directory_others_can_write_is_refused(tmp_path, layout, mode):
    _base, _shadow, textfile_dir = layout
    os.chmod(textfile_dir, mode)
    proc = run_collector(tmp_path, os.path.join(textfile_dir, "thinpool.prom"))
    assert proc.returncode == 1
    assert "is writable by group or others (mode %04o)" % mode in proc.stderr
    assert os.listdir(textfile_dir) == []


def test_a_swap_after_the_directory_was_opened_redirects_nothing(monkeypatch, layout):
    """The race the checks cannot see: the name is swapped once the directory is open. The write goes
    through the descriptor into the directory that was checked."""
    from ansible_collections.container_storage.devicemapper.plugins.module_utils import _files

    _base, shadow, textfile_dir = layout
    before = snapshot(shadow)
    real_write_in = _files._write_in

    def swap_then_write(*args, **kwargs):
        as_nobody("mv", textfile_dir, textfile_dir + ".orig")
        as_nobody("mkdir", textfile_dir)
        as_nobody("ln", "-s", shadow, os.path.join(textfile_dir, "thinpool.prom"))
        return real_write_in(*args, **kwargs)

    monkeypatch.setattr(_files, "_write_in", swap_then_write)
    _files.write_atomically(os.path.join(textfile_dir, "thinpool.prom"), "metrics\n", mode=0o644,
                            root_owned=True, follow=False)
    assert snapshot(shadow) == before
    with open(os.path.join(textfile_dir + ".orig", "thinpool.prom")) as handle:
        assert handle.read() == "metrics\n"
