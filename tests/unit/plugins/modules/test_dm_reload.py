"""dm_reload: YAML cases on recorded lab output, and its pure planning functions."""

import os
import signal

import pytest

from case_runner import load_cases, load_fixture, run_case

from ansible_collections.container_storage.devicemapper.plugins.module_utils import _dm_reload
from ansible_collections.container_storage.devicemapper.plugins.module_utils import _lock
from ansible_collections.container_storage.devicemapper.plugins.module_utils._dm import (
    Dmsetup,
    dm_name,
    is_device_ref,
    parse_info,
    parse_table,
    render_table,
    split_dm_name,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._runner import (
    CommandRunner,
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


GROW_LABL = {
    "id": "grow_labl",
    "input": {"name": "labl", "table": "0 260096 linear 7:0 2048"},
    "run_command": [{"fixture": "dm_reload/" + name} for name in (
        "info_labl", "table_labl_64m", "reload_labl_grow", "suspend_labl", "resume_labl",
        "info_labl", "table_labl_128m")],
    "expect": {"changed": True},
}


def lock_is_free():
    other = _lock.HostLock("probe", timeout=0)
    try:
        other.acquire()
    except _lock.LockTimeout:
        return False
    other.release()
    return True


def test_every_command_runs_under_the_host_lock(tmp_path, monkeypatch):
    held = []
    real_run = CommandRunner.run

    def run_checking_lock(self, argv, **kwargs):
        held.append((argv[1], not lock_is_free()))
        return real_run(self, argv, **kwargs)

    monkeypatch.setattr(CommandRunner, "run", run_checking_lock)
    run_case(dm_reload, GROW_LABL, tmp_path, monkeypatch)
    assert [step for step, locked in held] == ["info", "table", "reload", "suspend", "resume",
                                               "info", "table"]
    assert all(locked for step, locked in held), held
    assert lock_is_free(), "the lock outlived the module"


def test_a_second_run_waits_then_fails_naming_the_holder_and_runs_nothing(tmp_path, monkeypatch):
    case = dict(GROW_LABL, run_command=[], input=dict(GROW_LABL["input"], lock_timeout=0),
                expect={"failed": True, "changed": False,
                        "msg_contains": ["another run holds the host lock", "thinpool",
                                         "lock_timeout=0s", "nothing was changed"]})
    with _lock.HostLock("thinpool", timeout=0):
        run_case(dm_reload, case, tmp_path, monkeypatch)


def test_a_refusal_releases_the_lock(tmp_path, monkeypatch):
    case = {"id": "refused", "input": {"name": "labvg-lv", "grow": True},
            "run_command": [{"fixture": "dm_reload/info_labvg_lv"},
                            {"fixture": "dm_reload/table_labvg_lv"}],
            "expect": {"failed": True, "msg_contains": ["lvextend"]}}
    run_case(dm_reload, case, tmp_path, monkeypatch)
    assert lock_is_free()


@pytest.mark.parametrize("vg, lv", [("labvg", "lv"), ("docker", "thin-pool"), ("a-", "b"),
                                    ("my-vg", "my--lv")])
def test_split_dm_name_inverts_dm_name(vg, lv):
    assert split_dm_name(dm_name(vg, lv)) == (vg, lv, "")
    assert split_dm_name(dm_name(vg, lv) + "-tpool") == (vg, lv, "tpool")


def test_split_dm_name_of_names_lvm_does_not_make():
    assert split_dm_name("labl") is None
    assert split_dm_name("docker-8:1-123141-pool-x") is None
    assert split_dm_name("-x") is None


def test_recorded_lvm_neighbour_sits_right_after_the_lv():
    """The case for item 4: lv2 starts on the PV where lv ends, so a grow of lv would take it."""
    lv, lv2 = recorded_table("table_labvg_lv")[0], recorded_table("table_labvg_lv2")[0]
    assert lv.args[0] == lv2.args[0]
    assert int(lv.args[1]) + lv.length == int(lv2.args[1])


def test_target_change_compares_the_set_of_target_types():
    linear = recorded_table("table_two")
    _dm_reload.check_target_change("two", linear, parse_table("0 2000 linear 7:0 0"), False)
    _dm_reload.check_target_change("new", [], parse_table("0 2000 error"), False)
    with pytest.raises(_dm_reload.ReloadError, match="allow_target_change"):
        _dm_reload.check_target_change("two", linear, parse_table("0 2000 error"), False)
    _dm_reload.check_target_change("two", linear, parse_table("0 2000 error"), True)


def _signal_before(monkeypatch, step, signum):
    """Deliver ``signum`` to the module just as it starts ``dmsetup <step>``, as a killed run would."""
    real_run = CommandRunner.run

    def run(self, argv, **kwargs):
        if list(argv[:2]) == ["dmsetup", step] and not run.sent:
            run.sent = True
            os.kill(os.getpid(), signum)
        return real_run(self, argv, **kwargs)

    run.sent = False
    monkeypatch.setattr(CommandRunner, "run", run)


def test_sigterm_while_suspending_resumes_the_device_before_the_module_ends(tmp_path, monkeypatch):
    _signal_before(monkeypatch, "suspend", signal.SIGTERM)
    before = signal.getsignal(signal.SIGTERM)
    case = {
        "id": "sigterm_at_suspend",
        "input": {"name": "labl", "table": "0 260096 linear 7:0 2048"},
        "run_command": [{"fixture": "dm_reload/" + name} for name in (
            "info_labl", "table_labl_64m", "reload_labl_grow",
            # the signal arrives before the suspend runs: the restore follows
            "table_labl_64m", "clear_labl", "resume_labl", "info_labl", "table_labl_64m")],
        "expect": {"failed": True, "changed": False,
                   "msg_contains": ["the module received SIGTERM", "discarded the new table",
                                    "resumed 'labl'", "previous table is live"]},
    }
    run_case(dm_reload, case, tmp_path, monkeypatch)
    assert signal.getsignal(signal.SIGTERM) == before


def test_sighup_while_loading_discards_the_inactive_table(tmp_path, monkeypatch):
    _signal_before(monkeypatch, "reload", signal.SIGHUP)
    case = {
        "id": "sighup_at_reload",
        "input": {"name": "labl", "table": "0 260096 linear 7:0 2048"},
        "run_command": [{"fixture": "dm_reload/" + name} for name in (
            "info_labl", "table_labl_64m", "clear_labl")],
        "expect": {"failed": True, "changed": False,
                   "msg_contains": ["the module received SIGHUP", "dmsetup clear labl",
                                    "not suspended and its live table is unchanged"]},
    }
    run_case(dm_reload, case, tmp_path, monkeypatch)
