"""docker_storage_info: YAML cases (run through docker_case_files, which proves a failure changed nothing)."""

import os

import pytest
from case_runner import load_cases
from docker_case_files import run_docker_case

from ansible_collections.container_storage.devicemapper.plugins.modules import docker_storage_info

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "docker_storage_info_cases.yml")


@pytest.mark.parametrize("case", load_cases(CASES))
def test_docker_storage_info(case, tmp_path, monkeypatch):
    run_docker_case(docker_storage_info, case, tmp_path, monkeypatch)
