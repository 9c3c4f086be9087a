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
