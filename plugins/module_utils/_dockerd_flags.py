# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""dockerd's storage flags given outside daemon.json: in docker.service (as systemd loads it,
drop-ins included) and in the environment files distributions' units read.

dockerd refuses to start when a setting is both a flag and in daemon.json, so
docker_daemon_config looks for them before it writes a storage key.

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re
import shlex

# Where systemd looks for docker.service and its drop-ins, highest priority first.
DEFAULT_UNIT_DIRS = ["/etc/systemd/system", "/run/systemd/system",
                     "/lib/systemd/system", "/usr/lib/systemd/system"]
UNIT_NAME = "docker.service"
# Environment files that distributions' docker units read dockerd flags from.
DEFAULT_ENV_FILES = ["/etc/sysconfig/docker-storage", "/etc/sysconfig/docker",
                     "/etc/default/docker"]

# dockerd's short flags that take a value: in "-Hfoo" the rest of the word is the value.
_SHORT_FLAGS_WITH_VALUE = set("HGblpge")


def find_storage_flags(words):
    """dockerd storage flags in an argument list: --storage-driver, -s, --storage-opt."""
    found = []
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        if word.startswith("--"):
            name, has_value, value = word.partition("=")
            if name in ("--storage-driver", "--storage-opt"):
                found.append("%s %s" % (name, value if has_value else following))
        elif word.startswith("-") and len(word) > 1:
            letters = word[1:]
            for position, letter in enumerate(letters):
                if letter == "s":
                    rest = letters[position + 1:].lstrip("=")
                    found.append("-s %s" % (rest or following))
                    break
                if letter in _SHORT_FLAGS_WITH_VALUE:
                    break
    return [flag.strip() for flag in found]


def _split_words(text):
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError:
        return text.split()


def _words_with_assignments(text):
    """Words of a line, with each VAR=value assignment's value split into words too."""
    words = []
    for word in _split_words(text):
        name, has_value, value = word.partition("=")
        if has_value and re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            words.extend(_split_words(value))
        else:
            words.append(word)
    return words


def parse_unit_text(chunks):
    """The [Service] settings that matter from unit file chunks [(source, text)], in systemd order.

    Returns (exec_start, environments, environment_files): exec_start is (source,
    line) for the effective ExecStart= (an empty assignment resets the list, as
    in drop-ins); environments is [(source, value)]; environment_files [path].
    """
    exec_start = None
    environments = []
    env_files = []
    for source, text in chunks:
        section = None
        logical = ""
        for raw in text.splitlines():
            if raw.rstrip().endswith("\\"):
                logical += raw.rstrip()[:-1] + " "
                continue
            line = (logical + raw).strip()
            logical = ""
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
                continue
            if section != "Service" or "=" not in line:
                continue
            key, value = [part.strip() for part in line.split("=", 1)]
            if key == "ExecStart":
                exec_start = (source, value) if value else None
            elif key == "Environment":
                environments.append((source, value))
            elif key == "EnvironmentFile" and value:
                env_files.append(value.lstrip("-"))
    return exec_start, environments, env_files


def split_systemctl_cat(output):
    """``systemctl cat`` output as [(file, text)]: each file starts with a "# /path" line."""
    chunks = []
    for line in output.splitlines():
        match = re.match(r"^# (/\S+)$", line)
        if match:
            chunks.append([match.group(1), []])
        elif chunks:
            chunks[-1][1].append(line)
    return [(source, "\n".join(lines)) for source, lines in chunks]


def read_unit_files(unit_dirs, unit_name=UNIT_NAME):
    """The unit and its drop-ins as systemd would load them, read from ``unit_dirs``."""
    chunks = []
    for directory in unit_dirs:
        path = os.path.join(directory, unit_name)
        if os.path.isfile(path):
            chunks.append((path, _read_text(path)))
            break
    dropins = {}
    for directory in reversed(unit_dirs):
        for path in glob.glob(os.path.join(directory, unit_name + ".d", "*.conf")):
            dropins[os.path.basename(path)] = path  # a higher-priority directory wins
    for name in sorted(dropins):
        chunks.append((dropins[name], _read_text(dropins[name])))
    return chunks


def _read_text(path):
    """Unit and environment files, searched for flags only: an undecodable byte cannot hide one."""
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8", "replace")


def read_storage_flags(runner, service, unit_dirs=None, env_files=None):
    """Storage flags dockerd gets outside daemon.json, from its unit as systemd loads it
    (``systemctl cat``, or the files under ``unit_dirs``) and its environment files
    (``DEFAULT_ENV_FILES`` when None)."""
    env_files = DEFAULT_ENV_FILES if env_files is None else env_files
    chunks = None
    if unit_dirs is None and runner.has_bin("systemctl"):
        rc, out, err = runner.run(["systemctl", "cat", service], check_rc=False)
        if rc == 0:
            chunks = split_systemctl_cat(out)
    if chunks is None:
        chunks = read_unit_files(unit_dirs or DEFAULT_UNIT_DIRS, service + ".service")
    return find_conflicts(chunks, env_files)


def find_conflicts(unit_chunks, env_files):
    """Storage flags given to dockerd outside daemon.json: ["<file>: <flag>"]."""
    conflicts = []
    exec_start, environments, referenced = parse_unit_text(unit_chunks)
    if exec_start:
        source, line = exec_start
        words = _split_words(line)
        if words:
            words[0] = words[0].lstrip("-@+!:")
        conflicts.extend("%s: ExecStart has %s" % (source, flag) for flag in find_storage_flags(words))
    for source, value in environments:
        conflicts.extend("%s: Environment has %s" % (source, flag)
                         for flag in find_storage_flags(_words_with_assignments(value)))
    seen = set()
    for path in list(env_files) + referenced:
        if path in seen or not os.path.isfile(path):
            continue
        seen.add(path)
        for raw in _read_text(path).splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("export "):
                line = line[len("export "):]
            conflicts.extend("%s: %s" % (path, flag)
                             for flag in find_storage_flags(_words_with_assignments(line)))
    return conflicts
