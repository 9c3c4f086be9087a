# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""No copy.deepcopy in the collection's plugins.

The filters run module_utils code on the controller, where ansible-core 2.19+ hands them lazy
containers: a deep copy of one copies its templating engine, and ansible-core 2.21 prints
"Instantiating filter PluginLoader with aliases is deprecated" for it (every role run did,
from daemon.json's merge). JSON-shaped data is copied with _daemon_json.copy_json."""

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def deep_copies(path):
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "deepcopy":
            yield node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module == "copy" and any(
                alias.name == "deepcopy" for alias in node.names):
            yield node.lineno


def test_no_plugin_deep_copies_its_input():
    found = []
    for directory, _dirs, files in os.walk(os.path.join(ROOT, "plugins")):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                found.extend("%s:%d" % (os.path.relpath(path, ROOT), line) for line in deep_copies(path))
    assert found == []
