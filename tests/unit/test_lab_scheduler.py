"""tools/lab/run_scenarios.py: the order jobs start in (no VM)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools", "lab"))

import run_scenarios  # noqa: E402


def test_jobs_needing_every_slot_start_right_after_the_smoke_test():
    needed = {"lab": 1, "containerd": 1, "waves": 3, "thinpool": 1, "pair": 2, "matrix:x": 1}.get
    jobs = ["lab", "containerd", "waves", "thinpool", "pair", "matrix:x"]
    same = {}  # no durations known: the order given
    assert run_scenarios.start_order(jobs, 2, needed, same) == ["lab", "waves", "pair", "containerd", "thinpool", "matrix:x"]
    # With room for three VMs only the three-VM job is "every slot".
    assert run_scenarios.start_order(jobs, 3, needed, same) == ["lab", "waves", "containerd", "thinpool", "pair",
                                                                "matrix:x"]


def test_the_other_jobs_start_longest_first_so_no_long_job_starts_last():
    needed = {"lab": 1, "waves": 3}.get
    seconds = {"lab": 60, "waves": 500, "short": 100, "long": 800, "middle": 400}
    jobs = ["lab", "short", "waves", "unknown", "middle", "long"]
    # An unknown job counts as DEFAULT_SECONDS (300).
    assert run_scenarios.start_order(jobs, 2, lambda job: needed(job, 1), seconds) == [
        "lab", "waves", "long", "middle", "unknown", "short"]


def test_every_scenario_has_a_measured_duration():
    scenarios = [name for name in os.listdir(os.path.join(run_scenarios.REPO, "molecule"))
                 if name != "shared" and os.path.isdir(os.path.join(run_scenarios.REPO, "molecule", name))]
    assert sorted(set(scenarios) - set(run_scenarios.MEASURED_SECONDS)) == []


def test_the_waves_scenario_is_counted_as_three_vms():
    assert run_scenarios.vms_needed("waves") == 3
    assert run_scenarios.vms_needed("matrix:core2.16-py3.6") == 1


def test_every_image_the_jobs_boot_is_built_first():
    platforms = {"lab": [{}], "containerd": [{"suite": "trixie"}], "waves": [{}, {}, {}],
                 "matrix:x": [{"suite": "bookworm"}]}.get
    assert run_scenarios.suites_needed(["lab", "waves"], platforms) == ["bookworm"]
    assert run_scenarios.suites_needed(["containerd"], platforms) == ["trixie"]
    assert run_scenarios.suites_needed(["lab", "containerd", "waves", "matrix:x"], platforms) == ["bookworm", "trixie"]


def test_the_repository_scenarios_need_every_image():
    scenarios = [name for name in os.listdir(os.path.join(run_scenarios.REPO, "molecule"))
                 if name != "shared" and os.path.isdir(os.path.join(run_scenarios.REPO, "molecule", name))]
    assert run_scenarios.suites_needed(scenarios + ["matrix:core2.16-py3.6"]) == [
        "bookworm", "bookworm-minimal", "forky", "trixie"]
