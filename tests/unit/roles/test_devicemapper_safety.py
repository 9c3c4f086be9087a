"""The devicemapper role's safety rules, read from its files and rendered with Ansible's own templating."""

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
    from ansible_collections.container_storage.devicemapper.plugins.filter.daemon_json_plan import daemon_json_plan
    variables = dict(DEFAULTS)
    variables.update(VARS)
    variables.update(overrides)
    templar = Templar(loader=DataLoader(), variables=variables)
    # The collection's filters by their FQCN (the plugin loader here has no collection path).
    templar.environment.filters["container_storage.devicemapper.daemon_json_plan"] = daemon_json_plan
    return templar.template(expression)


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
        else:
            yield task, when


# Issue 11 item 2: -e key=false, -e key=no, JSON and YAML behave the same.
@pytest.mark.parametrize("name", BOOLEANS)
@pytest.mark.parametrize("given, expected", [
    (False, False), ("false", False), ("no", False), ("False", False), ("0", False), ("off", False),
    (True, True), ("true", True), ("yes", True), ("1", True),
])
def test_every_boolean_is_converted_once(name, given, expected):
    assert render("{{ __%s }}" % name, **{name: given}) is expected


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


@pytest.mark.parametrize("name", BOOLEANS)
def test_tasks_read_booleans_only_through_the_converted_copy(name):
    assert VARS["__" + name] == "{{ %s | bool }}" % name
    for filename, found in role_expressions():
        for expression in found:
            assert not re.search(r"(?<![\w.])%s\b" % name, expression), "%s: %s" % (filename, expression)


# Issue 12 item 11: a string devicemapper_storage_opts.
@pytest.mark.parametrize("given, expected", [
    ("dm.min_free_space=10%", {"dm.min_free_space": "10%"}),
    ("dm.min_free_space=10%, dm.use_deferred_deletion=false",
     {"dm.min_free_space": "10%", "dm.use_deferred_deletion": "false"}),
    ('{"dm.min_free_space": "10%"}', {"dm.min_free_space": "10%"}),
    ({"dm.min_free_space": "10%"}, {"dm.min_free_space": "10%"}),
])
def test_storage_opts_from_the_command_line(given, expected):
    assert render("{{ __devicemapper_opts_bad_items }}", devicemapper_storage_opts=given) == []
    assert render("{{ __devicemapper_user_opts }}", devicemapper_storage_opts=given) == expected


def test_storage_opts_without_equals_sign_is_named_in_the_refusal():
    assert render("{{ __devicemapper_opts_bad_items }}",
                  devicemapper_storage_opts="dm.min_free_space,dm.basesize=20G") == ["dm.min_free_space"]
    check = tasks("main.yml")[0]
    assert check["ansible.builtin.assert"]["that"] == ["__devicemapper_opts_bad_items | length == 0"]
    assert "__devicemapper_opts_bad_items" in check["ansible.builtin.assert"]["fail_msg"]


# Issue 11 item 3 / rule 6: absent keeps the pool unless told.
def test_absent_removes_pool_and_profile_only_with_remove_pool():
    assert DEFAULTS["devicemapper_remove_pool"] is False
    destructive = 0
    for task, when in walk(tasks("absent.yml")):
        module = next(key for key in task if key.startswith(("container_storage.", "ansible.")))
        args = task[module] if isinstance(task[module], dict) else {}
        if args.get("state") == "absent" and module.endswith(("thinpool", "lvm_profile")):
            destructive += 1
            assert any("__devicemapper_remove_pool" in str(condition) for condition in when), task["name"]
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
    assert kept["rolled_back"] is True and kept["message"].count("inventory_hostname") == 1
    # docker_changed is what this run did before it failed, not a constant.
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    failed_stop = {"__devicemapper_stopped": {"failed": True, "changed": False}, "__devicemapper_rb_moved": False,
                   "__devicemapper_rb_restored": False, "__devicemapper_config_written": {},
                   "__devicemapper_started": {}}
    assert Templar(loader=DataLoader(), variables=failed_stop).template(kept["docker_changed"]) is False
    moved = dict(failed_stop, __devicemapper_stopped={"changed": True}, __devicemapper_rb_moved=True)
    assert Templar(loader=DataLoader(), variables=moved).template(kept["docker_changed"]) is True
    start = next(task for task in rollback if task["name"] == "Start Docker again on its old storage")
    assert start["when"] == "__devicemapper_manage_docker and __devicemapper_was_active"
    # First a stop when this run lost the race for the record (it changed nothing, so
    # nothing is put back); then every step before the final failure runs even when one fails.
    assert rollback[1]["name"] == "Stop, changing nothing, when the record could not be written"
    assert rollback[2]["name"] == "Keep why the switch failed"
    for task in rollback[3:-2]:
        assert task.get("ignore_errors") is True, task["name"]


def test_what_was_running_comes_from_the_first_unfinished_run():
    decide = next(task for task in tasks("probe.yml") if task["name"] == "Decide what a run would change, from what was read")
    pending = {"pending": {"docker_active": True}}
    probe = {"service": {"active": False}, "socket": {"active": False}}
    expression = decide["ansible.builtin.set_fact"]["__devicemapper_was_active"]
    assert render(expression, __devicemapper_record=pending, __devicemapper_probe=probe) is True
    assert render(expression, __devicemapper_record={}, __devicemapper_probe=probe) is False
    assert render(expression, __devicemapper_record={"pending": None},
                  __devicemapper_probe={"service": {"active": False}, "socket": {"active": True}}) is True


def test_socket_is_stopped_whenever_it_exists():
    assert render("{{ __devicemapper_units }}", __devicemapper_probe={"socket": {"loaded": True}}) == [
        "docker.socket", "docker.service"]
    block = next(task for task in tasks("switch.yml") if "block" in task)["block"]
    stop = next(task for task in block if task["name"].startswith("Stop Docker"))
    # both units in one systemctl call (one remote call)
    assert stop["container_storage.devicemapper.run_script"]["script"] == 'exec systemctl stop -- "$@"'
    assert stop["container_storage.devicemapper.run_script"]["args"] == "{{ __devicemapper_units }}"


# Issue 12 items 3, 7, 8: refusals before the first change; paths normalised.
def test_refusals_come_before_packages_and_the_pool():
    main = [task["name"] for task in tasks("main.yml")]
    assert main.index("Read Docker's storage state and refuse what cannot work") < main.index("Install the prerequisites")
    names = [task["name"] for task in tasks("probe.yml")]
    assert "Refuse a host where Docker cannot run devicemapper" in names
    assert "Refuse to move a data root that has a file system mounted inside it" in names


def test_inner_mount_is_found_and_named():
    decide = next(task for task in tasks("probe.yml") if task["name"] == "Decide what a run would change, from what was read")
    expression = decide["ansible.builtin.set_fact"]["__devicemapper_inner_mounts"]
    mounts = ["/", "/var/lib/docker", "/var/lib/docker/volumes", "/var/lib/docker2", "/var/lib/dockerX/a",
              # Docker's own, gone once it stops: layers, shm, a local volume in use
              "/var/lib/docker/overlay2/0123abcd/merged", "/var/lib/docker/devicemapper/mnt/0123abcd",
              "/var/lib/docker/containers/0123abcd/mounts/shm", "/var/lib/docker/volumes/nfsdata/_data",
              "/var/lib/docker/image"]
    assert render(expression, __devicemapper_mounts=mounts, __devicemapper_data_root="/var/lib/docker") == [
        "/var/lib/docker/volumes", "/var/lib/docker/image"]


@pytest.mark.parametrize("given, expected", [
    ("/var/lib/docker/", "/var/lib/docker"), ("/var/lib/docker//", "/var/lib/docker"),
    ("/var/lib/docker", "/var/lib/docker"), ("/", "/"),
])
def test_data_root_trailing_slash_is_dropped(given, expected):
    keep = next(task for task in tasks("probe.yml") if task["name"] == "Keep what the probes found")
    expression = keep["ansible.builtin.set_fact"]["__devicemapper_data_root"]
    assert render(expression, __devicemapper_probe_raw={"data_root": given}) == expected


def test_earlier_backups_and_lost_found_are_never_moved_again():
    decide = next(task for task in tasks("probe.yml") if task["name"] == "Decide what a run would change, from what was read")
    expression = decide["ansible.builtin.set_fact"]["__devicemapper_entries"]
    entries = ["image", "docker.bk-20250101T000000Z", "lost+found", "overlay2", "docker.bkX"]
    assert render(expression, __devicemapper_probe={"data_root_entries": entries},
                  __devicemapper_data_root="/var/lib/docker") == ["image", "overlay2", "docker.bkX"]


def run_script(name, *args):
    subprocess.run(["/bin/sh", "-c", VARS[name], "sh"] + list(args), check=True, timeout=30)


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
        run_script("__devicemapper_stash_script", root, backup, "inside" if inside else "beside")
        if inside:
            assert sorted(os.listdir(root)) == ["docker.bk-new", "docker.bk-old", "lost+found"]
            assert tree(backup) == ["image", "image/overlay2", "image/overlay2/repositories.json"]
        else:
            assert not os.path.exists(root)
        run_script("__devicemapper_unstash_script", backup, root, "inside" if inside else "beside")
        assert tree(root) == before
        assert not os.path.exists(backup)
    finally:
        shutil.rmtree(work)


# Issue 12 item 6: leftovers.
def test_activation_drop_in_may_fail_and_is_removed_when_no_longer_wanted():
    with open(os.path.join(ROLE, "templates", "devicemapper-thinpool.conf")) as handle:
        assert "\nExecStartPre=-{{" in handle.read()
    removal = next(task for task in tasks("present.yml")
                   if task["name"] == "Remove the pool activation drop-in Docker no longer needs")
    assert removal["ansible.builtin.file"]["state"] == "absent"
    # only when the probe found one: no remote call for a file that is not there
    assert removal["when"] == ["devicemapper_mode != 'direct-lvm' or not __devicemapper_activate_on_boot",
                               "__devicemapper_dropin_found | length > 0"]


# Issue 11 item 1: no package manager call when the tools are there.
def test_packages_only_when_a_tool_is_missing_and_never_in_check_mode():
    install = next(task for task in tasks("prerequisites.yml") if "ansible.builtin.package" in task)
    assert install["when"] == "__devicemapper_tools_missing | length > 0 and not __devicemapper_check_mode"
    for task in tasks("prerequisites.yml"):
        assert "__devicemapper_tools_missing | length > 0" in task["when"], task["name"]


@pytest.mark.parametrize("recorded, mode, pool, reported", [
    ("", "direct-lvm", "thinpool", False),
    ("docker/thinpool", "direct-lvm", "thinpool", False),
    ("docker/thinpool", "direct-lvm", "newpool", True),
    ("docker/thinpool", "loop-lvm", "thinpool", True),
])
def test_a_pool_no_longer_wanted_is_reported_not_removed(recorded, mode, pool, reported):
    report = next(task for task in tasks("present.yml")
                  if task["name"] == "Report a pool of an earlier run that Docker no longer uses")
    condition = "{{ %s }}" % report["when"]
    assert render(condition, __devicemapper_record={"pool": recorded}, devicemapper_mode=mode,
                  devicemapper_pool=pool) is reported
    assert "ansible.builtin.debug" in report


# Issue 16: daemon.json is planned on the controller with docker_daemon_config's own code
# (the daemon_json_plan filter): as wanted means no change, so a no-op run writes nothing.
@pytest.mark.parametrize("opts", [
    {"dm.thinpooldev": "/dev/mapper/docker-thinpool", "dm.use_deferred_removal": True,
     "dm.use_deferred_deletion": True},
    {"dm.thinpooldev": "/dev/mapper/vg--a-pool", "dm.use_deferred_removal": False, "dm.min_free_space": "10%",
     "dm.mountopt": ["nodiscard", "noatime"], "dm.basesize": 20},
])
def test_the_role_plans_daemon_json_with_the_modules_code(opts):
    from ansible_collections.container_storage.devicemapper.plugins.module_utils._docker_options import render_storage_opts
    entries, errors = render_storage_opts(opts)
    assert not errors
    plan_task = next(task for task in tasks("probe.yml") if task["name"] == "Plan daemon.json as docker_daemon_config would")
    expression = plan_task["ansible.builtin.set_fact"]["__devicemapper_graphdriver_config_plan"]
    probe = {"daemon_json": {"log-level": "warn", "storage-driver": "devicemapper", "storage-opts": entries},
             "daemon_json_problem": None, "dockerd_version": "20.10", "storage_flags": []}
    plan = render(expression, __devicemapper_storage_opts=opts, __devicemapper_probe=probe)
    assert plan["changed"] is False and plan["failed"] is False
    probe["daemon_json"]["storage-opts"] = entries[:-1]
    assert render(expression, __devicemapper_storage_opts=opts, __devicemapper_probe=probe)["changed"] is True
    probe["daemon_json"] = None
    assert render(expression, __devicemapper_storage_opts=opts, __devicemapper_probe=probe)["changed"] is True
    probe["storage_flags"] = ["/etc/default/docker: --storage-driver overlay2"]
    refused = render(expression, __devicemapper_storage_opts=opts, __devicemapper_probe=probe)
    assert refused["failed"] is True and "--storage-driver overlay2" in refused["msg"]


@pytest.mark.parametrize("service_enabled, socket_enabled, state, verb", [
    (True, True, "present", "start"),
    (False, True, "present", "enable"),
    (True, False, "present", "enable"),
    (False, False, "absent", "start"),
])
def test_docker_is_enabled_only_when_it_is_not(service_enabled, socket_enabled, state, verb):
    block = next(task for task in tasks("switch.yml") if "block" in task)["block"]
    start = next(task for task in block if task["name"] == "Start and enable Docker")
    probe = {"service": {"enabled": service_enabled}, "socket": {"enabled": socket_enabled, "loaded": True}}
    args = render(start["container_storage.devicemapper.run_script"]["args"], __devicemapper_probe=probe,
                  __devicemapper_config_state=state, __devicemapper_touches_host=False,
                  __devicemapper_record_after={"pending": None})
    assert start["container_storage.devicemapper.run_script"]["script"] == "{{ __devicemapper_start_script }}"
    assert args[:2] == [verb, "info"] and args[2] == "" and args[-2:] == ["docker.socket", "docker.service"]


def run_start_script(tmp_path, verb, info, docker_out, docker_rc=0, record=("", "", "")):
    """The start script with stand-in systemctl and docker; returns (rc, stdout, systemctl calls)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    (bin_dir / "systemctl").write_text('#!/bin/sh\necho "$*" >> %s\n' % calls)
    (bin_dir / "docker").write_text("#!/bin/sh\necho \"$*\" >> %s\nprintf '%%s\\n' '%s'\nexit %d\n"
                                    % (calls, docker_out, docker_rc))
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    script = render("{{ __devicemapper_start_script }}")
    proc = subprocess.run(["/bin/sh", "-c", script, "sh", verb, info] + list(record) + ["docker.socket", "docker.service"],
                          capture_output=True, text=True, check=False,
                          env=dict(os.environ, PATH="%s:%s" % (bin_dir, os.environ["PATH"])))
    return proc.returncode, proc.stdout, calls.read_text().splitlines() if calls.exists() else []


def keep_info(started):
    """The verification's reading of the start's output, through the collection's docker_info filter
    (handed to the environment: outside a playbook the plugin loader has no collection metadata)."""
    from ansible_collections.container_storage.devicemapper.plugins.filter.docker_info import FilterModule

    verify = tasks("verify.yml")
    keep = next(task for task in verify if task["name"] == "Keep what docker info said after the start")
    variables = dict(DEFAULTS, **VARS)
    variables["__devicemapper_started"] = started
    templar = Templar(loader=DataLoader(), variables=variables)
    for name, function in FilterModule().filters().items():
        templar.environment.filters["container_storage.devicemapper." + name] = function
    return templar.template(keep["ansible.builtin.set_fact"]["__devicemapper_reprobe"])


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
    script = render("{{ __devicemapper_record_script }}")
    rc, out, calls = run_start_script(tmp_path, "start", "info", '{"Driver":"devicemapper"}',
                                      record=(script, str(state), content))
    assert rc == 0 and calls == ["start -- docker.socket docker.service", "info --format {{json .}}"]
    assert state.read_text() == content + "\n"
    assert out.endswith('@@info\n{"Driver":"devicemapper"}\n')
    block = next(task for task in tasks("switch.yml") if "block" in task)["block"]
    finished = next(task for task in block if task["name"] == "Record that the run finished")
    assert finished["when"] == ["__devicemapper_touches_host", "__devicemapper_started is not changed"]


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
    script = render("{{ __devicemapper_dropin_write_script }}")
    for _run in range(2):
        subprocess.run(["/bin/sh", "-c", script, "sh", str(dropin), content], check=True,
                       env=dict(os.environ, DROPIN=str(dropin), PATH="%s:%s" % (bin_dir, os.environ["PATH"])))
    assert dropin.read_text() == content
    assert oct(dropin.stat().st_mode & 0o777) == "0o644"
    # reloaded after the file was in place, once per write; no temporary file left beside it
    assert calls.read_text().splitlines() == ["daemon-reload 644", "daemon-reload 644"]
    assert os.listdir(dropin.parent) == ["devicemapper-thinpool.conf"]


@pytest.mark.parametrize("found, activate, written", [
    ([], True, True),
    (["SAME", "root:root:644"], True, False),
    (["SAME", "root:root:600"], True, True),
    (["OTHER", "root:root:644"], True, True),
    ([], False, False),
])
def test_drop_in_is_written_only_when_it_differs(found, activate, written):
    wanted = "[Service]\nExecStartPre=-/usr/sbin/lvchange --activate y docker/thinpool\n"
    import base64
    found = [base64.b64encode(wanted.encode()).decode() if part == "SAME" else part for part in found]
    assert render("{{ __devicemapper_dropin_write }}", __devicemapper_dropin_found=found,
                  __devicemapper_dropin_wanted=wanted, __devicemapper_activate_on_boot=activate) is written


# Issue 16: thinpool writes and attaches the autoextend profile in the pool's own module
# run (no lvm_profile run), in LVM's profile_dir as the probe read it (no second lvmconfig).
@pytest.mark.parametrize("profile_dir, given", [("/etc/lvm/profile", "/etc/lvm/profile"), ("", "OMIT")])
def test_pool_task_writes_and_attaches_the_profile(profile_dir, given):
    task = next(task for task in tasks("pool.yml") if "container_storage.devicemapper.thinpool" in task)
    args = task["container_storage.devicemapper.thinpool"]
    assert render(args["profile"], devicemapper_profile="docker-thinpool") == "docker-thinpool"
    assert render(args["autoextend_threshold"], devicemapper_autoextend_threshold=80) == 80
    assert render(args["autoextend_percent"], devicemapper_autoextend_percent=20) == 20
    assert render(args["profile_dir"], __devicemapper_profile_dir=profile_dir, omit="OMIT") == given
    assert not [t for t, _when in walk(tasks("pool.yml")) if "container_storage.devicemapper.lvm_profile" in t]


def test_probe_reads_the_profile_dir_as_lvmconfig_prints_it(tmp_path):
    """The host read's sed against lvmconfig's recorded output: the directory, nothing else."""
    import subprocess
    script = next(t for t in tasks("probe.yml") if t["name"].startswith("Read the role's record"))
    line = next(li for li in script["container_storage.devicemapper.run_script"]["script"].splitlines()
                if "@@profile_dir" in li)
    lvm = tmp_path / "lvm"
    fixture = os.path.join(os.path.dirname(__file__), "..", "fixtures", "lvm_profile", "lvmconfig_profile_dir.yml")
    with open(fixture) as handle:
        (tmp_path / "out").write_text(yaml.safe_load(handle)["out"])
    lvm.write_text("#!/bin/sh\ncat '%s'\n" % (tmp_path / "out"))
    lvm.chmod(0o755)
    out = subprocess.run(["sh", "-c", line], env={"PATH": "%s:/usr/bin:/bin" % tmp_path},
                         capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["@@profile_dir", "/etc/lvm/profile"]


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
    main = [task["name"] for task in tasks("main.yml")]
    assert main.index("Read Docker's storage state and refuse what cannot work") < main.index("Install the prerequisites")
    probe = [task["name"] for task in tasks("probe.yml")]
    assert probe.index("Plan daemon.json as docker_daemon_config would") < probe.index(
        "Refuse what docker_daemon_config would refuse")
    assert not [task for name in ("probe.yml", "present.yml") for task, _when in walk(tasks(name))
                if "container_storage.devicemapper.docker_daemon_config" in task]
    # probe.yml imports probe_containerd.yml after it, whose skipped plan registers __devicemapper_config_plan
    plan = next(task for task in tasks("probe.yml") if task["name"] == "Plan daemon.json as docker_daemon_config would")
    name = list(plan["ansible.builtin.set_fact"])[0]
    assert name != "__devicemapper_config_plan"
    registered = [task.get("register") for name_ in ("probe.yml", "probe_containerd.yml")
                  for task, _when in walk(tasks(name_))]
    assert name not in registered
    keep = tasks("present.yml")[0]["ansible.builtin.set_fact"]
    assert keep["__devicemapper_config_plan"] == "{{ %s }}" % name
    # the probe reads what the plan needs
    info = next(task for task in tasks("probe.yml") if "container_storage.devicemapper.docker_storage_info" in task)
    assert render(info["container_storage.devicemapper.docker_storage_info"]["read_storage_flags"],
                  devicemapper_state="present") is True


@pytest.mark.parametrize("vg, pool", [("docker", "thinpool"), ("my-vg", "thin-pool"), ("a--b", "c")])
def test_the_planned_pool_path_is_the_one_thinpool_gives(vg, pool):
    from ansible_collections.container_storage.devicemapper.plugins.module_utils._dm import dm_path

    opts = render("{{ __devicemapper_storage_opts }}", devicemapper_mode="direct-lvm",
                  devicemapper_vg=vg, devicemapper_pool=pool)
    assert opts["dm.thinpooldev"] == dm_path(vg, pool)
    # after the pool, the path thinpool returned
    opts = render("{{ __devicemapper_storage_opts }}", devicemapper_mode="direct-lvm",
                  devicemapper_vg=vg, devicemapper_pool=pool, __devicemapper_dm_path="/dev/mapper/x-y")
    assert opts["dm.thinpooldev"] == "/dev/mapper/x-y"
