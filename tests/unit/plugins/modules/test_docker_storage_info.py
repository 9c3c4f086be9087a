import os

import pytest
from case_runner import load_cases, run_case

from ansible_collections.container_storage.devicemapper.plugins.modules import docker_storage_info

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "docker_storage_info_cases.yml")


@pytest.mark.parametrize("case", load_cases(CASES))
def test_docker_storage_info(case, tmp_path, monkeypatch):
    run_case(docker_storage_info, case, tmp_path, monkeypatch)


def test_invalid_daemon_json_names_line_and_column(tmp_path, monkeypatch):
    case = load_cases(CASES)[4].values[0]
    result = run_case(docker_storage_info, case, tmp_path, monkeypatch)
    assert "line 3, column 1" in result["daemon_json_error"]
