"""playbooks/direct_lvm.yml and grow_loop_pool.yml: waves that stop, on this machine (no VM).

The rollout test runs the real playbook in check mode against four local inventory
hosts, one of them unreachable, with the role in a mode that needs no Docker
(loop-lvm, devicemapper_manage_docker=no, a daemon.json in a temporary directory).
"""

import os
import subprocess
import sys
import tempfile

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
PLAYBOOK = os.path.join(COLLECTIONS, "ansible_collections", "container_storage", "devicemapper",
                        "playbooks", "direct_lvm.yml")


def load(name):
    with open(os.path.join(ROOT, "playbooks", name)) as handle:
        return yaml.safe_load(handle)


def test_direct_lvm_fixes_the_strategy_and_guards_unreachable_hosts():
    play = load("direct_lvm.yml")[0]
    assert play["strategy"] == "linear"
    guard = play["tasks"][-1]["always"][-1]
    assert guard["run_once"] is True and guard["any_errors_fatal"] is True


def test_grow_loop_pool_runs_in_waves_and_says_what_check_mode_would_do():
    play = load("grow_loop_pool.yml")[0]
    assert play["serial"] == "{{ grow_loop_pool_serial | default(1) }}"
    assert play["max_fail_percentage"] == 0 and play["strategy"] == "linear"
    reload_task = next(task for task in play["tasks"] if "container_storage.devicemapper.dm_reload" in task)
    assert reload_task["when"] == "not (ansible_check_mode and grow_loop_pool_grows)"
    say = play["tasks"][-1]
    assert say["changed_when"] == "ansible_check_mode and grow_loop_pool_grows"


def run_rollout(wave2b_vars=""):
    """The real playbook in check mode over canary, wave2a (unreachable), wave2b and wave3."""
    work = tempfile.mkdtemp()
    python = sys.executable
    inventory = os.path.join(work, "inventory")
    with open(inventory, "w") as handle:
        handle.write("[docker_hosts]\n")
        for name in ("canary", "wave2a", "wave2b", "wave3"):
            if name == "wave2a":
                handle.write("%s ansible_connection=ssh ansible_host=127.0.0.1 ansible_port=9 "
                             "ansible_ssh_args='-o ConnectTimeout=5'\n" % name)
            else:
                handle.write("%s ansible_connection=local ansible_python_interpreter=%s %s\n"
                             % (name, python, wave2b_vars if name == "wave2b" else ""))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_STRATEGY="free",
               ANSIBLE_CONFIG=os.path.join(ROOT, "tools", "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    argv = [os.path.join(os.path.dirname(python), "ansible-playbook"), "-i", inventory, "--check", PLAYBOOK,
            "-e", '{"devicemapper_serial": [1, 2], "devicemapper_become": false, "devicemapper_mode": "loop-lvm",'
                  ' "devicemapper_manage_docker": "no", "devicemapper_install_packages": "no",'
                  ' "devicemapper_docker_config": "%s/daemon.json"}' % work]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    out = result.stdout
    assert result.returncode != 0, out
    recap = out[out.index("PLAY RECAP"):]
    assert "canary" in recap and "wave2b" in recap
    assert "wave3" not in recap, out  # the third wave was never touched
    return " ".join(out.split())


@pytest.mark.skipif(not os.path.exists(PLAYBOOK), reason="collection not linked under .build (make setup)")
def test_an_unreachable_host_stops_the_rollout_after_its_wave():
    flat = run_rollout()
    assert "Rollout stopped after this wave: wave2a failed or were unreachable" in flat
    # The wave's summary names every host of it, with what the role reported there.
    # A check-mode run says what a real run would do, never that it switched.
    assert "Wave of 1: canary: ok, a real run would switch Docker to devicemapper:loop (check mode)" in flat, flat
    assert "wave2a: FAILED or unreachable, with no result from the role" in flat
    assert "wave2b: ok, a real run would switch Docker to " in flat
    assert "switched by this run" not in flat


@pytest.mark.skipif(not os.path.exists(PLAYBOOK), reason="collection not linked under .build (make setup)")
def test_a_wave_where_every_host_failed_is_summed_up_too():
    # wave2b is refused by the role's first check: no host of wave 2 is left, and the
    # summary still runs (the block's always), on the refused host.
    flat = run_rollout("devicemapper_storage_opts=dm.bad")
    assert "Rollout stopped after this wave: wave2a, wave2b failed or were unreachable (2 of 2 hosts" in flat
    assert "wave2b: FAILED or unreachable, with no result from the role" in flat
    assert "fatal: [wave2b]: FAILED!" in flat


def test_direct_lvm_leaves_the_wave_to_finish_before_it_stops():
    # Ansible's max_fail_percentage would stop the wave's other hosts wherever they are
    # (even between the stop and the start of Docker), with failed=0 in the recap.
    play = load("direct_lvm.yml")[0]
    assert "max_fail_percentage" not in play
    # The summary is the role's block's `always`: it runs even when every host of the
    # wave failed (then Ansible ends the play before any post_tasks).
    wave = play["tasks"][-1]
    assert wave["block"] == [{"name": "Put Docker on devicemapper",
                              "ansible.builtin.import_role": {"name": "container_storage.devicemapper.devicemapper"}}]
    guard = wave["always"][-1]
    assert_sums_up_with_the_filter(guard, "devicemapper")
    assert "roles" not in play and "post_tasks" not in play


def assert_sums_up_with_the_filter(guard, role):
    """The wave's decisions are wave_summary's (tests/unit/plugins/filter/test_wave_summary.py): the task only
    passes the playbook's values and shows its messages."""
    summary = "%s_wave_summary" % role
    assert guard["ansible.builtin.assert"] == {"that": "not %s.stop" % summary,
                                               "success_msg": "{{ %s.summary }}" % summary,
                                               "fail_msg": "{{ %s.fail_msg }}" % summary}
    call = " ".join(guard["vars"][summary].split())
    assert call == ("{{ %s_wave | container_storage.devicemapper.wave_summary(hostvars, '%s', "
                    "%s_max_fail_percentage | default(0), ansible_check_mode, inventory_hostname) }}"
                    % (role, role, role))


MIGRATE_PLAYBOOK = os.path.join(os.path.dirname(PLAYBOOK), "migrate.yml")


def test_migrate_leaves_the_wave_to_finish_and_sums_it_up():
    play = load("migrate.yml")[0]
    assert "max_fail_percentage" not in play and play["strategy"] == "linear"
    wave = play["tasks"][-1]
    assert wave["block"] == [{"name": "Move Docker off devicemapper",
                              "ansible.builtin.import_role": {"name": "container_storage.devicemapper.migrate"}}]
    guard = wave["always"][-1]
    assert guard["run_once"] is True and guard["any_errors_fatal"] is True
    assert_sums_up_with_the_filter(guard, "migrate")


@pytest.mark.skipif(not os.path.exists(MIGRATE_PLAYBOOK), reason="collection not linked under .build (make setup)")
def test_a_migrate_canary_that_fails_is_named_and_stops_the_rollout():
    # The canary's inventory gives an LV name LVM refuses: the role refuses it before anything;
    # the summary still runs (every host of the wave failed) and the next wave is never touched.
    work = tempfile.mkdtemp()
    python = sys.executable
    inventory = os.path.join(work, "inventory")
    with open(inventory, "w") as handle:
        handle.write("[docker_hosts]\n")
        for name in ("canary", "wave2"):
            handle.write("%s ansible_connection=local ansible_python_interpreter=%s %s\n"
                         % (name, python, "migrate_lv_name=-bad" if name == "canary" else ""))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
               ANSIBLE_CONFIG=os.path.join(ROOT, "tools", "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    argv = [os.path.join(os.path.dirname(python), "ansible-playbook"), "-i", inventory, "--check", MIGRATE_PLAYBOOK,
            "-e", '{"migrate_serial": 1, "migrate_become": false, "migrate_export_path": "%s/export",'
                  ' "migrate_lv_size": "1G"}' % work]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    out = result.stdout
    assert result.returncode != 0, out
    flat = " ".join(out.split())
    assert "Rollout stopped after this wave: canary failed or were unreachable (1 of 1 hosts" in flat, out
    assert "Wave of 1: canary: FAILED or unreachable, with no result from the role" in flat
    assert "lv_name=-bad" in flat
    assert "wave2" not in out[out.index("PLAY RECAP"):]
