"""tools/lab/run_scenarios.py: the order jobs start in (no VM)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools", "lab"))

import run_scenarios  # noqa: E402


def test_jobs_needing_every_slot_start_right_after_the_smoke_test():
    needed = {"lab": 1, "containerd": 1, "waves": 3, "thinpool": 1, "pair": 2, "matrix:x": 1}.get
    jobs = ["lab", "containerd", "waves", "thinpool", "pair", "matrix:x"]
    assert run_scenarios.start_order(jobs, 2, needed) == ["lab", "waves", "pair", "containerd", "thinpool", "matrix:x"]
    # With room for three VMs only the three-VM job is "every slot".
    assert run_scenarios.start_order(jobs, 3, needed) == ["lab", "waves", "containerd", "thinpool", "pair", "matrix:x"]


def test_the_waves_scenario_is_counted_as_three_vms():
    assert run_scenarios.vms_needed("waves") == 3
    assert run_scenarios.vms_needed("matrix:core2.16-py3.6") == 1
