"""wave_summary filter (plugins/plugin_utils/_wave.py): what direct_lvm.yml and migrate.yml say after each wave,
and when they stop the rollout. The texts are the playbooks' own, as they were written in Jinja before."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.container_storage.devicemapper.plugins.filter.wave_summary import FilterModule, wave_summary
from ansible_collections.container_storage.devicemapper.plugins.plugin_utils._wave import summarize_wave

NO_RESULT = "FAILED or unreachable, with no result from the role (see its error above)"
SWITCHED = {"switched": True, "store": "devicemapper:direct-lvm", "rolled_back": False, "docker_changed": True}
UNCHANGED = {"switched": False, "store": "devicemapper:direct-lvm", "rolled_back": False}
ROLLED_BACK = {"switched": True, "rolled_back": True, "store": "overlay2",
               "message": "on h2 the switch failed:\n  docker did not start;\tDocker is back on overlay2"}
REFUSED_LATE = {"switched": False, "rolled_back": False, "message": "another run of the role changed\n the record"}


def test_a_wave_that_finished_is_summed_up_and_goes_on():
    wave = summarize_wave(["h1", "h2"], {"h1": SWITCHED, "h2": UNCHANGED}, "devicemapper", "0", False, "h1")
    assert wave["stop"] is False and wave["lost"] == [] and wave["done"] == ["h1", "h2"]
    assert wave["summary"] == ("Wave of 2: h1: ok, Docker on devicemapper:direct-lvm (switched by this run)"
                               " | h2: ok, Docker on devicemapper:direct-lvm (nothing to switch)")


def test_check_mode_says_what_a_real_run_would_do():
    wave = summarize_wave(["canary"], {"canary": {"switched": "yes", "store": "devicemapper:loop"}}, "devicemapper",
                          0, True, "canary")
    assert wave["summary"] == "Wave of 1: canary: ok, a real run would switch Docker to devicemapper:loop (check mode)"


def test_failed_rolled_back_and_unreachable_hosts_stop_the_rollout():
    results = {"h1": SWITCHED, "h2": ROLLED_BACK, "h3": REFUSED_LATE, "h4": None, "h5": "not a mapping"}
    wave = summarize_wave(["h1", "h2", "h3", "h4", "h5", "h6"], results, "devicemapper", 0, False, "h1")
    assert wave["done"] == ["h1"] and wave["lost"] == ["h2", "h3", "h4", "h5", "h6"]
    assert wave["stop"] is True
    assert wave["lines"] == {
        "h1": "ok, Docker on devicemapper:direct-lvm (switched by this run)",
        "h2": "FAILED and rolled back: on h2 the switch failed: docker did not start; Docker is back on overlay2",
        "h3": "FAILED: another run of the role changed the record",
        "h4": NO_RESULT, "h5": NO_RESULT, "h6": NO_RESULT,
    }
    assert wave["fail_msg"] == (
        "Rollout stopped after this wave: h2, h3, h4, h5, h6 failed or were unreachable (5 of 6 hosts; "
        "devicemapper_max_fail_percentage is 0). Later waves were not touched. This task fails on h1 only to stop "
        "the rollout. Fix the host(s) and run the same command again. " + wave["summary"])


@pytest.mark.parametrize("percentage, lost, stop", [
    (0, 1, True), ("0", 0, False),
    ("25", 1, False), ("25", 2, True), (25, 1, False),
    ("24", 1, True),
    ("25.9", 1, False), ("24.9", 1, True),    # Jinja's int cuts a float
    ("many", 1, True), (None, 1, True),       # no number: 0
    ("100", 4, False),
])
def test_the_rollout_stops_when_more_than_the_percentage_is_lost(percentage, lost, stop):
    hosts = ["h1", "h2", "h3", "h4"]
    results = {host: UNCHANGED for host in hosts[lost:]}
    wave = summarize_wave(hosts, results, "devicemapper", percentage, False, "h4")
    assert len(wave["lost"]) == lost and wave["stop"] is stop
    # the percentage is named as it was given
    assert "devicemapper_max_fail_percentage is %s)." % (percentage,) in wave["fail_msg"]


def test_migrate_reports_the_new_store_and_the_images_carried():
    results = {
        "h1": {"state": "overlay2 on docker/docker-data", "images_carried": 12},
        "h2": {"state": "containerd-snapshotter"},
        "h3": {"message": "images_load failed:\n  no space left;\trolled back to the pool"},
    }
    wave = summarize_wave(["h1", "h2", "h3", "h4"], results, "migrate", "50", False, "h1")
    assert wave["lines"] == {
        "h1": "ok, overlay2 on docker/docker-data (12 images carried)",
        "h2": "ok, containerd-snapshotter (0 images carried)",
        "h3": "FAILED and rolled back: images_load failed: no space left; rolled back to the pool",
        "h4": NO_RESULT,
    }
    assert wave["stop"] is False
    assert summarize_wave(["h1", "h2", "h3", "h4"], results, "migrate", "49", False, "h1")["fail_msg"].startswith(
        "Rollout stopped after this wave: h3, h4 failed or were unreachable (2 of 4 hosts; "
        "migrate_max_fail_percentage is 49). Later waves were not touched. This task fails on h1 only")


class FakeHostVars(dict):
    """hostvars as a filter sees it: host -> that host's variables."""


def test_the_filter_reads_each_roles_fact_from_hostvars():
    hostvars = FakeHostVars(
        h1={"devicemapper_role_result": SWITCHED, "migrate_report": {"message": "not this role's"}},
        h2={"inventory_hostname": "h2"},
    )
    wave = wave_summary(["h1", "h2"], hostvars, "devicemapper", 50, False, "h1")
    assert wave["done"] == ["h1"] and wave["lost"] == ["h2"] and wave["stop"] is False
    wave = wave_summary(["h1", "h2"], hostvars, "migrate", 50, False, "h1")
    assert wave["done"] == [] and wave["stop"] is True
    assert FilterModule().filters() == {"wave_summary": wave_summary}


@pytest.mark.parametrize("wave, role", [(["h1"], "thinpool"), ("h1", "devicemapper"), (None, "migrate")])
def test_what_cannot_be_summed_up_is_an_error(wave, role):
    with pytest.raises(AnsibleFilterError, match="wave_summary: "):
        wave_summary(wave, {}, role)
