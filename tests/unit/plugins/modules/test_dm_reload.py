"""dm_reload: YAML cases on recorded lab output, and its pure planning functions."""

import os

import pytest

from case_runner import load_cases, load_fixture, run_case

from ansible_collections.container_storage.devicemapper.plugins.module_utils import _dm_reload
from ansible_collections.container_storage.devicemapper.plugins.module_utils._dm import (
    Dmsetup,
    is_device_ref,
    parse_info,
    parse_table,
    render_table,
)
from ansible_collections.container_storage.devicemapper.plugins.modules import dm_reload

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dm_reload_cases.yml")


@pytest.mark.parametrize("case", load_cases(CASES))
def test_dm_reload(case, tmp_path, monkeypatch):
    run_case(dm_reload, case, tmp_path, monkeypatch)


def recorded_table(name):
    return parse_table(load_fixture("dm_reload/" + name)["out"])


def test_info_attr_flags_from_recorded_output():
    active = parse_info(load_fixture("dm_reload/info_labl")["out"])
    assert (active["name"], active["devno"], active["suspended"], active["inactive"]) == (
        "labl", "253:0", False, False)
    left = parse_info(load_fixture("dm_reload/info_labl_suspended_inactive")["out"])
    assert left["suspended"] and left["inactive"] and left["live"]
    assert parse_info(load_fixture("dm_reload/info_lvm_lv")["out"])["uuid"].startswith("LVM-")


def test_device_refs_are_numbers_or_dev_paths_only():
    assert [a for a in ["7:1", "/dev/loop2", "128", "32768", "1", "skip_block_zeroing"]
            if is_device_ref(a)] == ["7:1", "/dev/loop2"]
    assert not is_device_ref("a:b")


def test_grown_thin_pool_keeps_every_argument_but_the_length():
    line = _dm_reload.growable_segment(recorded_table("table_tp_256m"), "tp")
    assert _dm_reload.grow_source(line) == "7:2"
    grown = _dm_reload.grown_table(line, 786432, "tp")
    assert render_table(grown) == render_table(recorded_table("table_tp_384m"))


def test_grown_linear_subtracts_its_offset():
    line = _dm_reload.growable_segment(recorded_table("table_labl_64m"), "labl")
    assert render_table(_dm_reload.grown_table(line, 262144, "labl")) == "0 260096 linear 7:0 2048"
    with pytest.raises(_dm_reload.ReloadError, match="only 1024 sectors"):
        _dm_reload.grown_table(line, 1024, "labl")


def test_grow_refuses_a_two_segment_table():
    with pytest.raises(_dm_reload.ReloadError, match="2 segment"):
        _dm_reload.growable_segment(recorded_table("table_two"), "two")


def test_segments_must_start_at_zero_and_be_contiguous():
    _dm_reload.check_segments(recorded_table("table_two"), "two")
    with pytest.raises(_dm_reload.ReloadError, match="starts at 5"):
        _dm_reload.check_segments(parse_table("5 10 linear 7:0 0"), "x")
    with pytest.raises(_dm_reload.ReloadError, match="start and length must be integers"):
        _dm_reload.desired_from_table("0 ten linear 7:0 0", "x")


def test_shrink_rules():
    pool_big, pool_small = recorded_table("table_tp_384m"), recorded_table("table_tp_256m")
    _dm_reload.check_shrink("tp", pool_small, pool_big, allow_shrink=False)
    with pytest.raises(_dm_reload.ReloadError, match="thin-pool"):
        _dm_reload.check_shrink("tp", pool_big, pool_small, allow_shrink=True)
    lin_big, lin_small = recorded_table("table_labl_128m"), recorded_table("table_labl_64m")
    with pytest.raises(_dm_reload.ReloadError, match="allow_shrink"):
        _dm_reload.check_shrink("labl", lin_big, lin_small, allow_shrink=False)
    _dm_reload.check_shrink("labl", lin_big, lin_small, allow_shrink=True)


def test_plan_for_an_active_device_loads_before_suspending():
    state = _dm_reload.DeviceState(
        "labl", parse_info(load_fixture("dm_reload/info_labl")["out"]),
        recorded_table("table_labl_64m"))
    plan = _dm_reload.ReloadPlan(state, recorded_table("table_labl_128m"), [], noflush=True)
    assert plan.steps() == [
        Dmsetup.reload("labl", "0 260096 linear 7:0 2048"),
        ["dmsetup", "suspend", "--noflush", "labl"],
        ["dmsetup", "resume", "labl"],
    ]
    unchanged = _dm_reload.ReloadPlan(state, recorded_table("table_labl_64m"), [], noflush=False)
    assert unchanged.steps() == [] and not unchanged.changed
