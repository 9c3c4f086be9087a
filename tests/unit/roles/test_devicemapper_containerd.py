"""The devicemapper role's containerd snapshotter path (issue 13 items 5 and 6), rendered with Ansible's templating."""

import os

import pytest
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


RUNTIME = task("probe.yml", "Keep what the probes found")["ansible.builtin.set_fact"]["__devicemapper_runtime"]


@pytest.mark.parametrize("given, state, dockerd, containerd, expected", [
    ("auto", "present", "20.10", True, "docker-graphdriver"),
    ("auto", "present", "24.0", True, "docker-graphdriver"),
    ("auto", "present", "25.0", True, "containerd-snapshotter"),
    ("auto", "present", "26.1", False, "containerd-snapshotter"),
    ("auto", "present", None, True, "containerd-snapshotter"),
    ("auto", "present", None, False, "docker-graphdriver"),
    ("auto", "absent", "26.1", True, "docker-graphdriver"),
    ("docker-graphdriver", "present", "26.1", True, "docker-graphdriver"),
    ("containerd-snapshotter", "present", "20.10", True, "containerd-snapshotter"),
])
def test_auto_keeps_the_graph_driver_up_to_docker_24(given, state, dockerd, containerd, expected):
    probe = {"dockerd_version": dockerd, "containerd": {"installed": containerd}}
    assert render(RUNTIME, devicemapper_runtime=given, devicemapper_state=state,
                  __devicemapper_probe_raw=probe) == expected


DECIDE = task("probe_containerd.yml", "Decide what containerd's snapshotter path would change, from what was read")
REFUSE = task("probe_containerd.yml", "Refuse a pool that already holds data that is not containerd's")
EMPTY_PROBE = {"current": {"driver": "overlay2", "pool": None}, "dockerd": "/usr/sbin/dockerd",
               "service": {"loaded": True}, "daemon_json": None}


def foreign_data(rows, metadata=False, record=None, probe=None):
    facts = {"__devicemapper_vg_rows": rows, "__devicemapper_containerd_metadata": metadata,
             "__devicemapper_record": record or {}, "__devicemapper_probe": probe or EMPTY_PROBE}
    for name, expression in DECIDE["ansible.builtin.set_fact"].items():
        facts[name] = render(expression, **facts)
    for name, expression in REFUSE["vars"].items():
        facts[name] = render(expression, **facts)
    return facts["__devicemapper_foreign_data"]


POOL_EMPTY = [["thinpool", "twi-a-tz--", "0.00", ""]]
POOL_USED = [["thinpool", "twi-aotz--", "3.12", ""]]


def test_a_new_or_empty_pool_is_containerds_to_take():
    assert foreign_data([]) == []
    assert foreign_data(POOL_EMPTY) == []
    # containerd's own thin devices are not LVM volumes; its metadata.db says they are its own.
    assert foreign_data(POOL_USED, metadata=True) == []


def test_a_pool_with_lvm_thin_volumes_is_refused():
    rows = POOL_EMPTY + [["olddata", "Vwi-a-tz--", "0.00", "thinpool"], ["other", "-wi-a-----", "", ""]]
    assert foreign_data(rows, metadata=True) == ["LVM thin volumes olddata"]


def test_data_in_use_without_containerds_metadata_is_refused():
    found = foreign_data(POOL_USED)
    assert len(found) == 1 and "3.12%" in found[0] and "/var/lib/containerd/devmapper/metadata.db" in found[0]


def test_a_pool_of_dockers_graph_driver_is_refused():
    assert len(foreign_data(POOL_EMPTY, record={"pool": "docker/thinpool"})) == 1
    backups = {"backups": [{"path": "/var/lib/docker.bk-1", "store": "devicemapper:docker-thinpool"}]}
    assert "devicemapper:docker-thinpool store" in foreign_data(POOL_EMPTY, metadata=True, record=backups)[0]
    on_it = dict(EMPTY_PROBE, current={"driver": "devicemapper", "pool": "docker-thinpool"})
    assert len(foreign_data(POOL_EMPTY, metadata=True, probe=on_it)) == 1
    # Another pool's record says nothing about this one.
    assert foreign_data(POOL_EMPTY, record={"pool": "docker/otherpool"}) == []


def test_the_refusal_names_the_pool_and_the_migration():
    message = REFUSE["ansible.builtin.assert"]["fail_msg"]
    for part in ("__devicemapper_lv", "__devicemapper_dm_name", "inventory_hostname", "Nothing was changed",
                 "playbooks/migrate.yml"):
        assert part in message


def test_every_refusal_comes_before_the_pool():
    probe = load("tasks", "probe.yml")
    assert probe[-1]["ansible.builtin.import_tasks"] == "probe_containerd.yml"
    assert probe[-1]["when"] == "__devicemapper_runtime == 'containerd-snapshotter'"
    main = [item["name"] for item in load("tasks", "main.yml")]
    assert main.index("Read Docker's storage state and refuse what cannot work") < main.index("Install the prerequisites")
    for item in load("tasks", "snapshotter.yml"):
        assert "ansible.builtin.assert" not in item, item["name"]


def test_the_graph_drivers_drop_in_is_unchanged_and_containerds_names_containerd():
    with open(os.path.join(ROLE, "templates", "devicemapper-thinpool.conf")) as handle:
        template = handle.read()
    common = {"ansible_managed": "managed", "__devicemapper_probe": {"lvchange": "/usr/sbin/lvchange"}}
    docker = render(template, **common)
    assert docker == (
        "# managed\n"
        "# container_storage.devicemapper: activate the thin pool before dockerd starts,\n"
        "# so a reboot never ends in \"Non existing device\" (Docker's guide,\n"
        "# \"Activate the devicemapper after reboot\"). The \"-\" lets dockerd start (and\n"
        "# say what is missing) when the pool is gone.\n"
        "[Service]\n"
        "ExecStartPre=-/usr/sbin/lvchange --activate y docker/thinpool\n")
    containerd = render(template, __devicemapper_runtime="containerd-snapshotter", **common)
    assert "before containerd\n" in containerd
    assert containerd.endswith("ExecStartPre=-/usr/sbin/lvchange --activate y docker/thinpool\n")
    assert render("{{ __devicemapper_dropin_unit }}", __devicemapper_runtime="containerd-snapshotter") == "containerd"
    assert render("{{ __devicemapper_dropin_unit }}", __devicemapper_runtime="docker-graphdriver") == "docker"


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
    decide = task("snapshotter.yml", "Decide what is restarted")["ansible.builtin.set_fact"]
    assert render(decide["__devicemapper_docker_restart"], __devicemapper_with_docker=True,
                  __devicemapper_config_plan={"changed": False, "skipped": True}) is False
    unchanged = {"changed": False, "restart_needed": False}
    written = {"changed": True, "restart_needed": True}
    skipped = {"changed": False, "skipped": True}
    for check_mode, plan, write, expected in (
            (False, unchanged, skipped, False),
            (False, written, written, True),
            (True, unchanged, skipped, False),
            (True, written, skipped, True)):
        assert render(decide["__devicemapper_containerd_restart"], __devicemapper_check_mode=check_mode,
                      __devicemapper_containerd_config_plan=plan,
                      __devicemapper_snapshotter_config=write) is expected, (check_mode, plan, write)


def test_containerd_config_is_planned_before_the_pool_and_written_after_it():
    probe = load("tasks", "probe_containerd.yml")
    names = [item["name"] for item in probe]
    plan = probe[names.index("Compare containerd's config.toml with the devmapper snapshotter settings")]
    args = plan["container_storage.devicemapper.containerd_devmapper"]
    assert plan["check_mode"] is True and args["require_pool"] is False
    assert args["pool_name"] == "{{ __devicemapper_dm_name }}"
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
    assert remove["when"] == ["not __devicemapper_activate_on_boot", "__devicemapper_dropin_found | length > 0"]
    decide = task("snapshotter.yml", "Decide what is restarted")["ansible.builtin.set_fact"]
    assert render(decide["__devicemapper_reload_units"], __devicemapper_dropin={"skipped": True},
                  __devicemapper_dropin_removed={"changed": True}) is True
    assert render(decide["__devicemapper_reload_units"], __devicemapper_dropin={"skipped": True},
                  __devicemapper_dropin_removed={"skipped": True, "changed": False}) is False
    assert render("{{ __devicemapper_containerd_dropin_path }}", devicemapper_containerd_service="containerd") == (
        "/etc/systemd/system/containerd.service.d/devicemapper-thinpool.conf")


# Issue 16: daemon.json is planned on the controller (daemon_json_plan filter) with the
# settings the write uses; as wanted means no change, and without Docker nothing is planned.
def test_daemon_json_is_planned_on_the_controller_with_the_writes_settings():
    from ansible_collections.container_storage.devicemapper.plugins.filter.daemon_json_plan import daemon_json_plan
    plan_task = task("probe_containerd.yml",
                     "Plan daemon.json with the containerd image store on devmapper, as docker_daemon_config would")
    expression = plan_task["ansible.builtin.set_fact"]["__devicemapper_config_plan"]
    assert "storage_driver='devmapper', containerd_snapshotter=true" in expression

    def every(items):
        for item in items:
            yield item
            yield from every(item.get("block", []) + item.get("rescue", []) + item.get("always", []))
    write = next(item for item in every(load("tasks", "snapshotter.yml"))
                 if item.get("name") == "Write the containerd image store on devmapper into daemon.json (other keys kept)")
    args = write["container_storage.devicemapper.docker_daemon_config"]
    assert (args["storage_driver"], args["containerd_snapshotter"]) == ("devmapper", True)

    def plan(config, with_docker=True, flags=()):
        variables = dict(DEFAULTS)
        variables.update(VARS)
        variables.update(__devicemapper_with_docker=with_docker, __devicemapper_probe={
            "daemon_json": config, "daemon_json_problem": None, "dockerd_version": "26.1", "storage_flags": list(flags)})
        templar = Templar(loader=DataLoader(), variables=variables)
        templar.environment.filters["container_storage.devicemapper.daemon_json_plan"] = daemon_json_plan
        return templar.template(expression)
    wanted = {"features": {"containerd-snapshotter": True}, "storage-driver": "devmapper"}
    assert plan(wanted)["changed"] is False
    assert plan(dict(wanted, **{"storage-opts": ["dm.basesize=20G"]}))["failed"] is True
    assert plan({"log-level": "warn"})["changed"] is True
    assert plan(None, with_docker=False) == {"changed": False, "failed": False, "msg": ""}
    # Ansible templates an assert's fail_msg even when it passes: every plan must have a msg.
    refuse = task("probe_containerd.yml", "Refuse what docker_daemon_config would refuse, with the containerd image store")
    for without_docker in (plan(None, with_docker=False), plan(wanted)):
        assert "devicemapper role:" in render(refuse["ansible.builtin.assert"]["fail_msg"],
                                              __devicemapper_config_plan=without_docker, inventory_hostname="vm")
    refused = plan(None, flags=["/etc/default/docker: --storage-driver overlay2"])
    assert refused["failed"] is True and "--storage-driver overlay2" in refused["msg"]
