"""docker_storage_info: YAML cases (run through docker_case_files, which proves a failure changed nothing)."""

import os

import pytest
from case_runner import load_cases, load_fixture
from docker_case_files import run_docker_case

from ansible_collections.container_storage.devicemapper.plugins.module_utils._docker_storage import (
    parse_docker_info, parse_plugin_status,
)
from ansible_collections.container_storage.devicemapper.plugins.modules import docker_storage_info

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "docker_storage_info_cases.yml")


@pytest.mark.parametrize("case", load_cases(CASES))
def test_docker_storage_info(case, tmp_path, monkeypatch):
    run_docker_case(docker_storage_info, case, tmp_path, monkeypatch)


@pytest.mark.parametrize("out, error", [
    ("not json", "docker info printed no JSON"),
    ("[1, 2]", "docker info printed JSON that is not an object"),
    ('{"ServerErrors": ["Cannot connect", 5]}', "Cannot connect; 5"),
])
def test_docker_info_that_is_not_a_report_is_an_error_not_a_traceback(out, error):
    info, problem = parse_docker_info(out)
    assert info is None and error in problem


def test_docker_info_driver_status_pairs_only():
    info, problem = parse_docker_info('{"Driver": "overlay2", "DriverStatus": [["a", "b"], "c", ["d"]]}')
    assert problem is None and info["driver_status"] == {"a": "b"}


# `ctr plugins ls` of containerd 1.7.24, recorded in the Debian 13 lab VM for containerd_devmapper.
@pytest.mark.parametrize("fixture, status", [
    ("containerd_devmapper/ctr_plugins_ls_unconfigured", "skip"),
    ("containerd_devmapper/ctr_plugins_ls_devmapper", "ok"),
])
def test_devmapper_plugin_status_from_recorded_ctr_plugins_ls(fixture, status):
    assert parse_plugin_status(load_fixture(fixture)["out"]) == status


def test_a_plugin_not_listed_has_no_status():
    out = load_fixture("containerd_devmapper/ctr_plugins_ls_devmapper")["out"]
    assert parse_plugin_status(out, ("io.containerd.snapshotter.v1", "stargz")) is None
    assert parse_plugin_status("") is None
