# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""containerd's config.toml: the devmapper snapshotter's section and the CRI default snapshotter.

``plan_devmapper_config`` is pure: text in, text out, or a ``ConfigError``
saying why the file is refused. It edits only the lines of the sections it
manages (see ``_toml``), then parses the result again and checks that the
values are exactly the old ones plus the intended changes, so no other
setting can change by accident.

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.container_storage.devicemapper.plugins.module_utils import _dm
from ansible_collections.container_storage.devicemapper.plugins.module_utils import _files
from ansible_collections.container_storage.devicemapper.plugins.module_utils import _lock
from ansible_collections.container_storage.devicemapper.plugins.module_utils import _toml
from ansible_collections.container_storage.devicemapper.plugins.module_utils import _validate
from ansible_collections.container_storage.devicemapper.plugins.module_utils._goparse import ram_in_bytes
from ansible_collections.container_storage.devicemapper.plugins.module_utils._runner import (
    CommandError,
    CommandRunner,
)

DEFAULT_PATH = "/etc/containerd/config.toml"
DEVMAPPER_PLUGIN = "io.containerd.snapshotter.v1.devmapper"
DEVMAPPER_TABLE = ("plugins", DEVMAPPER_PLUGIN)
# Where the CRI plugin takes its default snapshotter from, per config version.
# Version 4 (containerd 2.3) moved the server settings, not the CRI ones.
CRI_SNAPSHOTTER = {
    2: (("plugins", "io.containerd.grpc.v1.cri", "containerd"), "snapshotter"),
    3: (("plugins", "io.containerd.cri.v1.images"), "snapshotter"),
    4: (("plugins", "io.containerd.cri.v1.images"), "snapshotter"),
}
SUPPORTED_VERSIONS = tuple(sorted(CRI_SNAPSHOTTER))
CONTAINERD_DEFAULT_SNAPSHOTTER = "overlayfs"
SNAPSHOTTER_NAME = "devmapper"
STRING_SETTINGS = ("pool_name", "root_path", "base_image_size", "fs_type", "fs_options")
BOOL_SETTINGS = ("async_remove", "discard_blocks")
SETTINGS = ("pool_name", "root_path", "base_image_size", "async_remove", "discard_blocks",
            "fs_type", "fs_options")
FS_TYPES = ("ext4", "xfs")


class ConfigError(ValueError):
    """The file cannot be edited safely; nothing was written."""


# ---------------------------------------------------------------- versions and values

_VERSION = re.compile(r"^containerd\s+\S+\s+v?(\d+)\.(\d+)(?:\.(\d+))?")


def parse_containerd_version(output):
    """``(major, minor, patch)`` from ``containerd --version``, or None.

    Debian: ``containerd github.com/containerd/containerd 1.7.24~ds1 1.7.24~ds1-6+deb13u1``;
    upstream 2.x: ``containerd github.com/containerd/containerd/v2 v2.1.9 <commit>``.
    """
    match = _VERSION.match((output or "").strip())
    if not match:
        return None
    return tuple(int(part or 0) for part in match.groups())


def config_version_for(containerd_version):
    """The config version to start a new file with: 2 for containerd 1.x, 3 for 2.x."""
    return 3 if containerd_version[0] >= 2 else 2


def base_image_size_bytes(value):
    """containerd parses base_image_size with go-units RAMInBytes (binary units, "8GB" is 8 GiB)."""
    size = ram_in_bytes(value)
    if size is None:
        raise ConfigError("base_image_size: %r is not a size containerd reads (go-units: a number and an "
                          "optional unit k, m, g, t or p, optionally followed by b or ib, binary "
                          "either way; for example 8GB or 10GiB)" % (value,))
    if size < 512:
        raise ConfigError("base_image_size: %r is %d bytes; each container's thin volume gets this "
                          "size, so it must hold a filesystem (use for example 8GB)" % (value, size))
    if size >= 1 << 63:
        raise ConfigError("base_image_size: %r is larger than containerd can hold" % (value,))
    return size


# ---------------------------------------------------------------- the plan

class Plan(object):
    def __init__(self, text, new_text, version, before, after, cri_before, cri_after, warnings):
        self.text = text
        self.new_text = new_text
        self.version = version
        self.before = before
        self.after = after
        self.cri_before = cri_before
        self.cri_after = cri_after
        self.warnings = warnings

    @property
    def changed(self):
        return self.text != self.new_text


def _settings_of(table):
    if not isinstance(table, dict):
        return {}
    return dict((key, _toml.plain(table[key])) for key in SETTINGS if key in table)


def _describe(path):
    return _toml.render_header(path)


def config_version(document, path):
    """The file's ``version``; refuse files containerd would read in another layout."""
    has_content = bool(document.entries or document.headers)
    if "version" not in document.data:
        if has_content:
            raise ConfigError(
                "%s has settings but no `version` key: containerd reads it as a version 1 config, "
                "whose plugin names differ (plugins.devmapper, plugins.cri). Migrate it first "
                "(containerd 1.7: add `version = 2` and rename the sections; containerd 2.x: "
                "`containerd config migrate`); the file was not changed" % path)
        return None
    version = document.data["version"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise ConfigError("%s: `version` is %r, not a whole number; the file was not changed"
                          % (path, version))
    if version not in SUPPORTED_VERSIONS:
        raise ConfigError("%s is a version %d config; this module edits versions %s (containerd 1.x "
                          "writes 2, 2.0-2.2 write 3, 2.3 writes 4); the file was not changed"
                          % (path, version, ", ".join(str(v) for v in SUPPORTED_VERSIONS)))
    return version


class _Editor(object):
    """Collects the line edits for one document and the values they must produce."""

    def __init__(self, document, path):
        self.document = document
        self.path = path
        self.lines = _toml.LineEditor(document.text)
        self.expected = _toml.plain(document.data)
        self.appended = []
        # Keep the file's quoting: containerd 2.x writes '...', 1.x "..."
        self.literal = any("'" in header.text for header in document.headers)

    def _expect(self, table_path, key, value):
        node = self.expected
        for part in table_path:
            node = node.setdefault(part, {})
        if value is None:
            node.pop(key, None)
        else:
            node[key] = value

    def _expect_no_table(self, table_path):
        parents = [self.expected]
        for part in table_path[:-1]:
            parents.append(parents[-1].get(part, {}))
        parents[-1].pop(table_path[-1], None)
        # A parent that only headers below it made ([plugins] of [plugins."..."], never defined
        # itself) is no table of the file once they are gone: TOML has no empty implicit table.
        for depth in range(len(table_path) - 1, 0, -1):
            if parents[depth] or self.document.table_kind(table_path[:depth]) != _toml.IMPLICIT:
                break
            parents[depth - 1].pop(table_path[depth - 1], None)

    def table(self, table_path):
        """The table and how it is written: ('header', Header), ('missing'|'implicit', None)."""
        for depth in range(1, len(table_path)):
            parent = self.document.lookup(table_path[:depth])
            if parent is not None and (not isinstance(parent, _toml.Table)
                                       or parent.kind == _toml.INLINE):
                raise ConfigError(
                    "%s: %s is %s, so no %s section can be added to it; rewrite it as sections of "
                    "their own and run again; the file was not changed"
                    % (self.path, ".".join(table_path[:depth]),
                       "an inline table" if isinstance(parent, _toml.Table) else "a value",
                       _describe(table_path)))
        value = self.document.lookup(table_path)
        if value is None:
            return "missing", None
        if not isinstance(value, _toml.Table):
            raise ConfigError("%s: %s is a %s, not a table; the file was not changed"
                              % (self.path, ".".join(table_path), type(value).__name__))
        if value.kind == _toml.IMPLICIT:
            return "implicit", None
        if value.kind == _toml.HEADER:
            return "header", self.document.header_for(table_path)
        raise ConfigError(
            "%s: the section %s is written as %s; this module edits only a section that starts with "
            "its own %s line. Rewrite it that way (same keys) and run again; the file was not changed"
            % (self.path, ".".join(table_path),
               "an inline table" if value.kind == _toml.INLINE else "dotted keys",
               _describe(table_path)))

    def set_values(self, table_path, values):
        """Make ``table_path`` hold ``values`` (key -> value), each on its own line."""
        kind, header = self.table(table_path)
        table = self.document.lookup(table_path) or {}
        if kind != "header":
            self.appended.append((table_path, list(values)))
            for key, value in values:
                self._expect(table_path, key, value)
            return
        entries = self.document.section_entries(header)
        missing = []
        for key, value in values:
            self._expect(table_path, key, value)
            if key not in table:
                missing.append((key, value))
                continue
            entry = next((e for e in entries if e.key == (key,)), None)
            if entry is None:
                raise ConfigError("%s: %s in %s is a table, not a value; the file was not changed"
                                  % (self.path, key, _describe(table_path)))
            if _toml.same_value(_toml.plain(table[key]), value):
                continue
            line = self.lines.lines[entry.first]
            comment = _toml.trailing_comment(line) if entry.first == entry.last else ""
            literal = line.split("=", 1)[1].lstrip().startswith("'")
            self.lines.replace(entry.first, entry.last, [
                "%s%s = %s%s" % (_toml.indent_of(line), _toml.render_key(key),
                                 _toml.render_value(value, literal), comment)])
        if missing:
            if entries:
                after = max(entry.last for entry in entries)
                indent = _toml.indent_of(self.lines.lines[entries[-1].first])
            else:
                after = header.line
                indent = _toml.indent_of(self.lines.lines[header.line]) + "  "
            self.lines.insert(after + 1, ["%s%s = %s" % (indent, _toml.render_key(key),
                                                         _toml.render_value(value, self.literal))
                                          for key, value in missing])

    def remove_table(self, table_path):
        """Delete a [header] section: its header line down to its last statement."""
        kind, header = self.table(table_path)
        if kind != "header":
            return False
        entries = self.document.section_entries(header)
        first = header.line
        last = max([header.line] + [entry.last for entry in entries])
        lines = self.lines.lines
        # one blank line went with the section when it was added: do not leave two
        if (first > 0 and not lines[first - 1].strip()
                and (last + 1 >= len(lines) or not lines[last + 1].strip())):
            first -= 1
        self.lines.delete(first, last)
        subtables = [h for h in self.document.headers
                     if h.path[:len(table_path)] == tuple(table_path) and h.path != tuple(table_path)]
        if subtables:
            # the sub-sections stay; the table itself then exists implicitly
            node = self.expected
            for part in table_path:
                node = node[part]
            for key in [k for k, v in node.items() if not isinstance(v, dict)]:
                del node[key]
        else:
            self._expect_no_table(table_path)
        return True

    def text(self, version_line=None):
        if version_line is not None:
            self.lines.insert(0, [version_line])
            self.expected["version"] = int(version_line.split("=")[1])
        if self.appended:
            block = []
            lines = self.lines.lines
            if (version_line is not None or lines) and not (lines and not lines[-1].strip()):
                block.append("")
            for table_path, values in self.appended:
                if block and block[-1] != "":
                    block.append("")
                block.append(_toml.render_header(table_path, "'" if self.literal else '"'))
                block.extend("  %s = %s" % (_toml.render_key(key), _toml.render_value(value, self.literal))
                             for key, value in values)
            self.lines.insert(len(lines), block)
        return self.lines.text()


def read_document(text, path):
    try:
        return _toml.parse(text)
    except _toml.TomlError as exc:
        raise ConfigError("%s cannot be read as TOML (%s); containerd would not start with it either. "
                          "Fix it by hand; the file was not changed" % (path, exc))


def plan_devmapper_config(text, path, state="present", settings=None, cri_default_snapshotter=None,
                          new_file_version=None):
    """Plan the edit of containerd's config ``text`` (the file at ``path``; '' when missing).

    ``settings`` maps snapshotter keys to wanted values; a key that is absent
    or None is left as it is. ``cri_default_snapshotter``: True makes the CRI
    plugin default to devmapper, False undoes that (back to overlayfs), None
    leaves it. ``state='absent'`` removes a configured devmapper section and
    sets a CRI default of devmapper back to overlayfs. ``new_file_version`` is
    the config version for a file without any setting (None: refuse one).
    """
    document = read_document(text, path)
    version = config_version(document, path)
    version_line = None
    warnings = []
    if version is None and state != "present":
        return Plan(text, text, None, {}, {}, None, None, warnings)
    if version is None:
        if new_file_version is None:
            raise ConfigError("%s has no settings; cannot tell which config version to write "
                              "(containerd's version is unknown)" % path)
        version = new_file_version
        version_line = "version = %d" % version
    if document.lookup(("imports",)):
        warnings.append("%s imports other files (%s); a devmapper or CRI setting in one of them "
                        "overrides this file's" % (path, ", ".join(str(i) for i in document.data["imports"])))
    cri_table, cri_key = CRI_SNAPSHOTTER[version]
    devmapper = document.lookup(DEVMAPPER_TABLE)
    before = _settings_of(devmapper)
    cri_table_value = document.lookup(cri_table)
    cri_before = cri_table_value.get(cri_key) if isinstance(cri_table_value, dict) else None

    editor = _Editor(document, path)
    if state == "present":
        wanted = [(key, (settings or {}).get(key)) for key in SETTINGS]
        editor.set_values(DEVMAPPER_TABLE, [(key, value) for key, value in wanted if value is not None])
        if cri_default_snapshotter is True:
            editor.set_values(cri_table, [(cri_key, SNAPSHOTTER_NAME)])
        elif cri_default_snapshotter is False and cri_before == SNAPSHOTTER_NAME:
            editor.set_values(cri_table, [(cri_key, CONTAINERD_DEFAULT_SNAPSHOTTER)])
    else:
        if before.get("pool_name"):
            if not editor.remove_table(DEVMAPPER_TABLE):
                raise ConfigError("%s: the devmapper settings are not in a section of their own; "
                                  "the file was not changed" % path)
        if cri_before == SNAPSHOTTER_NAME:
            editor.set_values(cri_table, [(cri_key, CONTAINERD_DEFAULT_SNAPSHOTTER)])
        version_line = None  # nothing is written for a file without settings

    new_text = editor.text(version_line) if (editor.lines.replaced or editor.lines.inserted
                                             or editor.appended) else text
    if new_text != text:
        _verify(new_text, editor.expected, path)
    after_document = read_document(new_text, path) if new_text != text else document
    after = _settings_of(after_document.lookup(DEVMAPPER_TABLE))
    cri_after_table = after_document.lookup(cri_table)
    cri_after = cri_after_table.get(cri_key) if isinstance(cri_after_table, dict) else None
    return Plan(text, new_text, version, before, after, cri_before, cri_after, warnings)


def _verify(new_text, expected, path):
    """The edited text must parse and hold exactly the expected values."""
    try:
        document = _toml.parse(new_text)
    except _toml.TomlError as exc:
        raise ConfigError("%s: the edited file would not be valid TOML (%s); this is a bug in the "
                          "module, please report it; the file was not changed" % (path, exc))
    if not _toml.same_value(_toml.plain(document.data), expected):
        raise ConfigError("%s: editing the file would change settings other than the ones asked for; "
                          "this is a bug in the module, please report it; the file was not changed"
                          % path)


# ---------------------------------------------------------------- the module's work

class DevmapperConfigManager(object):
    """Reads the file and the pool, plans, and writes: what the containerd_devmapper module does.

    Every refusal (bad input, unreadable file, missing or wrong pool) comes
    before the write, and the host lock is held from the first read to the write.
    """

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.runner = CommandRunner(module)
        self.path = self.params["path"]
        self.result = {"changed": False, "path": self.path, "restart_needed": False,
                       "backup_file": None, "commands": self.runner.commands}

    # -------------------------------------------------------- inputs

    def settings(self):
        """The wanted snapshotter settings, validated; raises InputError naming the option."""
        params = self.params
        _validate.not_empty("path", params["path"], "a file path")
        _validate.refuse_empty(params, ("root_path", "base_image_size", "fs_type"))
        settings = {}
        if params["state"] != "present":
            return settings
        # containerd wants the /dev/mapper name; a full /dev/mapper path is accepted too
        pool = _dm.strip_mapper_dir(params["pool_name"])
        _validate.dm_device_name("pool_name", pool)
        settings["pool_name"] = pool
        root = params["root_path"]
        if root is not None:
            if not root.startswith("/"):
                raise _validate.InputError("root_path: %r must be an absolute path" % root)
            if "\n" in root or "\x00" in root:
                raise _validate.InputError("root_path: %r holds a newline or NUL" % root)
            settings["root_path"] = root
        if params["base_image_size"] is not None:
            try:
                base_image_size_bytes(params["base_image_size"])
            except ConfigError as exc:
                raise _validate.InputError(str(exc))
            settings["base_image_size"] = params["base_image_size"]
        for key in BOOL_SETTINGS + ("fs_type", "fs_options"):
            if params[key] is not None:
                settings[key] = params[key]
        if "fs_options" in settings and "\n" in settings["fs_options"]:
            raise _validate.InputError("fs_options: must be one line of mkfs options")
        return settings

    # -------------------------------------------------------- reads

    def read_file(self):
        path = self.path
        if not self._exists(path):
            return None
        if os.path.isdir(path):
            raise ConfigError("path: %s is a directory, not containerd's config file" % path)
        try:
            with open(path, "rb") as handle:
                raw = handle.read()
        except (IOError, OSError) as exc:
            raise ConfigError("path: cannot read %s: %s" % (path, exc))
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError("%s is not UTF-8 text (byte %d), so it is not TOML; the file was not "
                              "changed" % (path, exc.start))

    @staticmethod
    def _exists(path):
        return os.path.lexists(path) and os.path.exists(path)

    def containerd_version(self):
        if not self.runner.has_bin("containerd"):
            return None
        try:
            out = self.runner.run(["containerd", "--version"], timeout=60)[1]
        except CommandError as exc:
            raise ConfigError("cannot tell containerd's version: %s" % exc)
        version = parse_containerd_version(out)
        if version is None:
            raise ConfigError("cannot tell containerd's version from %r" % out.strip())
        self.result["containerd_version"] = "%d.%d.%d" % version
        return version

    def check_pool(self, pool):
        """The pool must exist and be a thin-pool target: containerd never creates it."""
        try:
            rc, out, err = self.runner.run(_dm.Dmsetup.table(pool), check_rc=False, timeout=60)
        except CommandError as exc:
            raise ConfigError("pool_name: reading the table of %s failed: %s" % (pool, exc))
        if rc != 0 and not self.params["require_pool"] and _dm.is_missing_device(err or out):
            # The role plans the file before it builds the pool: a pool that is
            # not there yet is reported, a device that is the wrong kind is not accepted.
            self.result["pool"] = {"name": pool, "exists": False}
            return
        if rc != 0:
            raise ConfigError(
                "pool_name: there is no device-mapper device %s (dmsetup: %s). containerd never creates "
                "the pool: make it first (container_storage.devicemapper.thinpool; for VG docker and LV "
                "thinpool the name is docker-thinpool); nothing was changed"
                % (pool, (err or out).strip() or "rc %d" % rc))
        try:
            lines = _dm.parse_table(out)
        except ValueError as exc:
            raise ConfigError("pool_name: unexpected table of %s: %s" % (pool, exc))
        targets = sorted(set(line.target for line in lines))
        if targets != ["thin-pool"]:
            raise ConfigError(
                "pool_name: %s is a %s device, not a thin-pool; give the pool's own device-mapper name "
                "(an LVM thin pool that already holds LVM thin volumes shows up as NAME-tpool, and is "
                "in use by LVM: do not give it to containerd); nothing was changed"
                % (pool, "/".join(targets) or "table-less"))
        self.result["pool"] = {"name": pool, "exists": True, "target": "thin-pool",
                               "size_bytes": sum(line.length for line in lines) * _dm.SECTOR_BYTES,
                               "data_block_sectors": _block_sectors(lines[0])}

    # -------------------------------------------------------- the run

    def run(self):
        """The module's result, for exit_json; a refusal or failure ends the run with fail_json."""
        module = self.module
        try:
            settings = self.settings()
        except _validate.InputError as exc:
            module.fail_json(msg=str(exc), **self.result)
        lock = _lock.locked(module, "containerd_devmapper")
        try:
            try:
                plan = self.plan(settings)
            except ConfigError as exc:
                module.fail_json(msg=str(exc), **self.result)
            self.apply(plan)
        finally:
            lock.release()
        return self.result

    def plan(self, settings):
        text = self.read_file()
        new_file_version = None
        if self.params["state"] == "present":
            document = read_document(text or "", self.path)
            if "version" not in document.data and not (document.entries or document.headers):
                version = self.containerd_version()
                if version is None:
                    raise ConfigError(
                        "%s has no settings and containerd is not installed, so the config version "
                        "to write (2 for containerd 1.x, 3 for 2.x) is unknown: install containerd "
                        "first; nothing was changed" % self.path)
                new_file_version = config_version_for(version)
        plan = plan_devmapper_config(text or "", self.path, self.params["state"], settings,
                                     self.params["cri_default_snapshotter"], new_file_version)
        if self.params["state"] == "present":
            self.check_pool(settings["pool_name"])
        self.result.update(config_version=plan.version, settings=plan.after,
                           previous_settings=plan.before, cri_snapshotter=plan.cri_after,
                           previous_cri_snapshotter=plan.cri_before)
        for warning in plan.warnings:
            self.module.warn(warning)
        return plan

    def apply(self, plan):
        module = self.module
        changed = plan.changed
        if module._diff:
            self.result["diff"] = {"before": plan.text, "after": plan.new_text,
                                   "before_header": self.path, "after_header": self.path}
        if not changed:
            self.result["msg"] = "%s already has these settings" % self.path
            return
        if module.check_mode:
            self.result.update(changed=True, restart_needed=True,
                               msg="%s would be changed; containerd would need a restart" % self.path)
            return
        if self.params["backup"] and self._exists(self.path):
            self.result["backup_file"] = module.backup_local(self.path)
        try:
            _files.write_atomically(self.path, plan.new_text, module=module)
        except (IOError, OSError) as exc:
            module.fail_json(msg="writing %s failed: %s; the file is as it was%s"
                             % (self.path, exc, (" (a backup was made: %s)" % self.result["backup_file"])
                                if self.result["backup_file"] else ""), **self.result)
        self.result.update(changed=True, restart_needed=True,
                           msg="%s changed; restart containerd to use it" % self.path)


def _block_sectors(line):
    """The data block size (sectors) of a thin-pool table line: its third argument."""
    try:
        return int(line.args[2])
    except (IndexError, ValueError):
        return None
