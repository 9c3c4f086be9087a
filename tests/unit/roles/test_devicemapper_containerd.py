"""The devicemapper role's containerd snapshotter path (issue 13 items 5 and 6): its files; its
decisions are the plan's (tests/unit/plugin_utils/test_devicemapper_plan.py)."""

import os

import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "devicemapper")


def load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return yaml.safe_load(handle)


DEFAULTS = load("defaults", "main.yml")
VARS = load("vars", "main.yml")


def render(expression, **overrides):
    variables = dict(DEFAULTS)
    variables.update(VARS)
    variables.update(overrides)
    return Templar(loader=DataLoader(), variables=variables).template(expression)


def task(filename, name):
    return next(item for item in load("tasks", filename) if item["name"] == name)


def test_every_refusal_comes_before_the_pool():
    probe = load("tasks", "probe.yml")
    assert probe[-1]["ansible.builtin.import_tasks"] == "probe_containerd.yml"
    assert probe[-1]["when"] == "__devicemapper_plan.runtime == 'containerd-snapshotter'"
    # the changes run in a block that holds the host's run lease
    main = [step["name"] for item in load("tasks", "main.yml") for step in [item] + item.get("block", [])]
    assert main.index("Read Docker's storage state and refuse what cannot work") < main.index("Install the prerequisites")
    for item in load("tasks", "snapshotter.yml"):
        assert "ansible.builtin.assert" not in item, item["name"]


def test_the_graph_drivers_drop_in_is_unchanged_and_containerds_names_containerd():
    with open(os.path.join(ROLE, "templates", "devicemapper-thinpool.conf")) as handle:
        template = handle.read()
    common = {"ansible_managed": "managed", "__devicemapper_probe": {"lvchange": "/usr/sbin/lvchange"}}
    # as vars/main.yml's __devicemapper_dropin_wanted renders it, once per unit
    wanted = VARS["__devicemapper_dropin_wanted"]
    assert "'__devicemapper_dropin_unit': devicemapper_docker_service" in wanted["docker-graphdriver"]
    assert "'__devicemapper_dropin_unit': devicemapper_containerd_service" in wanted["containerd-snapshotter"]
    docker = render(template, __devicemapper_dropin_unit="docker", **common)
    assert docker == (
        "# managed\n"
        "# container_storage.devicemapper: activate the thin pool before dockerd starts,\n"
        "# so a reboot never ends in \"Non existing device\" (Docker's guide,\n"
        "# \"Activate the devicemapper after reboot\"). The \"-\" lets dockerd start (and\n"
        "# say what is missing) when the pool is gone.\n"
        "[Service]\n"
        "ExecStartPre=-/usr/sbin/lvchange --activate y docker/thinpool\n")
    containerd = render(template, __devicemapper_dropin_unit="containerd", **common)
    assert "before containerd\n" in containerd
    assert containerd.endswith("ExecStartPre=-/usr/sbin/lvchange --activate y docker/thinpool\n")


def test_containerd_is_read_only_on_the_snapshotters_path():
    probe = task("probe.yml", "Read Docker's version, service state, daemon.json, docker info and data root")
    assert probe["container_storage.devicemapper.docker_storage_info"]["read_containerd"] is False
    block = next(item for item in load("tasks", "snapshotter.yml") if "block" in item)
    verify = next(item for item in block["block"] if "container_storage.devicemapper.docker_storage_info" in item)
    assert verify["container_storage.devicemapper.docker_storage_info"]["read_containerd"] is True


def test_containerd_restarts_before_docker_and_only_on_change():
    block = next(item for item in load("tasks", "snapshotter.yml") if "block" in item)["block"]
    names = [item["name"] for item in block]
    assert names.index("Restart (or start) and enable containerd") < names.index(
        "Restart Docker (or start and enable it) on the containerd image store")
    # When each restarts is the plan's (test_devicemapper_plan.py: test_containerd_restarts_only_on_changed_settings,
    # test_docker_restarts_on_a_changed_daemon_json_and_starts_when_it_does_not_run); the tasks name its fields.
    decide = task("snapshotter.yml", "Decide what is restarted")["ansible.builtin.set_fact"]
    assert "devicemapper_containerd_switch(" in decide["__devicemapper_switch"]
    restart = block[names.index("Restart (or start) and enable containerd")]
    assert restart["when"] == "__devicemapper_switch.containerd_start"
    assert restart["container_storage.devicemapper.run_script"]["args"] == (
        "{{ __devicemapper_switch.containerd_start_args }}")
    docker = block[names.index("Restart Docker (or start and enable it) on the containerd image store")]
    assert docker["when"] == "__devicemapper_plan.docker_start"


def test_containerd_config_is_planned_before_the_pool_and_written_after_it():
    probe = load("tasks", "probe_containerd.yml")
    names = [item["name"] for item in probe]
    plan = probe[names.index("Compare containerd's config.toml with the devmapper snapshotter settings")]
    args = plan["container_storage.devicemapper.containerd_devmapper"]
    assert plan["check_mode"] is True and args["require_pool"] is False
    assert args["pool_name"] == "{{ __devicemapper_plan.dm_name }}"
    write = task("snapshotter.yml", "Write containerd's devmapper snapshotter settings (other settings kept)")
    # Same settings in the plan and the write, apart from the pool check and the backup.
    written = dict(write["container_storage.devicemapper.containerd_devmapper"])
    assert written.pop("backup") is True
    assert written.pop("pool_name") == "{{ __devicemapper_pool_result.pool.dm_name }}"
    planned = dict(args)
    planned.pop("require_pool")
    planned.pop("pool_name")
    assert planned == written
    steps = [item.get("name") for item in load("tasks", "snapshotter.yml")]
    assert steps.index("Build the thin pool and its profile, activated before containerd starts") < steps.index(
        "Write containerd's devmapper snapshotter settings (other settings kept)")


def test_activation_off_removes_containerds_drop_in_and_reloads_systemd():
    remove = task("snapshotter.yml", "Remove the pool activation drop-in containerd no longer needs")
    assert remove["ansible.builtin.file"] == {"path": "{{ __devicemapper_containerd_dropin_path }}", "state": "absent"}
    assert remove["when"] == ["not __devicemapper_plan.activate_on_boot", "__devicemapper_plan.dropin_found | length > 0"]
    # the reload after the removal: test_devicemapper_plan.py's test_removing_containerds_drop_in_reloads_systemd
    block = next(item for item in load("tasks", "snapshotter.yml") if "block" in item)["block"]
    reload = next(item for item in block if item["name"] == "Reload systemd units, as the activation drop-in was removed")
    assert reload["when"] == "__devicemapper_switch.reload_units"
    assert render("{{ __devicemapper_containerd_dropin_path }}", devicemapper_containerd_service="containerd") == (
        "/etc/systemd/system/containerd.service.d/devicemapper-thinpool.conf")


# Issue 16: daemon.json is planned on the controller (the plan calls daemon_json_plan) with the
# settings the write uses (the plan's side: test_devicemapper_plan.py).
def test_daemon_json_is_written_with_the_settings_the_plan_planned():
    def every(items):
        for item in items:
            yield item
            yield from every(item.get("block", []) + item.get("rescue", []) + item.get("always", []))
    write = next(item for item in every(load("tasks", "snapshotter.yml"))
                 if item.get("name") == "Write the containerd image store on devmapper into daemon.json (other keys kept)")
    args = write["container_storage.devicemapper.docker_daemon_config"]
    assert (args["storage_driver"], args["containerd_snapshotter"]) == ("devmapper", True)
    with open(os.path.join(ROLE, "..", "..", "plugins", "plugin_utils", "_devicemapper_plan.py")) as handle:
        assert 'storage_driver="devmapper", containerd_snapshotter=True' in handle.read()
