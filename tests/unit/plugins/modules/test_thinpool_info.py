"""YAML unit cases for the thinpool_info module (command output recorded in the lab VM)."""

import os

import pytest

from case_runner import assert_subset, load_cases, run_case

from ansible_collections.container_storage.devicemapper.plugins.modules import thinpool_info

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "thinpool_info_cases.yml")

# The engines' configuration files are read from the case's tmpdir (its `files`), never from
# the host that runs the tests; a case may still name other paths in its input.
CONFIG_PATHS = {
    "docker_config": "{tmpdir}/etc/docker/daemon.json",
    "containerd_config": "{tmpdir}/etc/containerd/config.toml",
}


@pytest.mark.parametrize("case", load_cases(CASES))
def test_thinpool_info(case, tmp_path, monkeypatch):
    case = dict(case, input=dict(CONFIG_PATHS, **(case.get("input") or {})))
    result = run_case(thinpool_info, case, tmp_path, monkeypatch)
    # pools: one subset per pool, in order (the case runner compares lists whole)
    if "pools" in case:
        assert len(result["pools"]) == len(case["pools"]), result["pools"]
        for index, expected in enumerate(case["pools"]):
            assert_subset(expected, result["pools"][index], "pools[%d]" % index)
