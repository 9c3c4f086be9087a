"""YAML unit cases for the thinpool module (command output recorded in the lab VM)."""

import os

import pytest

from case_runner import load_cases, run_case

from ansible_collections.container_storage.devicemapper.plugins.modules import thinpool

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "thinpool_cases.yml")


@pytest.mark.parametrize("case", load_cases(CASES))
def test_thinpool(case, tmp_path, monkeypatch):
    # by-id style links made in tmpdir, pointing where the case says
    for link, target in (case.get("symlinks") or {}).items():
        os.symlink(target, str(tmp_path / link))
    run_case(thinpool, case, tmp_path, monkeypatch)


def test_a_held_host_lock_makes_the_run_wait_then_fail_naming_the_holder(tmp_path, monkeypatch):
    """issue 10 item 14: a second run never acts while another holds the host lock."""
    from ansible_collections.container_storage.devicemapper.plugins.module_utils._lock import HostLock

    case = {
        "id": "locked",
        "input": {"vg": "docker", "devices": ["/dev/vdb"], "lock_timeout": 1},
        "run_command": [],  # not even a read: the lock comes first
        "expect": {"failed": True, "changed": False,
                   "msg_contains": ["another run holds the host lock", "pid", "other run (test)",
                                    "lock_timeout=1s; nothing was changed"]},
    }
    with HostLock("other run (test)"):
        run_case(thinpool, case, tmp_path, monkeypatch)


def test_every_command_runs_under_a_timeout(tmp_path, monkeypatch):
    case = {
        "id": "timeouts",
        "input": {"vg": "docker", "devices": ["/dev/vdb"]},
        "check_mode": True,
        "run_command": [{"fixture": f} for f in (
            "thinpool/s0_pvs", "thinpool/s0_vgs", "thinpool/s0_lvs", "thinpool/s0_dmstatus",
            "thinpool/lsblk_vdb", "thinpool/wipefs_vdb_clean")],
        "expect": {"changed": True, "timeouts": [300] * 6},
    }
    run_case(thinpool, case, tmp_path, monkeypatch)


def test_a_released_lock_names_nobody(tmp_path):
    from ansible_collections.container_storage.devicemapper.plugins.module_utils._lock import HostLock

    lock = HostLock("first run").acquire()
    assert "first run" in open(lock.path).read()
    lock.release()
    assert open(lock.path).read() == ""
