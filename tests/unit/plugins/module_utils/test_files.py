"""_files.write_atomically for the modules' files (daemon.json, config.toml, LVM profiles): a symlinked
file is still written through, unless another user could change the link or the directory."""

import os

import pytest

from ansible_collections.container_storage.devicemapper.plugins.module_utils._files import (
    UnsafePathError, open_directory, remove_file, set_mode_and_owner, write_atomically,
)


def test_a_symlinked_file_is_written_through_and_stays_a_link(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "daemon.json"
    target.write_text("{}\n")
    os.chmod(str(target), 0o600)
    link = tmp_path / "etc" / "daemon.json"
    link.symlink_to(target)
    write_atomically(str(link), '{"a": 1}\n')
    assert os.path.islink(str(link))
    assert target.read_text() == '{"a": 1}\n'
    assert oct(os.stat(str(target)).st_mode & 0o7777) == oct(0o600)  # mode kept
    assert sorted(os.listdir(str(tmp_path / "real"))) == ["daemon.json"]


def test_without_follow_a_link_is_replaced_and_its_target_left_alone(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("keep\n")
    link = tmp_path / "thinpool.prom"
    link.symlink_to(target)
    write_atomically(str(link), "new\n", mode=0o644, follow=False)
    assert not os.path.islink(str(link)) and link.read_text() == "new\n"
    assert target.read_text() == "keep\n"


@pytest.mark.parametrize("where", ["link", "target"])
def test_a_link_or_target_in_a_directory_others_can_write_is_refused(tmp_path, where):
    (tmp_path / "etc").mkdir()
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "daemon.json"
    target.write_text("{}\n")
    link = tmp_path / "etc" / "daemon.json"
    link.symlink_to(target)
    os.chmod(str(tmp_path / ("etc" if where == "link" else "real")), 0o777)
    with pytest.raises(UnsafePathError, match=r"is writable by group or others \(mode 0777\)"):
        write_atomically(str(link), '{"a": 1}\n')
    assert target.read_text() == "{}\n"


def test_missing_directories_are_created_with_the_mode_asked(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomically(str(tmp_path / "lvm" / "profile" / "x.profile"), "a\n", dir_mode=0o750)
    finally:
        os.umask(old)
    assert oct(os.stat(str(tmp_path / "lvm")).st_mode & 0o777) == oct(0o750)
    assert oct(os.stat(str(tmp_path / "lvm" / "profile")).st_mode & 0o777) == oct(0o750)
    assert (tmp_path / "lvm" / "profile" / "x.profile").read_text() == "a\n"


def test_a_sticky_directory_protects_a_root_owned_entry(tmp_path):
    """/tmp is 1777: another user can create entries there but not replace root's."""
    sticky = tmp_path / "sticky"
    (sticky / "mine" / "textfile").mkdir(parents=True)
    os.chmod(str(sticky), 0o1777)
    os.close(open_directory(str(sticky / "mine" / "textfile")))
    os.chmod(str(sticky), 0o777)
    with pytest.raises(UnsafePathError, match="mine could be replaced by another user: .*sticky is writable"):
        open_directory(str(sticky / "mine" / "textfile"))


def test_mode_and_owner_are_set_through_a_symlink_in_a_safe_directory(tmp_path):
    target = tmp_path / "real.profile"
    target.write_text("x\n")
    os.chmod(str(target), 0o600)
    (tmp_path / "link.profile").symlink_to(target)
    set_mode_and_owner(str(tmp_path / "link.profile"), 0o644, (0, 0) if os.geteuid() == 0 else None)
    assert oct(os.stat(str(target)).st_mode & 0o7777) == oct(0o644)


def test_mode_is_not_set_in_a_directory_others_can_write(tmp_path):
    """A chmod 0644 through a link someone else planted would expose what it points at."""
    secret = tmp_path / "secret"
    secret.write_text("s\n")
    os.chmod(str(secret), 0o600)
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "a.profile").symlink_to(secret)
    os.chmod(str(tmp_path / "profiles"), 0o777)
    with pytest.raises(UnsafePathError, match="profiles is writable by group or others"):
        set_mode_and_owner(str(tmp_path / "profiles" / "a.profile"), 0o644)
    assert oct(os.stat(str(secret)).st_mode & 0o7777) == oct(0o600)


def test_remove_file_removes_a_link_not_its_target_and_checks_the_directory(tmp_path):
    target = tmp_path / "real"
    target.write_text("keep\n")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.profile").symlink_to(target)
    remove_file(str(tmp_path / "d" / "a.profile"))
    assert os.listdir(str(tmp_path / "d")) == [] and target.read_text() == "keep\n"
    (tmp_path / "d" / "b.profile").write_text("b\n")
    os.chmod(str(tmp_path / "d"), 0o777)
    with pytest.raises(UnsafePathError):
        remove_file(str(tmp_path / "d" / "b.profile"))
    assert os.listdir(str(tmp_path / "d")) == ["b.profile"]
