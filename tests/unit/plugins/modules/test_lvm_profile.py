"""lvm_profile: YAML cases plus the file-level behaviour a case cannot express."""

import fcntl
import os
import stat

import pytest

from case_runner import load_cases, load_fixture, run_case

from ansible_collections.container_storage.devicemapper.plugins.module_utils import _lock, _lvm_profile, _runner
from ansible_collections.container_storage.devicemapper.plugins.modules import lvm_profile

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lvm_profile_cases.yml")
GUIDE = {"name": "docker-thinpool", "thin_pool_autoextend_threshold": 80,
         "thin_pool_autoextend_percent": 20, "attach_to": ["docker/thinpool"]}


@pytest.fixture(autouse=True)
def usual_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("case", load_cases(CASES))
def test_lvm_profile(case, tmp_path, monkeypatch):
    run_case(lvm_profile, case, tmp_path, monkeypatch)


def _case(lvs="lvm_profile/lvs_attached", **overrides):
    case = {"id": "inline", "input": dict(GUIDE, profile_dir="{tmpdir}"),
            "run_command": [{"fixture": lvs}], "expect": {"changed": True}}
    case.update(overrides)
    return case


def _files_in(directory):
    """The directory's files but the host lock's (the unit tests keep it there)."""
    return sorted(name for name in os.listdir(str(directory)) if name != _lock.LOCK_NAME)


def _guide_content():
    return _lvm_profile.render_profile("docker-thinpool", _lvm_profile.desired_settings(80, 20, None))


def test_new_file_is_0644_whatever_the_umask(tmp_path, monkeypatch):
    os.umask(0o077)
    run_case(lvm_profile, _case(), tmp_path, monkeypatch)
    info = os.stat(str(tmp_path / "docker-thinpool.profile"))
    assert stat.S_IMODE(info.st_mode) == 0o644
    if os.geteuid() == 0:
        assert (info.st_uid, info.st_gid) == (0, 0)
    assert _files_in(tmp_path) == ["docker-thinpool.profile"], "temporary file left behind"


def test_right_content_with_wrong_mode_is_fixed_in_place(tmp_path, monkeypatch):
    path = tmp_path / "docker-thinpool.profile"
    path.write_text(_guide_content())
    os.chmod(str(path), 0o600)
    run_case(lvm_profile, _case(), tmp_path, monkeypatch)
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o644
    run_case(lvm_profile, _case(expect={"changed": False}), tmp_path, monkeypatch)


def test_rewrite_replaces_the_file_atomically(tmp_path, monkeypatch):
    path = tmp_path / "docker-thinpool.profile"
    path.write_text("activation {\n}\n")
    inode = os.stat(str(path)).st_ino
    run_case(lvm_profile, _case(), tmp_path, monkeypatch)
    assert os.stat(str(path)).st_ino != inode, "the file was rewritten in place, not renamed over"
    assert path.read_text() == _guide_content()


def test_backup_keeps_the_hand_edited_file(tmp_path, monkeypatch):
    path = tmp_path / "docker-thinpool.profile"
    path.write_text("activation {\n\tthin_pool_autoextend_threshold = 95\n}\n")
    case = _case()
    case["input"]["backup"] = True
    result = run_case(lvm_profile, case, tmp_path, monkeypatch)
    backup = result["backup_file"]
    assert os.path.dirname(backup) == str(tmp_path)
    assert os.path.basename(backup).startswith("docker-thinpool.profile.")
    with open(backup) as handle:
        assert handle.read() == "activation {\n\tthin_pool_autoextend_threshold = 95\n}\n"
    assert path.read_text() == _guide_content()


def test_backup_on_absent_keeps_the_removed_file(tmp_path, monkeypatch):
    (tmp_path / "docker-thinpool.profile").write_text(_guide_content())
    case = _case(input={"name": "docker-thinpool", "state": "absent", "backup": True,
                        "profile_dir": "{tmpdir}"},
                 run_command=[{"fixture": "lvm_profile/lvs_unattached"},
                              {"fixture": "lvm_profile/vgs_no_profile"}])
    result = run_case(lvm_profile, case, tmp_path, monkeypatch)
    assert not (tmp_path / "docker-thinpool.profile").exists()
    with open(result["backup_file"]) as handle:
        assert handle.read() == _guide_content()


def test_no_backup_when_nothing_changes_or_in_check_mode(tmp_path, monkeypatch):
    path = tmp_path / "docker-thinpool.profile"
    path.write_text(_guide_content())
    case = _case(expect={"changed": False})
    case["input"]["backup"] = True
    result = run_case(lvm_profile, case, tmp_path, monkeypatch)
    assert "backup_file" not in result
    path.write_text("edited\n")
    case = _case(check_mode=True)
    case["input"]["backup"] = True
    run_case(lvm_profile, case, tmp_path, monkeypatch)
    assert _files_in(tmp_path) == ["docker-thinpool.profile"]
    assert path.read_text() == "edited\n"


def test_symlinked_profile_is_written_through_the_link(tmp_path, monkeypatch):
    real = tmp_path / "real.profile"
    real.write_text("old\n")
    os.symlink(str(real), str(tmp_path / "docker-thinpool.profile"))
    run_case(lvm_profile, _case(), tmp_path, monkeypatch)
    assert os.path.islink(str(tmp_path / "docker-thinpool.profile"))
    assert real.read_text() == _guide_content()


def test_missing_profile_dir_is_created(tmp_path, monkeypatch):
    case = _case()
    case["input"]["profile_dir"] = "{tmpdir}/a/profile"
    run_case(lvm_profile, case, tmp_path, monkeypatch)
    assert stat.S_IMODE(os.stat(str(tmp_path / "a" / "profile")).st_mode) == 0o755
    assert (tmp_path / "a" / "profile" / "docker-thinpool.profile").read_text() == _guide_content()


# Pure functions, on recorded output.

def test_lvms_own_list_includes_settings_without_a_default():
    profilable = _lvm_profile.parse_profilable(load_fixture("lvm_profile/lvmconfig_profilable")["out"])
    assert profilable.options["activation/thin_pool_autoextend_threshold"] is int
    assert profilable.options["allocation/thin_pool_discards"] is str
    # No default in LVM 2.03.16, so the plain listing omits it; the summary has it.
    assert "allocation/thin_pool_chunk_size" in profilable.options
    assert "allocation/cache_settings" in profilable.sections
    assert "activation/monitoring" not in profilable.options
    assert {"activation", "allocation"} <= profilable.sections


def test_profile_dir_parsed_from_lvmconfig():
    assert _lvm_profile.parse_profile_dir(load_fixture("lvm_profile/lvmconfig_profile_dir")["out"]) \
        == "/etc/lvm/profile"
    assert _lvm_profile.parse_profile_dir(load_fixture("lvm_profile/lvmconfig_profile_dir_custom")["out"]) \
        == "/srv/lvm-profiles"


@pytest.mark.parametrize("name", ["docker-thinpool", "thin.pool", "a_b", "x-", "a..b", "A+1"])
def test_names_lvm_accepts_are_written(name, tmp_path, monkeypatch):
    case = _case(expect={"changed": True, "result": {"path": str(tmp_path / (name + ".profile"))}})
    case["input"].update(name=name, attach_to=[])
    run_case(lvm_profile, case, tmp_path, monkeypatch)
    assert (tmp_path / (name + ".profile")).is_file()


@pytest.mark.parametrize("threshold,ok", [(49, False), (50, True), (100, True), (101, False)])
def test_threshold_bounds(threshold, ok):
    if ok:
        _lvm_profile.desired_settings(threshold, None, None)
    else:
        with pytest.raises(_lvm_profile.ProfileError):
            _lvm_profile.desired_settings(threshold, None, None)


def test_strings_are_quoted_and_escaped():
    content = _lvm_profile.render_profile("p", [("allocation", [("cache_policy", 'a"b\\c')])])
    assert '\tcache_policy = "a\\"b\\\\c"\n' in content
    with pytest.raises(_lvm_profile.ProfileError):
        _lvm_profile.render_profile("p", [("allocation", [("cache_policy", "a\nb")])])


def test_plan_never_reattaches_what_is_right():
    lvs = {"vg/a": {"lv_profile": "p"}, "vg/b": {"lv_profile": "other"}, "vg/c": {"lv_profile": "p"}}
    attach, detach, before, after = _lvm_profile.plan_attachments("p", lvs, ["vg/a", "vg/b"], False, "present")
    assert (attach, detach, before, after) == (["vg/b"], [], ["vg/a", "vg/c"], ["vg/a", "vg/c", "vg/b"])
    attach, detach, before, after = _lvm_profile.plan_attachments("p", lvs, ["vg/a"], True, "present")
    assert (attach, detach, after) == ([], ["vg/c"], ["vg/a"])


def test_values_take_the_type_of_lvms_default():
    profilable = _lvm_profile.parse_profilable(load_fixture("lvm_profile/lvmconfig_profilable")["out"])
    sections = _lvm_profile.validate_settings(
        [("allocation", [("thin_pool_chunk_size", "512"), ("thin_pool_discards", "ignore"),
                         ("thin_pool_zero", True), ("cache_policy", "smq")])], profilable)
    assert sections == [("allocation", [("thin_pool_chunk_size", 512), ("thin_pool_discards", "ignore"),
                                        ("thin_pool_zero", 1), ("cache_policy", "smq")])]
    with pytest.raises(_lvm_profile.ProfileError, match="LVM expects a string"):
        _lvm_profile.validate_settings([("allocation", [("thin_pool_discards", True)])], profilable)


# The host lock (item 14): one per host, from the first read to the last write.

def _lock_is_held(path):
    """True when another open file description holds the flock on ``path``."""
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (IOError, OSError):
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return False


def test_a_second_run_waits_for_the_lock_then_fails_naming_the_holder(tmp_path, monkeypatch):
    path = tmp_path / "docker-thinpool.profile"
    path.write_text("activation {\n}\n")
    with _lock.HostLock("thinpool (another play)", path=str(tmp_path / _lock.LOCK_NAME)):
        case = _case(run_command=[], expect={"failed": True, "changed": False})
        case["input"]["lock_timeout"] = 0
        result = run_case(lvm_profile, case, tmp_path, monkeypatch)
    assert "another run holds the host lock" in result["msg"]
    assert "thinpool (another play)" in result["msg"]
    assert path.read_text() == "activation {\n}\n", "the file changed while another run held the lock"


def test_the_lock_is_held_for_every_read_and_write_and_released_after(tmp_path, monkeypatch):
    lock_file = str(tmp_path / _lock.LOCK_NAME)
    held = []
    real_run = _runner.CommandRunner.run
    real_write = _lvm_profile.ProfileFile.write

    def run(self, argv, *args, **kwargs):
        held.append((argv[1], _lock_is_held(lock_file)))
        return real_run(self, argv, *args, **kwargs)

    def write(self, content):
        held.append(("write", _lock_is_held(lock_file)))
        return real_write(self, content)

    monkeypatch.setattr(_runner.CommandRunner, "run", run)
    monkeypatch.setattr(_lvm_profile.ProfileFile, "write", write)
    case = _case(lvs="lvm_profile/lvs_unattached")
    case["run_command"].append({"fixture": "lvm_profile/lvchange_attach"})
    run_case(lvm_profile, case, tmp_path, monkeypatch)
    assert held == [("lvs", True), ("write", True), ("lvchange", True)]
    assert not _lock_is_held(lock_file), "the lock outlived the run"


def test_the_lock_is_released_after_a_refusal_of_the_state(tmp_path, monkeypatch):
    (tmp_path / "docker-thinpool.profile").write_text(_guide_content())
    case = _case(input={"name": "docker-thinpool", "state": "absent", "profile_dir": "{tmpdir}"},
                 run_command=[{"fixture": "lvm_profile/lvs_vg_profile"},
                              {"fixture": "lvm_profile/vgs_vg_profile"}],
                 expect={"failed": True})
    run_case(lvm_profile, case, tmp_path, monkeypatch)
    assert not _lock_is_held(str(tmp_path / _lock.LOCK_NAME))


def test_input_refusals_come_before_the_lock(tmp_path, monkeypatch):
    # A refusal needs no lock: it is given at once even while another run holds it.
    with _lock.HostLock("another play", path=str(tmp_path / _lock.LOCK_NAME)):
        case = _case(run_command=[], expect={"failed": True})
        case["input"].update(name='a"b', lock_timeout=0)
        result = run_case(lvm_profile, case, tmp_path, monkeypatch)
    assert result["msg"].startswith("name: 'a\"b' may only contain")


def test_lvm_checks_exactly_the_settings_it_has_no_default_for():
    profilable = _lvm_profile.parse_profilable(load_fixture("lvm_profile/lvmconfig_profilable")["out"])
    sections = _lvm_profile.validate_settings(
        [("allocation", [("cache_policy", "smq"), ("cache_settings", {"smq": {"a": 1}}),
                         ("thin_pool_chunk_size", [512]), ("thin_pool_zero", 0)])], profilable)
    untyped = _lvm_profile.settings_without_default(sections, profilable)
    assert untyped == [("allocation", [("cache_policy", "smq"), ("thin_pool_chunk_size", [512])])]
    assert _lvm_profile.render_config_string(untyped) == \
        'allocation { cache_policy = "smq" thin_pool_chunk_size = [ 512 ] }'
