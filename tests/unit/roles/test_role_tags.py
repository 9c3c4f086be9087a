# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The roles' tags, as ansible-playbook --list-tasks shows them: each documented in the README's
"Tags" table, every refusal and the run lease `always` (so --tags and --skip-tags never skip them),
and no task without a tag (it would silently not run under --tags)."""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
ROLES = ("devicemapper", "migrate", "thinpool_monitor")


def listed_tasks(tmp_path, role, *options):
    """(task name, tags) of the role's tasks as ansible-playbook --list-tasks prints them."""
    playbook = tmp_path / "play.yml"
    playbook.write_text("- hosts: all\n  gather_facts: false\n  roles: [container_storage.devicemapper.%s]\n" % role)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS)
    ansible_playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    out = subprocess.run([ansible_playbook, "-i", "localhost,", "--list-tasks", str(playbook)] + list(options),
                         env=env, capture_output=True, text=True, timeout=120, check=True).stdout
    prefix = "container_storage.devicemapper.%s : " % role
    tasks = []
    for line in out.splitlines():
        match = re.match(r"^\s+" + re.escape(prefix) + r"(.*)\tTAGS: \[(.*)\]$", line)
        if match:
            tasks.append((match.group(1), set(tag.strip() for tag in match.group(2).split(",") if tag.strip())))
    assert tasks, out
    return tasks


def readme_tags():
    with open(os.path.join(ROOT, "README.md")) as handle:
        text = handle.read()
    section = text.split("\n## Tags\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_]+)` \|", section, re.M)


@pytest.mark.parametrize("role", ROLES)
def test_every_task_has_a_tag_and_every_tag_is_documented(role, tmp_path):
    tasks = listed_tasks(tmp_path, role)
    untagged = [name for name, tags in tasks if not tags]
    assert untagged == []
    used = set().union(*(tags for _name, tags in tasks)) - {"always"}
    assert used and all(tag.startswith(role + "_") for tag in used), used
    assert used <= set(readme_tags()), used - set(readme_tags())


@pytest.mark.parametrize("role", ROLES)
def test_refusals_and_the_run_lease_run_under_any_tag(role, tmp_path):
    tasks = listed_tasks(tmp_path, role)
    guarded = [(name, tags) for name, tags in tasks if name.startswith("Refuse") or "run lease" in name]
    if role != "thinpool_monitor":
        assert guarded
    assert [name for name, tags in guarded if "always" not in tags and STEP_REFUSALS.get(name) != tags] == []


# A refusal inside a step, about that step only: it runs whenever the step runs.
STEP_REFUSALS = {"Refuse an OS family whose package names the role does not know": {"devicemapper_packages"}}


def test_documented_tags_exist():
    for tag in readme_tags():
        role = next(role for role in ROLES if tag.startswith(role + "_"))
        with open(os.path.join(ROOT, "roles", role, "tasks", "main.yml")) as handle:
            assert "[%s]" % tag in handle.read(), tag


def test_a_tag_selects_its_own_tasks_and_the_always_ones(tmp_path):
    every = listed_tasks(tmp_path, "devicemapper")
    packages = listed_tasks(tmp_path, "devicemapper", "--tags", "devicemapper_packages")
    assert [name for name, tags in packages] == [
        name for name, tags in every if tags & {"always", "devicemapper_packages"}]
    assert any("devicemapper_packages" in tags for _name, tags in packages)
    assert not any("devicemapper_storage" in tags for _name, tags in packages)
