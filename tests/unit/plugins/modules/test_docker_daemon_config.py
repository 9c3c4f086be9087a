"""docker_daemon_config: YAML cases plus the file-level behaviour a case cannot express."""

import json
import os
import stat

import pytest

from case_runner import load_cases, load_fixture
from docker_case_files import run_docker_case as run_case

from ansible_collections.container_storage.devicemapper.plugins.module_utils._lock import LOCK_NAME, HostLock

from ansible_collections.container_storage.devicemapper.plugins.module_utils import _docker
from ansible_collections.container_storage.devicemapper.plugins.module_utils import _docker_options
from ansible_collections.container_storage.devicemapper.plugins.modules import docker_daemon_config

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "docker_daemon_config_cases.yml")


@pytest.mark.parametrize("case", load_cases(CASES))
def test_docker_daemon_config(case, tmp_path, monkeypatch):
    run_case(docker_daemon_config, case, tmp_path, monkeypatch)


def _case(**overrides):
    case = {
        "id": "inline",
        "input": {"path": "{tmpdir}/daemon.json", "storage_driver": "devicemapper",
                  "storage_opts": {"dm.thinpooldev": "/dev/mapper/docker-thinpool"}},
        "run_command": [{"fixture": "docker_daemon_config/dockerd_version"},
                        {"fixture": "docker_daemon_config/systemctl_cat_docker_stock"}],
        "expect": {"changed": True},
    }
    case.update(overrides)
    return case


def test_new_file_is_mode_0644(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "umask", lambda mask: 0o077)  # a strict umask must not leak into the file
    run_case(docker_daemon_config, _case(), tmp_path, monkeypatch)
    mode = stat.S_IMODE(os.stat(str(tmp_path / "daemon.json")).st_mode)
    assert mode == 0o644
    if os.geteuid() == 0:
        assert os.stat(str(tmp_path / "daemon.json")).st_uid == 0


def test_existing_file_keeps_its_mode(tmp_path, monkeypatch):
    path = tmp_path / "daemon.json"
    path.write_text('{"log-level": "warn"}\n')
    os.chmod(str(path), 0o600)
    inode = os.stat(str(path)).st_ino
    run_case(docker_daemon_config, _case(), tmp_path, monkeypatch)
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert os.stat(str(path)).st_ino != inode, "the file was not replaced atomically"
    assert json.loads(path.read_text())["log-level"] == "warn"
    assert not [name for name in os.listdir(str(tmp_path)) if name.endswith(".tmp")]


def test_backup_keeps_the_previous_file_with_a_timestamp(tmp_path, monkeypatch):
    path = tmp_path / "daemon.json"
    path.write_text('{"storage-driver": "overlay2"}\n')
    case = _case()
    case["input"]["backup"] = True
    result = run_case(docker_daemon_config, case, tmp_path, monkeypatch)
    backup = result["backup_file"]
    assert backup and os.path.dirname(backup) == str(tmp_path)
    assert os.path.basename(backup).startswith("daemon.json.")
    with open(backup) as handle:
        assert handle.read() == '{"storage-driver": "overlay2"}\n'
    assert json.loads(path.read_text())["storage-driver"] == "devicemapper"


def test_no_backup_when_nothing_changes(tmp_path, monkeypatch):
    path = tmp_path / "daemon.json"
    path.write_text('{"storage-driver": "devicemapper", '
                    '"storage-opts": ["dm.thinpooldev=/dev/mapper/docker-thinpool"]}')
    case = _case(expect={"changed": False, "result": {"backup_file": None}})
    case["input"]["backup"] = True
    run_case(docker_daemon_config, case, tmp_path, monkeypatch)
    assert sorted(os.listdir(str(tmp_path))) == [LOCK_NAME, "daemon.json"]


def test_no_backup_in_check_mode(tmp_path, monkeypatch):
    path = tmp_path / "daemon.json"
    path.write_text('{"storage-driver": "overlay2"}')
    case = _case(check_mode=True)
    case["input"]["backup"] = True
    run_case(docker_daemon_config, case, tmp_path, monkeypatch)
    assert sorted(os.listdir(str(tmp_path))) == [LOCK_NAME, "daemon.json"]
    assert path.read_text() == '{"storage-driver": "overlay2"}'


def test_symlinked_file_is_written_through_the_link(tmp_path, monkeypatch):
    real = tmp_path / "real.json"
    real.write_text("{}")
    os.symlink(str(real), str(tmp_path / "daemon.json"))
    run_case(docker_daemon_config, _case(), tmp_path, monkeypatch)
    assert os.path.islink(str(tmp_path / "daemon.json"))
    assert json.loads(real.read_text())["storage-driver"] == "devicemapper"


# The lab has only Docker 20.10; a host without devicemapper is simulated by moving
# the cut-off down to the recorded version instead of typing another dockerd's output.
def test_dockerd_without_devicemapper_fails_for_devicemapper(tmp_path, monkeypatch):
    monkeypatch.setattr(_docker_options, "DOCKER_WITHOUT_DEVICEMAPPER", (20, 10))
    case = _case(run_command=[{"fixture": "docker_daemon_config/dockerd_version"}],
                 expect={"failed": True, "msg_contains": ["no devicemapper storage driver"],
                         "files": {"daemon.json": None}})
    run_case(docker_daemon_config, case, tmp_path, monkeypatch)


def test_dockerd_without_devicemapper_only_warns_otherwise(tmp_path, monkeypatch):
    monkeypatch.setattr(_docker_options, "DOCKER_WITHOUT_DEVICEMAPPER", (20, 10))
    (tmp_path / "daemon.json").write_text('{"storage-driver": "devicemapper", "debug": true}')
    case = _case(input={"path": "{tmpdir}/daemon.json", "state": "absent"},
                 run_command=[{"fixture": "docker_daemon_config/dockerd_version"}],
                 expect={"changed": True, "warnings_contain": ["removed in Engine 25"],
                         "files": {"daemon.json": '{\n  "debug": true\n}\n'}})
    run_case(docker_daemon_config, case, tmp_path, monkeypatch)


def test_recorded_dockerd_version_parses():
    assert _docker_options.parse_dockerd_version(load_fixture("docker_daemon_config/dockerd_version")["out"]) == (20, 10)


def test_existing_file_keeps_mode_0600_and_a_non_root_owner(tmp_path, monkeypatch):
    if os.geteuid() != 0:
        pytest.skip("needs root to give the file another owner")
    path = tmp_path / "daemon.json"
    path.write_text('{"log-level": "warn"}\n')
    os.chmod(str(path), 0o600)
    os.chown(str(path), 1234, 2345)
    inode = os.stat(str(path)).st_ino
    run_case(docker_daemon_config, _case(), tmp_path, monkeypatch)
    info = os.stat(str(path))
    assert info.st_ino != inode, "the file was not replaced atomically"
    assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o600, 1234, 2345)
    assert json.loads(path.read_text())["storage-driver"] == "devicemapper"


def test_write_that_cannot_keep_the_owner_fails_and_changes_nothing(tmp_path, monkeypatch):
    if os.geteuid() != 0:
        pytest.skip("needs root to give the file another owner")
    path = tmp_path / "daemon.json"
    path.write_text('{"log-level": "warn"}\n')
    os.chown(str(path), 1234, 2345)

    def refuse_chown(fd, uid, gid):  # what a non-root run gets
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "fchown", refuse_chown)
    case = _case(expect={"failed": True, "msg_contains": ["could not write", "owner 1234:2345",
                                                          "was not changed"]})
    run_case(docker_daemon_config, case, tmp_path, monkeypatch)
    assert path.read_text() == '{"log-level": "warn"}\n'
    assert not [name for name in os.listdir(str(tmp_path)) if name.endswith(".tmp")]


def test_a_held_host_lock_fails_the_module_naming_the_holder(tmp_path, monkeypatch):
    path = tmp_path / "daemon.json"
    path.write_bytes(b'{"log-level": "warn"}\n')
    case = _case(run_command=[],
                 expect={"failed": True, "changed": False,
                         "msg_contains": ["another run holds the host lock", "thinpool on vg docker",
                                          "lock_timeout=0"]})
    case["input"]["lock_timeout"] = 0
    with HostLock("thinpool on vg docker", timeout=0):
        run_case(docker_daemon_config, case, tmp_path, monkeypatch)
    assert path.read_bytes() == b'{"log-level": "warn"}\n'


def test_the_lock_is_held_from_the_read_to_the_write(tmp_path, monkeypatch):
    """A second run waiting on the lock cannot read the file between this run's read and write."""
    seen = []
    real_read, real_write = _docker.read_daemon_json, _docker.write_atomically

    def holding(name):
        probe = HostLock("probe", timeout=0)
        try:
            probe.acquire()
        except Exception:
            seen.append((name, "locked"))
        else:
            probe.release()
            seen.append((name, "free"))

    def read(*args, **kwargs):
        holding("read")
        return real_read(*args, **kwargs)

    def write(*args, **kwargs):
        holding("write")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(_docker, "read_daemon_json", read)
    monkeypatch.setattr(_docker, "write_atomically", write)
    run_case(docker_daemon_config, _case(), tmp_path, monkeypatch)
    holding("after")
    assert seen == [("read", "locked"), ("write", "locked"), ("after", "free")]


@pytest.mark.parametrize("existing", [True, False])
def test_a_file_changed_by_another_tool_meanwhile_is_not_overwritten(tmp_path, monkeypatch, existing):
    """Between the read and the write the module runs dockerd --version; an edit made then is kept."""
    path = tmp_path / "daemon.json"
    if existing:
        path.write_bytes(b'{"log-level": "warn"}\n')
    real_read = docker_daemon_config.DaemonConfigManager.read_dockerd_version

    def read_while_someone_edits(self):
        path.write_bytes(b'{"log-level": "debug"}\n')
        return real_read(self)

    monkeypatch.setattr(docker_daemon_config.DaemonConfigManager, "read_dockerd_version", read_while_someone_edits)
    case = _case(expect={"failed": True, "changed": False,
                         "msg_contains": ["changed (or appeared) while this run was checking it"]})
    from case_runner import run_case as run_plain_case  # the file changes on purpose: no snapshot check
    run_plain_case(docker_daemon_config, case, tmp_path, monkeypatch)
    assert path.read_bytes() == b'{"log-level": "debug"}\n'


# Docker 24 (image store experimental, devicemapper still there) is not in the lab: the
# recorded 20.10 stands in for it by moving both cut-offs around it.
def test_dockerd_24_gets_the_image_store_with_an_experimental_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(_docker_options, "DOCKER_WITH_CONTAINERD_STORE", (20, 10))
    monkeypatch.setattr(_docker_options, "DOCKER_WITHOUT_DEVICEMAPPER", (20, 11))
    case = _case(input={"path": "{tmpdir}/daemon.json", "containerd_snapshotter": True,
                        "storage_driver": "devmapper"},
                 expect={"changed": True,
                         "warnings_contain": ["has the containerd image store only as an experimental feature"],
                         "files": {"daemon.json": '{\n  "features": {\n    "containerd-snapshotter": true\n  },\n'
                                                  '  "storage-driver": "devmapper"\n}\n'}})
    run_case(docker_daemon_config, case, tmp_path, monkeypatch)


def test_recorded_docker_26_version_parses():
    out = load_fixture("docker_storage_info/trixie_dockerd_version")["out"]
    assert _docker_options.parse_dockerd_version(out) == (26, 1)
    assert not _docker_options.has_devicemapper((26, 1)) and _docker_options.has_containerd_store((26, 1))
    assert not _docker_options.has_containerd_store((23, 0)) and _docker_options.has_containerd_store((24, 0))
