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
    guard = play["post_tasks"][-1]
    assert guard["run_once"] is True and guard["any_errors_fatal"] is True


def test_grow_loop_pool_runs_in_waves_and_says_what_check_mode_would_do():
    play = load("grow_loop_pool.yml")[0]
    assert play["serial"] == "{{ grow_loop_pool_serial | default(1) }}"
    assert play["max_fail_percentage"] == 0 and play["strategy"] == "linear"
    reload_task = next(task for task in play["tasks"] if "container_storage.devicemapper.dm_reload" in task)
    assert reload_task["when"] == "not (ansible_check_mode and grow_loop_pool_grows)"
    say = play["tasks"][-1]
    assert say["changed_when"] == "ansible_check_mode and grow_loop_pool_grows"


@pytest.mark.skipif(not os.path.exists(PLAYBOOK), reason="collection not linked under .build (make setup)")
def test_an_unreachable_host_stops_the_rollout_after_its_wave():
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
                handle.write("%s ansible_connection=local ansible_python_interpreter=%s\n" % (name, python))
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
    assert "Rollout stopped after this wave: wave2a failed or were unreachable" in out.replace("\n        ", " ")
