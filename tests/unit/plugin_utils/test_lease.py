# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run lease: the plan's decisions (plan_lease) and lease.sh run for real on a temporary file.

The plan cases read what lease.sh read printed here, in a temporary directory, so the
script and the plan are tested together: a second run refuses while the first holds the
lease, takes it over once it expired or is broken, and a run that lost it stops.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

import pytest
from devicemapper_reads import host_read, storage_info, variables

from ansible_collections.container_storage.devicemapper.plugins.module_utils._script import parse_sections
from ansible_collections.container_storage.devicemapper.plugins.plugin_utils._lease import (
    controller_identity, parse_lease, plan_lease,
)
from ansible_collections.container_storage.devicemapper.plugins.filter.devicemapper_plan import devicemapper_plan
from ansible_collections.container_storage.devicemapper.plugins.filter.run_lease import run_lease

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "devicemapper", "files", "lease.sh")

FIRST = {"controller": "ctl1", "user": "ops", "pid": "4242", "playbook": "site.yml", "token": "ctl1/4242/99"}
SECOND = {"controller": "ctl2", "user": "cron", "pid": "777", "playbook": "drift.yml", "token": "ctl2/777/5"}


@pytest.fixture
def lease(tmp_path):
    path = str(tmp_path / "state" / "run.lease")

    def run(*args):
        with open(SCRIPT) as handle:
            text = handle.read()
        env = dict(os.environ, CONTAINER_STORAGE_LEASE_FILE=path)
        return subprocess.run(["/bin/sh", "-c", text, "lease.sh"] + [str(a) for a in args], env=env,
                              capture_output=True, text=True, timeout=30, check=False)

    run.path = path
    return run


def read(lease):
    ran = lease("read")
    assert ran.returncode == 0, ran.stderr
    return parse_sections(ran.stdout)


def plan(lease, identity, role="devicemapper", check_mode=False, **variables):
    return plan_lease(read(lease), identity, role, variables, check_mode=check_mode, host="h1")


def take(lease, identity, **variables):
    decided = plan(lease, identity, **variables)
    assert decided["take"], decided
    ran = lease(*decided["take_args"])
    assert ran.returncode == 0, ran.stderr
    return decided


def test_a_free_host_is_taken_and_the_lease_names_the_holder(lease):
    decided = take(lease, FIRST, devicemapper_lease_seconds=600)
    assert decided["state"] == "free" and decided["refusals"] == []
    written = parse_lease(open(lease.path).read())
    assert written["token"] == FIRST["token"] and written["controller"] == "ctl1" and written["user"] == "ops"
    assert written["pid"] == "4242" and written["playbook"] == "site.yml" and written["role"] == "devicemapper"
    assert int(written["expires"]) - int(written["renewed"]) == 600
    assert os.stat(lease.path).st_mode & 0o077 == 0


def test_a_second_run_refuses_naming_the_holder_its_step_and_expiry(lease):
    take(lease, FIRST)
    assert lease("renew", FIRST["token"], 3900, "move the data root aside").returncode == 0
    decided = plan(lease, SECOND)
    assert decided["state"] == "held" and not decided["take"]
    message = decided["refusals"][0]
    assert message.startswith("devicemapper role: another run holds this host's run lease " + lease.path)
    for part in ("ops@ctl1", "PID 4242", "playbook site.yml", "at step 'move the data root aside'", "expires ",
                 "nothing was changed", "devicemapper_break_lease=true"):
        assert part in message


def test_check_mode_reports_a_held_lease_and_takes_none(lease):
    assert not plan(lease, SECOND, check_mode=True)["take"]
    take(lease, FIRST)
    decided = plan(lease, SECOND, check_mode=True)
    assert decided["refusals"] and decided["notice"] == decided["refusals"][0] and not decided["take"]


def test_a_run_finds_its_own_lease_its_own(lease):
    take(lease, FIRST, role="migrate")
    # migrate runs the devicemapper role in check mode inside the same ansible-playbook run
    decided = plan(lease, FIRST, check_mode=True)
    assert decided["state"] == "mine" and decided["refusals"] == [] and not decided["take"]
    # nor for real (migrate's switch to containerd's snapshotter): the lease stays migrate's to release
    decided = plan(lease, FIRST)
    assert decided["state"] == "mine" and decided["refusals"] == [] and not decided["take"]


def test_an_expired_lease_is_taken_over_and_said_so(lease):
    take(lease, FIRST, devicemapper_lease_seconds=60)
    sections = read(lease)
    sections["now"] = [str(int(sections["now"][0]) + 61)]
    decided = plan_lease(sections, SECOND, "devicemapper", {}, host="h1")
    assert decided["state"] == "expired" and decided["take"] and decided["refusals"] == []
    assert "expired" in decided["notice"] and "ops@ctl1" in decided["notice"]


def test_the_break_switch_takes_a_live_lease_and_logs_whose_it_broke(lease):
    take(lease, FIRST)
    decided = take(lease, SECOND, devicemapper_break_lease="yes")
    assert decided["state"] == "broken" and "ops@ctl1" in decided["broke"]
    assert parse_lease(open(lease.path).read())["token"] == SECOND["token"]
    assert "ops@ctl1" in open(lease.path + ".log").read()
    # the run whose lease was broken stops at its next step, and its end leaves the new lease alone
    renewed = lease("renew", FIRST["token"], 3900, "start Docker")
    assert renewed.returncode == 75 and "no longer holds" in renewed.stderr and "cron" in renewed.stderr
    assert lease("release", FIRST["token"]).stdout.strip() == "not held by this run"
    assert os.path.exists(lease.path)


def test_two_runs_that_read_a_free_host_at_once_take_it_once(lease):
    first, second = plan(lease, FIRST), plan(lease, SECOND)
    assert lease(*first["take_args"]).returncode == 0
    lost = lease(*second["take_args"])
    assert lost.returncode == 75 and "ctl1/4242/99" in lost.stderr and "nothing was changed" in lost.stderr


def test_renew_keeps_the_holder_and_moves_the_step_and_expiry(lease):
    take(lease, FIRST)
    assert lease("renew", FIRST["token"], 120, "start Docker").returncode == 0
    written = parse_lease(open(lease.path).read())
    assert written["step"] == "start Docker" and written["user"] == "ops"
    assert int(written["expires"]) - int(written["renewed"]) == 120
    assert list(written).count("step") == 1


def test_release_removes_only_this_runs_lease(lease):
    assert lease("release", FIRST["token"]).stdout.strip() == "not held by this run"
    take(lease, FIRST)
    assert lease("release", SECOND["token"]).stdout.strip() == "not held by this run"
    assert lease("release", FIRST["token"]).stdout.strip() == "released"
    assert not os.path.exists(lease.path)
    assert plan(lease, SECOND)["state"] == "free"


@pytest.mark.parametrize("variables, wrong", [
    ({"devicemapper_lease_seconds": 10}, "devicemapper_lease_seconds"),
    ({"devicemapper_lease_seconds": "soon"}, "devicemapper_lease_seconds"),
    ({"devicemapper_break_lease": "perhaps"}, "devicemapper_break_lease"),
])
def test_wrong_variables_are_refused(lease, variables, wrong):
    decided = plan(lease, FIRST, **variables)
    assert not decided["take"] and decided["refusals"][0].startswith("devicemapper role: " + wrong)


def test_the_filter_identifies_this_run(lease):
    me = controller_identity()
    assert me["pid"] == str(os.getpid()) and me["token"].startswith(me["controller"] + "/")
    decided = run_lease(read(lease), "migrate", {}, host="h1")
    assert decided["take"] and decided["seconds"] == 7500 and decided["release_args"] == ["release", me["token"]]


# The devicemapper role: the lease's refusal comes first among the plan's, and every plan the
# role makes (probe, containerd's path, absent) carries the lease's decision.
ROLE_TASKS = os.path.join(os.path.dirname(SCRIPT), "..", "tasks")


def test_every_plan_of_the_devicemapper_role_carries_the_lease():
    calls = 0
    for name in sorted(os.listdir(ROLE_TASKS)):
        with open(os.path.join(ROLE_TASKS, name)) as handle:
            text = handle.read()
        for call in text.split("container_storage.devicemapper.devicemapper_plan(")[1:]:
            calls += 1
            assert "lease=__devicemapper_lease)" in call.split("}}")[0], name
    assert calls == 3


@pytest.mark.parametrize("check_mode, held, take", [(False, False, True), (True, False, False), (False, True, False)])
def test_the_devicemapper_plan_puts_the_lease_refusal_first(lease, tmp_path, monkeypatch, check_mode, held, take):
    if held:
        take_lease = plan(lease, FIRST)
        assert lease(*take_lease["take_args"]).returncode == 0
    decided = plan(lease, SECOND, check_mode=check_mode)
    # Docker 20.10 on overlay2, running, as recorded (tests/unit/fixtures/docker_storage_info)
    probe = storage_info("running_overlay2_is_read_from_docker_info", tmp_path, monkeypatch)
    made = devicemapper_plan(probe, host_read(tmp_path, "/var/lib/docker"), variables(devicemapper_devices=["/dev/vdb"]),
                             "20261205T170000Z", check_mode=check_mode, lease=decided)
    assert made["take_lease"] is take
    assert bool(made["refusals"]) is held
    if held:
        assert made["refusals"][0].startswith("devicemapper role: another run holds this host's run lease")
