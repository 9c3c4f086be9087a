"""daemon_json_plan filter: docker_daemon_config's plan on the controller, equal to the module's own."""

import copy

import pytest
from ansible.errors import AnsibleFilterError

from case_runner import load_fixture
from docker_case_files import run_docker_case

from ansible_collections.container_storage.devicemapper.plugins.filter.daemon_json_plan import daemon_json_plan
from ansible_collections.container_storage.devicemapper.plugins.module_utils._daemon_json import DaemonJsonError, read_daemon_json
from ansible_collections.container_storage.devicemapper.plugins.module_utils._docker_options import parse_dockerd_version
from ansible_collections.container_storage.devicemapper.plugins.module_utils._dockerd_flags import DEFAULT_ENV_FILES, find_conflicts, split_systemctl_cat
from ansible_collections.container_storage.devicemapper.plugins.modules import docker_daemon_config

ROLE_OPTS = {"dm.thinpooldev": "/dev/mapper/docker-thinpool", "dm.use_deferred_removal": True,
             "dm.use_deferred_deletion": True}
WANTED = ('{\n  "storage-driver": "devicemapper",\n  "storage-opts": [\n    "dm.thinpooldev=/dev/mapper/docker-thinpool",'
          '\n    "dm.use_deferred_removal=true",\n    "dm.use_deferred_deletion=true"\n  ]\n}\n')
DUPLICATE = '{"log-level": "warn", "log-level": "info"}\n'

# (id, daemon.json or None, dockerd version, systemctl cat fixture, storage_driver, storage_opts)
CASES = [
    ("no_file", None, "20.10", "stock", "devicemapper", ROLE_OPTS),
    ("as_wanted", WANTED, "20.10", "stock", "devicemapper", ROLE_OPTS),
    ("other_keys_kept", '{"log-level": "warn", "storage-driver": "overlay2"}\n', "20.10", "stock",
     "devicemapper", ROLE_OPTS),
    ("a_key_twice", DUPLICATE, "20.10", "stock", "devicemapper", ROLE_OPTS),
    ("docker_26", None, "26.1", "stock", "devicemapper", ROLE_OPTS),
    ("docker_26_overlay2_warns", None, "26.1", "stock", "overlay2", None),
    ("dm_option_docker_refuses", None, "20.10", "stock", "devicemapper", dict(ROLE_OPTS, **{"dm.basesize": "ten"})),
    ("loop_lvm_warns", None, "20.10", "stock", "devicemapper", {"dm.use_deferred_removal": True}),
    ("flag_in_a_drop_in", None, "20.10", "dropin_storage_driver", "devicemapper", ROLE_OPTS),
    ("empty_option_value", None, "20.10", "stock", "devicemapper", {"dm.thinpooldev": ""}),
    ("empty_driver", None, "20.10", "stock", "", ROLE_OPTS),
    ("unknown_driver", None, "20.10", "stock", "devmapperx", ROLE_OPTS),
    ("version_unknown", None, None, "stock", "devicemapper", ROLE_OPTS),
]


def storage_info(path, version, unit_fixture):
    """What docker_storage_info with read_storage_flags=true returns for these files, by its own readers."""
    config, _text = read_daemon_json(str(path), refuse_duplicates=False)
    try:
        read_daemon_json(str(path))
        problem = None
    except DaemonJsonError as exc:
        problem = str(exc)
    unit = load_fixture("docker_daemon_config/systemctl_cat_docker_" + unit_fixture)["out"]
    return {"daemon_json": config, "daemon_json_problem": problem if config else None,
            "dockerd_version": version,
            "storage_flags": find_conflicts(split_systemctl_cat(unit), DEFAULT_ENV_FILES)}


@pytest.mark.parametrize("name, text, version, unit, driver, opts", CASES, ids=[case[0] for case in CASES])
def test_the_plan_is_the_modules(name, text, version, unit, driver, opts, tmp_path, monkeypatch):
    """The module, in check mode on the same file and unit, decides the same: changed, file, refusal, warnings."""
    path = tmp_path / "daemon.json"
    if text is not None:
        path.write_text(text)
    plan = daemon_json_plan(storage_info(path, version, unit), storage_driver=driver,
                            storage_opts=copy.deepcopy(opts), path=str(path))

    module_args = {"path": str(path), "storage_driver": driver}
    if opts is not None:
        module_args["storage_opts"] = copy.deepcopy(opts)
    if version is not None:
        module_args["dockerd_version"] = version
    # The module reads the unit only when the plan gets that far; the case runner fails on an unused
    # or a missing command, so a different path through the module fails this test.
    reaches_unit = not plan["failed"] or plan["conflicts"]
    commands = [{"fixture": "docker_daemon_config/systemctl_cat_docker_" + unit}] if reaches_unit else []
    if version is None:
        commands.insert(0, {"fixture": "docker_daemon_config/dockerd_version"})
    case = {"id": name, "input": module_args, "check_mode": True, "run_command": commands,
            "expect": {"failed": plan["failed"]}}
    result = run_docker_case(docker_daemon_config, case, tmp_path, monkeypatch)
    assert plan["failed"] == result["failed"]
    if plan["failed"]:
        assert plan["msg"] == result["msg"]
        assert plan["changed"] is False or not result.get("changed")
    else:
        assert plan["changed"] == result["changed"]
        assert plan["config"] == result["config"]
        assert plan["conflicts"] == result["conflicts"]
    if version is not None:
        # the module's warnings (the unknown version's is the module's own read)
        assert sorted(plan["warnings"]) == sorted(result.get("warnings") or [])


def test_expected_decisions():
    """Spot checks that the equality above is not two wrong answers."""
    def plan(version="20.10", flags=(), config=None, **kwargs):
        info = {"daemon_json": config, "daemon_json_problem": None, "dockerd_version": version,
                "storage_flags": list(flags)}
        return daemon_json_plan(info, **kwargs)
    fresh = plan(storage_driver="devicemapper", storage_opts=ROLE_OPTS)
    assert fresh["changed"] and not fresh["failed"]
    assert fresh["config"]["storage-opts"][0] == "dm.thinpooldev=/dev/mapper/docker-thinpool"
    refused = plan(flags=["/etc/default/docker: --storage-driver overlay2"], storage_driver="devicemapper",
                   storage_opts=ROLE_OPTS)
    assert refused["failed"] and "dockerd also gets storage flags outside" in refused["msg"]
    assert plan(version="26.1", storage_driver="devicemapper")["msg"].startswith("storage_driver=devicemapper:")
    assert plan(storage_driver="devicemapper", storage_opts={"dm.thinpooldev": ""})["msg"].startswith(
        "storage_opts.dm.thinpooldev:")


def test_without_the_flags_read_it_says_how_to_read_them():
    with pytest.raises(AnsibleFilterError, match="read_storage_flags=true"):
        daemon_json_plan({"daemon_json": None, "storage_flags": None}, storage_driver="devicemapper")
    # not needed when the conflicts are not checked
    assert daemon_json_plan({"daemon_json": None, "storage_flags": None}, storage_driver="overlay2",
                            check_conflicts=False)["changed"] is True


def test_input_that_is_no_storage_info_is_refused():
    with pytest.raises(AnsibleFilterError, match="docker_storage_info's registered result"):
        daemon_json_plan({"rc": 0}, storage_driver="devicemapper")


def test_version_parse_matches_the_module():
    assert parse_dockerd_version("version 20.10") == (20, 10)
