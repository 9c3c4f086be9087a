"""The devicemapper role's safety rules, read from its files; its scripts run with stand-in commands.

Its decisions are the plan's (tests/unit/plugin_utils/test_devicemapper_plan.py)."""

import os
import re
import shutil
import subprocess
import tempfile

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

HERE = os.path.dirname(__file__)
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
ROLE = os.path.join(ROOT, "roles", "devicemapper")


def load(*parts):
    with open(os.path.join(*parts)) as handle:
        return yaml.safe_load(handle)


SPEC = load(ROLE, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
DEFAULTS = load(ROLE, "defaults", "main.yml")
VARS = load(ROLE, "vars", "main.yml")
BOOLEANS = sorted(name for name, option in SPEC.items() if option["type"] == "bool")


def render(expression, **overrides):
    variables = dict(DEFAULTS)
    variables.update(overrides)
    return Templar(loader=DataLoader(), variables=variables).template(expression)


def script(name):
    return os.path.join(ROLE, "files", name)


def tasks(name):
    return load(ROLE, "tasks", name)


def walk(task_list, inherited=()):
    """Every task of a task file with the `when` conditions of the blocks around it."""
    for task in task_list:
        when = task.get("when", [])
        when = list(inherited) + (when if isinstance(when, list) else [when])
        if "block" in task:
            yield from walk(task["block"], when)
            yield from walk(task.get("rescue", []), when)
            yield from walk(task.get("always", []), when)
        else:
            yield task, when


def expressions(node, key=None):
    """The Jinja an Ansible file evaluates: whole conditionals, and the {{ }} / {% %} parts of other strings."""
    if isinstance(node, dict):
        for child_key, child in node.items():
            yield from expressions(child, child_key)
    elif isinstance(node, list):
        for child in node:
            yield from expressions(child, key)
    elif isinstance(node, str):
        if key in ("when", "that", "changed_when", "failed_when"):
            yield node
        yield from re.findall(r"{{.*?}}|{%.*?%}", node, re.S)


def role_expressions():
    for directory in ("tasks", "handlers", "templates"):
        for filename in sorted(os.listdir(os.path.join(ROLE, directory))):
            with open(os.path.join(ROLE, directory, filename)) as handle:
                text = handle.read()
            if directory == "templates":
                yield filename, re.findall(r"{{.*?}}|{%.*?%}", text, re.S)
            else:
                yield filename, list(expressions(yaml.safe_load(text)))


# Issue 11 item 2: -e key=false, -e key=no, JSON and YAML behave the same: the plan converts
# every boolean once (test_devicemapper_plan.py), and tasks read only its converted copy.
@pytest.mark.parametrize("name", BOOLEANS)
def test_tasks_read_booleans_only_through_the_plan(name):
    assert VARS["__devicemapper_variables"][name] == "{{ %s }}" % name
    for filename, found in role_expressions():
        for expression in found:
            assert not re.search(r"(?<![\w.])%s\b" % name, expression), "%s: %s" % (filename, expression)


# Issue 11 item 3 / rule 6: absent keeps the pool unless told.
def test_absent_removes_pool_and_profile_only_with_remove_pool():
    assert DEFAULTS["devicemapper_remove_pool"] is False
    destructive = 0
    for task, when in walk(tasks("absent.yml")):
        module = next(key for key in task if key.startswith(("container_storage.", "ansible.")))
        args = task[module] if isinstance(task[module], dict) else {}
        if args.get("state") == "absent" and module.endswith(("thinpool", "lvm_profile")):
            destructive += 1
            assert any("__devicemapper_plan.remove_pool_now" in str(condition) for condition in when), task["name"]
    assert destructive == 2


def test_absent_says_what_is_lost_before_it_changes_anything():
    names = [task["name"] for task, _when in walk(tasks("absent.yml"))]
    assert names.index("Say what removing the pool destroys") < names.index(
        "Stop Docker, move the data roots, clean daemon.json, start Docker again if it ran")


# Issue 12 items 1, 2, 5: once stopped, Docker is started again whatever fails.
def test_every_change_to_docker_is_inside_the_block_with_a_rollback():
    switch = tasks("switch.yml")
    block = next(task for task in switch if "block" in task)
    inside = [task["name"] for task in block["block"]]
    for name in ("Stop Docker's socket and service before its storage changes",
                 "Move the old store's data root aside (kept, never deleted, never moved again)",
                 "Write the storage settings into daemon.json (other keys kept)",
                 "Start and enable Docker", "Verify what Docker runs on"):
        assert any(task.startswith(name) for task in inside), name
    assert block["rescue"] == [{"name": "Roll back and say so",
                                "ansible.builtin.include_tasks": "rollback.yml"}]
    rollback = tasks("rollback.yml")
    assert rollback[-1]["ansible.builtin.fail"]["msg"] == "{{ devicemapper_role_result.message }}"
    kept = rollback[-2]["ansible.builtin.set_fact"]["devicemapper_role_result"]
    # rolled_back, docker_changed (what this run did before it failed, not a constant) and the message are the
    # plan's: test_devicemapper_plan.py's test_docker_changed_is_what_this_run_did_before_it_failed and
    # test_the_rollback_says_what_was_rolled_back.
    assert "devicemapper_rollback_report(" in kept and kept.count("inventory_hostname") == 1
    start = next(task for task in rollback if task["name"] == "Start Docker again on its old storage")
    assert start["when"] == "__devicemapper_rollback.start"
    # First the rollback's decisions, then a stop when this run lost the race for the record (it changed
    # nothing, so nothing is put back); then every step before the final failure runs even when one fails.
    assert "devicemapper_rollback(" in rollback[0]["ansible.builtin.set_fact"]["__devicemapper_rollback"]
    assert rollback[2]["name"] == "Stop, changing nothing, when the record could not be written"
    for task in rollback[3:-2]:
        assert task.get("ignore_errors") is True, task["name"]


def test_socket_is_stopped_with_the_service_in_one_call(tmp_path):
    block = next(task for task in tasks("switch.yml") if "block" in task)["block"]
    stop = next(task for task in block if task["name"].startswith("Stop Docker"))
    # both units (the plan's, socket first) in one systemctl call (one remote call)
    assert stop["container_storage.devicemapper.run_script"]["src"] == "systemctl.sh"
    assert stop["container_storage.devicemapper.run_script"]["args"] == "{{ ['stop'] + __devicemapper_plan.units }}"
    calls = run_with_stand_ins(tmp_path, "systemctl.sh", ["stop", "docker.socket", "docker.service"])
    assert calls == ["stop -- docker.socket docker.service"]
    assert run_with_stand_ins(tmp_path, "systemctl.sh", ["daemon-reload"]) == [
        "stop -- docker.socket docker.service", "daemon-reload"]


def run_with_stand_ins(tmp_path, name, args):
    """One of the role's scripts with a stand-in systemctl that notes its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    calls = tmp_path / "calls"
    (bin_dir / "systemctl").write_text('#!/bin/sh\necho "$*" >> %s\n' % calls)
    (bin_dir / "systemctl").chmod(0o755)
    subprocess.run(["/bin/sh", script(name)] + args, check=True, timeout=30,
                   env=dict(os.environ, PATH="%s:%s" % (bin_dir, os.environ["PATH"])))
    return calls.read_text().splitlines()


# Issue 12 items 3, 7, 8: refusals before the first change; paths normalised.
def test_refusals_come_before_packages_and_the_pool():
    main = [task["name"] for task, _when in walk(tasks("main.yml"))]
    assert main.index("Read Docker's storage state and refuse what cannot work") < main.index("Install the prerequisites")
    names = [task["name"] for task in tasks("probe.yml")]
    # every refusal of the plan (variables, Docker 25, no Docker, inner mounts, daemon.json) right after it
    assert names.index("Decide what a run would do, and what it refuses, from what was read") + 1 == names.index(
        "Refuse what cannot work (nothing was changed)")
    assert not [task for task in tasks("main.yml") if "ansible.builtin.assert" in task]


def run_script(name, *args):
    subprocess.run(["/bin/sh", script(name)] + list(args), check=True, timeout=30)


def ran_script(name, *args):
    return subprocess.run(["/bin/sh", script(name)] + [str(arg) for arg in args], capture_output=True, text=True,
                          timeout=30, check=False)


def tree(path):
    found = []
    for base, dirs, files in os.walk(path):
        for entry in dirs + files:
            found.append(os.path.relpath(os.path.join(base, entry), path))
    return sorted(found)


@pytest.mark.parametrize("inside", [True, False])
def test_stash_and_unstash_round_trip_and_keep_older_backups(inside):
    work = tempfile.mkdtemp()
    try:
        root = os.path.join(work, "docker")
        os.makedirs(os.path.join(root, "image", "overlay2"))
        os.makedirs(os.path.join(root, "docker.bk-old", "kept"))
        os.makedirs(os.path.join(root, "lost+found"))
        with open(os.path.join(root, "image", "overlay2", "repositories.json"), "w") as handle:
            handle.write("{}")
        before = tree(root)
        backup = os.path.join(root, "docker.bk-new") if inside else root + ".bk-new"
        moved = ran_script("data_root_stash.sh", root, backup, "inside" if inside else "beside")
        assert (moved.returncode, moved.stdout) == (0, "moved\n"), moved.stderr
        if inside:
            assert sorted(os.listdir(root)) == ["docker.bk-new", "docker.bk-old", "lost+found"]
            assert tree(backup) == ["image", "image/overlay2", "image/overlay2/repositories.json"]
        else:
            assert not os.path.exists(root)
        run_script("data_root_unstash.sh", backup, root, "inside" if inside else "beside")
        assert tree(root) == before
        assert not os.path.exists(backup)
    finally:
        shutil.rmtree(work)


@pytest.mark.parametrize("inside", [True, False])
def test_a_data_root_with_content_is_never_stashed_over_an_existing_backup(tmp_path, inside):
    root = tmp_path / "docker"
    (root / "image").mkdir(parents=True)
    backup = root / "docker.bk-new" if inside else tmp_path / "docker.bk-new"
    (backup / "kept").mkdir(parents=True)
    ran = ran_script("data_root_stash.sh", root, backup, "inside" if inside else "beside")
    assert ran.returncode == 4 and str(root) in ran.stderr and str(backup) in ran.stderr, ran
    assert (root / "image").is_dir() and sorted(os.listdir(backup)) == ["kept"]
    (root / "image").rmdir()  # only the backup (inside) or nothing left: moved by an earlier run
    again = ran_script("data_root_stash.sh", root, backup, "inside" if inside else "beside")
    assert (again.returncode, again.stdout) == (0, ""), again.stderr
    assert sorted(os.listdir(backup)) == ["kept"]


@pytest.mark.parametrize("inside", [True, False])
def test_the_unstash_refuses_a_data_root_with_content_and_a_missing_backup(tmp_path, inside):
    root = tmp_path / "docker"
    (root / "new").mkdir(parents=True)
    (root / "lost+found").mkdir()
    backup = root / "docker.bk-old" if inside else tmp_path / "docker.bk-old"
    (backup / "image").mkdir(parents=True)
    mode = "inside" if inside else "beside"
    ran = ran_script("data_root_unstash.sh", backup, root, mode)
    assert ran.returncode == 4 and str(root) in ran.stderr and str(backup) in ran.stderr, ran
    assert (root / "new").is_dir() and (backup / "image").is_dir()  # nothing moved
    if inside:  # -a (migrate's "keep what the new store left") has no meaning inside a mount point
        assert ran_script("data_root_unstash.sh", "-a", tmp_path / "aside", backup, root, mode).returncode == 2
    (root / "new").rmdir()
    if not inside:
        (root / "lost+found").rmdir()
    done = ran_script("data_root_unstash.sh", backup, root, mode)
    assert (done.returncode, done.stdout) == (0, "restored\n"), done.stderr
    assert (root / "image").is_dir() and not backup.exists()
    missing = ran_script("data_root_unstash.sh", backup, root, mode)  # devicemapper never reruns it: loud
    assert missing.returncode == 4 and str(backup) in missing.stderr, missing


# Issue 12 item 6: leftovers.
def test_activation_drop_in_may_fail_and_is_removed_when_no_longer_wanted():
    with open(os.path.join(ROLE, "templates", "devicemapper-thinpool.conf")) as handle:
        assert "\nExecStartPre=-{{" in handle.read()
    removal = next(task for task in tasks("present.yml")
                   if task["name"] == "Remove the pool activation drop-in Docker no longer needs")
    assert removal["ansible.builtin.file"]["state"] == "absent"
    # only when the plan says so: not wanted, and found by the host read (no remote call otherwise)
    assert removal["when"] == "__devicemapper_plan.remove_dropin"


# Issue 11 item 1: no package manager call when the tools are there.
def test_packages_only_when_a_tool_is_missing_and_never_in_check_mode():
    install = next(task for task in tasks("prerequisites.yml") if "ansible.builtin.package" in task)
    assert install["when"] == "__devicemapper_plan.tools_missing | length > 0 and not __devicemapper_plan.check_mode"
    for task in tasks("prerequisites.yml"):
        assert "__devicemapper_plan.tools_missing | length > 0" in task["when"], task["name"]


def run_start_script(tmp_path, verb, info, docker_out, docker_rc=0, record=("", "", "")):
    # record: the record script's text, the record's path, its content
    """The start script with stand-in systemctl and docker; returns (rc, stdout, systemctl calls)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    (bin_dir / "systemctl").write_text('#!/bin/sh\necho "$*" >> %s\n' % calls)
    (bin_dir / "docker").write_text("#!/bin/sh\necho \"$*\" >> %s\nprintf '%%s\\n' '%s'\nexit %d\n"
                                    % (calls, docker_out, docker_rc))
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    flag = "record" if record[0] else "no-record"
    proc = subprocess.run(["/bin/sh", script("docker_start.sh"), verb, info, flag] + list(record)
                          + ["docker.socket", "docker.service"],
                          capture_output=True, text=True, check=False,
                          env=dict(os.environ, PATH="%s:%s" % (bin_dir, os.environ["PATH"])))
    return proc.returncode, proc.stdout, calls.read_text().splitlines() if calls.exists() else []


def keep_info(started):
    """The verification's reading of the start's output: its @@info section (run_script's sections)
    through the collection's docker_info filter, as verify.yml passes it."""
    from ansible_collections.container_storage.devicemapper.plugins.filter.docker_info import docker_info
    from ansible_collections.container_storage.devicemapper.plugins.module_utils._script import parse_sections

    keep = next(task for task in tasks("verify.yml") if task["name"] == "Keep what docker info said after the start")
    assert "__devicemapper_started.sections['info'] | default([]) | join('\\n')" in (
        keep["ansible.builtin.set_fact"]["__devicemapper_reprobe"])
    return docker_info("\n".join(parse_sections(started["stdout"]).get("info", [])), started["stderr"])


# Issue 16: the start reads docker info in the same remote call; the verification reads it from there.
def test_start_reads_docker_info_and_the_verification_parses_it(tmp_path):
    info = ('{"Driver":"devicemapper","DriverStatus":[["Pool Name","docker-thinpool"],'
            '["Deferred Removal Enabled","true"]],"ServerErrors":null}')
    rc, out, calls = run_start_script(tmp_path, "enable", "info", info)
    assert rc == 0
    assert calls == ["enable --now -- docker.socket docker.service", "info --format {{json .}}"]
    kept = keep_info({"changed": True, "stdout": out.rstrip("\n"), "stderr": ""})
    assert kept["info_error"] is None
    assert kept["info"]["driver"] == "devicemapper"
    assert kept["info"]["driver_status"] == {"Pool Name": "docker-thinpool", "Deferred Removal Enabled": "true"}


def test_docker_info_that_fails_after_the_start_is_an_error_not_a_driver(tmp_path):
    rc, out, calls = run_start_script(tmp_path, "start", "info", "", 1)
    assert rc == 0 and calls[0] == "start -- docker.socket docker.service"
    kept = keep_info({"changed": True, "stdout": out.rstrip("\n"), "stderr": "Cannot connect to the Docker daemon"})
    assert not kept["info"]
    assert kept["info_error"] == "docker info printed no JSON: Cannot connect to the Docker daemon"
    errors = '{"Driver":"","DriverStatus":null,"ServerErrors":["error during connect"]}'
    kept = keep_info({"changed": True, "stdout": "@@info\n" + errors, "stderr": ""})
    assert not kept["info"] and kept["info_error"] == "error during connect"


def test_start_without_verification_reads_nothing(tmp_path):
    rc, out, calls = run_start_script(tmp_path, "start", "no-info", "{}")
    assert (rc, out, calls) == (0, "", ["start -- docker.socket docker.service"])


# Issue 16: the start also writes the finished record (the rescue puts it back when the verification fails).
def test_start_writes_the_finished_record_after_docker_info(tmp_path):
    state = tmp_path / "state" / "state.json"
    content = '{"pending": null, "pool": "docker/thinpool", "backups": []}'
    with open(script("state_record.sh")) as handle:
        record_script = handle.read()
    rc, out, calls = run_start_script(tmp_path, "start", "info", '{"Driver":"devicemapper"}',
                                      record=(record_script, str(state), content))
    assert rc == 0 and calls == ["start -- docker.socket docker.service", "info --format {{json .}}"]
    assert state.read_text() == content + "\n"
    assert out.endswith('@@info\n{"Driver":"devicemapper"}\n')
    block = next(task for task in tasks("switch.yml") if "block" in task)["block"]
    finished = next(task for task in block if task["name"] == "Record that the run finished")
    assert finished["when"] == ["__devicemapper_plan.touches_host", "__devicemapper_started is not changed"]
    start = next(task for task in block if task["name"] == "Start and enable Docker")
    # the record script's own text, from the role's files/ (one implementation)
    assert "lookup('ansible.builtin.file', 'state_record.sh')" in start["container_storage.devicemapper.run_script"]["args"]


# Issue 16: the activation drop-in is written and systemd reloaded in one remote call,
# and not at all when the probe read it as wanted.
def test_drop_in_is_written_whole_then_systemd_reloaded(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    (bin_dir / "systemctl").write_text('#!/bin/sh\necho "$* $(stat -c %%a "$DROPIN")" >> %s\n' % calls)
    (bin_dir / "systemctl").chmod(0o755)
    dropin = tmp_path / "etc" / "docker.service.d" / "devicemapper-thinpool.conf"
    content = "[Service]\nExecStartPre=-/usr/sbin/lvchange --activate y docker/thinpool"
    for _run in range(2):
        subprocess.run(["/bin/sh", script("dropin_write.sh"), str(dropin), content], check=True,
                       env=dict(os.environ, DROPIN=str(dropin), PATH="%s:%s" % (bin_dir, os.environ["PATH"])))
    assert dropin.read_text() == content
    assert oct(dropin.stat().st_mode & 0o777) == "0o644"
    # reloaded after the file was in place, once per write; no temporary file left beside it
    assert calls.read_text().splitlines() == ["daemon-reload 644", "daemon-reload 644"]
    assert os.listdir(dropin.parent) == ["devicemapper-thinpool.conf"]


# Issue 16: thinpool writes and attaches the autoextend profile in the pool's own module
# run (no lvm_profile run), in LVM's profile_dir as the probe read it (no second lvmconfig).
@pytest.mark.parametrize("profile_dir, given", [("/etc/lvm/profile", "/etc/lvm/profile"), ("", "OMIT")])
def test_pool_task_writes_and_attaches_the_profile(profile_dir, given):
    task = next(task for task in tasks("pool.yml") if "container_storage.devicemapper.thinpool" in task)
    args = task["container_storage.devicemapper.thinpool"]
    assert render(args["profile"], devicemapper_profile="docker-thinpool") == "docker-thinpool"
    assert render(args["autoextend_threshold"], devicemapper_autoextend_threshold=80) == 80
    assert render(args["autoextend_percent"], devicemapper_autoextend_percent=20) == 20
    assert render(args["profile_dir"], __devicemapper_plan={"profile_dir": profile_dir}, omit="OMIT") == given
    assert not [t for t, _when in walk(tasks("pool.yml")) if "container_storage.devicemapper.lvm_profile" in t]


# Issue 16: docker_daemon_config gets the version the probe read instead of running
# `dockerd --version` again; "20.10" must stay a string (as a float it would be 20.1).
@pytest.mark.parametrize("name", ["absent.yml", "switch.yml", "snapshotter.yml"])
def test_daemon_json_tasks_pass_the_version_the_probe_read(name):
    found = [task for task, _when in walk(tasks(name)) if "container_storage.devicemapper.docker_daemon_config" in task]
    assert found
    for task in found:
        expression = task["container_storage.devicemapper.docker_daemon_config"]["dockerd_version"]
        assert render(expression, __devicemapper_probe={"dockerd_version": "20.10"}) == "20.10"
        assert render(expression, __devicemapper_probe={"dockerd_version": None}, omit="OMIT") == "OMIT"


# Safety rule 1: docker_daemon_config's refusals (a storage flag also on dockerd's command
# line, say) come before packages and the pool, not after the pool is built.
def test_daemon_json_is_planned_before_packages_and_the_pool():
    main = [task["name"] for task, _when in walk(tasks("main.yml"))]
    assert main.index("Read Docker's storage state and refuse what cannot work") < main.index("Install the prerequisites")
    # the plan makes daemon.json's plan (docker_daemon_config's own code, no module run)
    assert not [task for name in ("probe.yml", "present.yml") for task, _when in walk(tasks(name))
                if "container_storage.devicemapper.docker_daemon_config" in task]
    keep = tasks("present.yml")[0]["ansible.builtin.set_fact"]
    assert keep["__devicemapper_config_plan"] == "{{ __devicemapper_plan.config_plan }}"
    # the probe reads what the plan needs
    info = next(task for task in tasks("probe.yml") if "container_storage.devicemapper.docker_storage_info" in task)
    assert render(info["container_storage.devicemapper.docker_storage_info"]["read_storage_flags"],
                  devicemapper_state="present") is True
