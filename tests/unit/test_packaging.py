"""What the collection declares about itself agrees with what it has.

The action group holds every module, and the system packages of the execution environment
(bindep.txt) are the ones the role installs on managed hosts, per distribution family, with
the names Docker's devicemapper guide gives (thin-provisioning-tools on Debian/Ubuntu and
SLES 15, device-mapper-persistent-data on the RHEL family).
"""

import os
import re

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# bindep platform selector -> the role's ansible_facts.os_family keys it covers
PLATFORM_FAMILIES = {"dpkg": {"Debian"}, "rpm": {"RedHat", "Suse"}, "redhat": {"RedHat"}, "suse": {"Suse"}}
GUIDE_PACKAGES = {
    "Debian": {"lvm2", "thin-provisioning-tools"},
    "RedHat": {"lvm2", "device-mapper-persistent-data"},
    "Suse": {"lvm2", "thin-provisioning-tools"},
}


def read(*parts):
    with open(os.path.join(REPO, *parts)) as handle:
        return handle.read()


def bindep_packages_by_family():
    families = {}
    for line in read("bindep.txt").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.match(r"^(\S+) \[([^\]]+)\]$", line)
        assert match, "bindep line without a platform selector: %r" % line
        for selector in match.group(2).split():
            assert selector.startswith("platform:"), line
            for family in PLATFORM_FAMILIES[selector[len("platform:"):]]:
                families.setdefault(family, set()).add(match.group(1))
    return families


def test_action_group_holds_every_module():
    runtime = yaml.safe_load(read("meta", "runtime.yml"))
    modules = {name[:-3] for name in os.listdir(os.path.join(REPO, "plugins", "modules"))
               if name.endswith(".py") and not name.startswith("_")}
    assert list(runtime["action_groups"]) == ["devicemapper"]
    assert sorted(runtime["action_groups"]["devicemapper"]) == sorted(modules)


def test_execution_environment_points_at_bindep():
    ee = yaml.safe_load(read("meta", "execution-environment.yml"))
    assert ee["dependencies"]["system"] == "bindep.txt"
    assert "python" not in ee["dependencies"], "the modules need nothing from PyPI"


def test_bindep_has_the_guides_packages_per_family():
    assert bindep_packages_by_family() == GUIDE_PACKAGES


def test_role_installs_the_same_packages_per_family():
    role_vars = yaml.safe_load(read("roles", "devicemapper", "vars", "main.yml"))
    assert {family: set(packages) for family, packages in role_vars["__devicemapper_packages"].items()} \
        == GUIDE_PACKAGES


def packages_named_for(text, package):
    """The families in the parenthesis that follows each mention of package in text."""
    return [found.group(1) for found in re.finditer(re.escape(package) + r"\W*\s*\(([^)]*)\)", text)]


def role_install_packages_doc():
    spec = yaml.safe_load(read("roles", "devicemapper", "meta", "argument_specs.yml"))
    return " ".join(spec["argument_specs"]["main"]["options"]["devicemapper_install_packages"]["description"])


def role_readme_install_packages_row():
    return next(line for line in read("roles", "devicemapper", "README.md").splitlines()
                if line.startswith("| `devicemapper_install_packages`"))


@pytest.mark.parametrize("text", [
    pytest.param(lambda: read("README.md"), id="README requirements"),
    pytest.param(role_install_packages_doc, id="argument_specs"),
    pytest.param(role_readme_install_packages_row, id="role README"),
])
def test_docs_name_the_packages_the_role_installs_on_sles(text):
    text = re.sub(r"\s+", " ", text())
    tpt = packages_named_for(text, "thin-provisioning-tools")
    dmpd = packages_named_for(text, "device-mapper-persistent-data")
    assert tpt and dmpd
    assert all("SLES" in families for families in tpt), tpt
    assert not any("SLES" in families for families in dmpd), dmpd
