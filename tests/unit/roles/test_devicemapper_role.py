"""The devicemapper role's interface stays in one piece: argument specs, defaults, README."""

import os
import re

import pytest
import yaml

from ansible_collections.container_storage.devicemapper.plugins.module_utils._docker_storage import (
    storage_from_config,
)

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "devicemapper")


def load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return yaml.safe_load(handle)


SPEC = load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
DEFAULTS = load("defaults", "main.yml")
# What the role sets for the plays after it (documented in the role README, not inputs).
RESULTS = {"devicemapper_role_result"}


def role_sources():
    for directory in ("tasks", "vars", "templates", "handlers"):
        for name in sorted(os.listdir(os.path.join(ROLE, directory))):
            with open(os.path.join(ROLE, directory, name)) as handle:
                yield name, handle.read()


def test_every_variable_is_declared_with_type_default_and_description():
    for name, option in SPEC.items():
        assert name.startswith("devicemapper_"), name
        assert option.get("type") in ("str", "bool", "int", "list", "dict", "path"), name
        assert option.get("description"), name
        assert "default" in option, name
        if option["type"] == "list":
            assert option.get("elements"), name


def test_defaults_match_argument_specs():
    assert set(DEFAULTS) == set(SPEC)
    for name, value in DEFAULTS.items():
        assert SPEC[name]["default"] == value, name


def test_every_variable_the_role_reads_is_declared():
    used = set()
    for _name, text in role_sources():
        text = re.sub(r"^ *tags: \[.*\]$", "", text, flags=re.M)  # tag names are not variables
        used.update(re.findall(r"(?<![\w.])(devicemapper_[a-z_]+)", text))
    assert used - set(SPEC) - RESULTS == set()
    assert set(SPEC) - used == set(), "declared but never used"


def test_choices_are_the_documented_modes_and_states():
    assert SPEC["devicemapper_mode"]["choices"] == ["direct-lvm", "docker-managed", "loop-lvm"]
    assert SPEC["devicemapper_state"]["choices"] == ["present", "absent"]


def test_readme_documents_every_variable_with_its_default():
    with open(os.path.join(ROLE, "README.md")) as handle:
        rows = {}
        for line in handle:
            match = re.match(r"\| `(devicemapper_\w+)` \| ([^|]+) \| ([^|]+) \|", line)
            if match:
                rows[match.group(1)] = (match.group(2).strip(), match.group(3).strip())
    assert set(rows) == set(SPEC)
    for name, (typ, default) in rows.items():
        assert typ.startswith(SPEC[name]["type"]), name
        value = SPEC[name]["default"]
        if isinstance(value, bool):
            assert default == "`%s`" % str(value).lower(), name
        elif isinstance(value, (str, int)):
            assert default == "`%s`" % value, name


@pytest.mark.parametrize("driver, opts, expected", [
    ("devicemapper", ["dm.thinpooldev=/dev/mapper/docker-thinpool", "dm.use_deferred_removal=true"],
     {"driver": "devicemapper", "pool": "docker-thinpool", "loop": False}),
    ("devicemapper", [" DM.ThinPoolDev = my--vg-pool"],
     {"driver": "devicemapper", "pool": "my--vg-pool", "loop": False}),
    ("devicemapper", ["dm.directlvm_device=/dev/xvdf", "dm.thinp_percent=95"],
     {"driver": "devicemapper", "pool": "docker-thinpool", "loop": False}),
    ("devicemapper", None, {"driver": "devicemapper", "pool": None, "loop": True}),
    ("overlay2", None, {"driver": "overlay2", "pool": None, "loop": False}),
    (None, None, {"driver": None, "pool": None, "loop": False}),
])
def test_what_daemon_json_makes_docker_use(driver, opts, expected):
    config = {}
    if driver:
        config["storage-driver"] = driver
    if opts:
        config["storage-opts"] = opts
    found = storage_from_config(config)
    # the role reads these three (other keys describe the containerd image store)
    assert {key: found[key] for key in expected} == expected
