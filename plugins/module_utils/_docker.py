# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""docker_daemon_config's backend: plan daemon.json's storage keys, check them, write once.

The plan (``plan_daemon_json``) is pure and serves the module on the host and the
daemon_json_plan filter on the controller alike. The rules it applies are in
``_docker_options``, the file handling in ``_daemon_json``, the flag scan in
``_dockerd_flags``.

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.container_storage.devicemapper.plugins.module_utils._daemon_json import (
    STORAGE_KEYS, DaemonJsonError, detect_indent, merge_storage, read_daemon_json, render_daemon_json,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._docker_options import (
    CONTAINERD_SNAPSHOTTERS, KNOWN_STORAGE_DRIVERS, dockerd_refusal, parse_dockerd_version,
    render_storage_opts, snapshotter_name_error, storage_warnings, uses_containerd_snapshotter,
    validate_config_storage,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._dockerd_flags import read_storage_flags
from ansible_collections.container_storage.devicemapper.plugins.module_utils._files import write_atomically
from ansible_collections.container_storage.devicemapper.plugins.module_utils._lock import locked
from ansible_collections.container_storage.devicemapper.plugins.module_utils._runner import CommandRunner
from ansible_collections.container_storage.devicemapper.plugins.module_utils._validate import (
    InputError, not_empty, refuse_empty, systemd_unit_name,
)


# ---------------------------------------------------------------- the plan

def conflicts_refusal(path, conflicts):
    return ("dockerd also gets storage flags outside %s, and refuses to start when a setting "
            "is both a flag and in the file; remove them first (or set check_conflicts=false): %s"
            % (path, "; ".join(conflicts)))


def plan_daemon_json(path, before, state, storage_driver=None, storage_opts=None, containerd_snapshotter=None,
                     read_version=None, read_conflicts=None):
    """What docker_daemon_config decides for daemon.json, without reading or writing anything.

    ``before`` is the file's object ({} when there is none); ``storage_opts`` the
    rendered list (render_storage_opts); ``read_version`` a callable returning dockerd's
    (major, minor) or None when unknown (not checked then), and warnings about reading
    it, called once the settings passed; ``read_conflicts`` a callable returning the
    storage flags dockerd gets outside the file, called only when the file would hold
    a storage key (None: not checked). The same decisions in the module (on the host)
    and in the daemon_json_plan filter (on the controller, from docker_storage_info).

    Returns a dict: config (the file's object afterwards), changed, warnings, conflicts,
    refusal (the message, or None) and refusal_kind ("settings", "dockerd", "conflicts").
    """
    present = state == "present"
    after = merge_storage(before, state, storage_driver, storage_opts,
                          containerd_snapshotter if present else None)
    snapshotter = uses_containerd_snapshotter(after)
    plan = dict(config=after, changed=after != before, warnings=[], conflicts=[], refusal=None,
                refusal_kind=None)
    if present:
        errors = validate_config_storage(after)
        if errors:
            plan.update(refusal="%s would refuse these storage settings, %s was not changed: %s"
                        % ("dockerd" if snapshotter else "Docker 24", path, "; ".join(errors)),
                        refusal_kind="settings")
            return plan
        if not snapshotter:
            plan["warnings"].extend(storage_warnings(after))
    version, warnings = read_version() if read_version is not None else (None, [])
    plan["warnings"].extend(warnings)
    if version is not None:
        refusal, warnings = dockerd_refusal(version, storage_driver, snapshotter, containerd_snapshotter)
        plan["warnings"].extend(warnings)
        if refusal:
            plan.update(refusal=refusal, refusal_kind="dockerd")
            return plan
    if read_conflicts is not None and any(key in after for key in STORAGE_KEYS):
        plan["conflicts"] = list(read_conflicts())
        if plan["conflicts"]:
            plan.update(refusal=conflicts_refusal(path, plan["conflicts"]), refusal_kind="conflicts")
    return plan


# ---------------------------------------------------------------- the module

# Options whose empty string would fall back to a default: a template that rendered
# empty must fail, never mean "the default file" or "no driver".
NON_EMPTY_OPTIONS = ("path", "storage_driver", "systemd_unit_dirs", "env_files", "service")
_DRIVER_NAME = re.compile(r"\A[a-z0-9][a-z0-9_.-]*\Z")


def check_daemon_config_params(params):
    """Refuse unusable options before anything is read: raises InputError naming the option."""
    driver = params.get("storage_driver")
    not_empty("storage_driver", driver, "a driver name, or state=absent to remove the storage settings,")
    refuse_empty(params, NON_EMPTY_OPTIONS)
    systemd_unit_name("service", params.get("service", "docker"))
    given_version = params.get("dockerd_version")
    if given_version is not None and not re.match(r"^[0-9]+\.[0-9]+(\.[0-9]+)?$", given_version):
        raise InputError("dockerd_version: %r is not a Docker Engine version; give MAJOR.MINOR as "
                         "docker_storage_info returns it (20.10, 26.1), or leave it out to read "
                         "`dockerd --version`" % given_version)
    if driver is None or params.get("state", "present") != "present":
        return
    snapshotter = params.get("containerd_snapshotter")
    if snapshotter is True:
        problem = snapshotter_name_error(driver) if _DRIVER_NAME.match(driver) else (
            "storage-driver %r is not one of containerd's snapshotters (%s)"
            % (driver, ", ".join(CONTAINERD_SNAPSHOTTERS)))
        if problem:
            raise InputError("storage_driver (with containerd_snapshotter=true): " + problem)
        return
    # Without containerd_snapshotter the file's features decide which kind of name
    # is right (validate_config_storage); a name of neither kind is wrong either way.
    names = KNOWN_STORAGE_DRIVERS if snapshotter is False else KNOWN_STORAGE_DRIVERS + CONTAINERD_SNAPSHOTTERS
    if not _DRIVER_NAME.match(driver) or driver not in names:
        raise InputError("storage_driver: %r is not a Docker storage driver (dockerd refuses to start "
                         "with it); use one of %s" % (driver, ", ".join(KNOWN_STORAGE_DRIVERS))
                         + ("" if snapshotter is False else
                            ", or with containerd_snapshotter=true a containerd snapshotter (%s)"
                            % ", ".join(CONTAINERD_SNAPSHOTTERS)))


class DaemonConfigManager(object):
    """Reads daemon.json once, plans the storage keys, checks everything, then writes once.

    The host lock is held from the read to the write, so a second run cannot
    read the file in between and lose this run's edit (or this run lose its).
    """

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.runner = CommandRunner(module)
        self.path = self.params["path"]
        # the unit whose ExecStart and environment files the conflict check reads
        self.service = self.params.get("service") or "docker"
        self.conflicts = []
        self.dockerd_version = None

    def fail(self, msg, **extra):
        extra.setdefault("changed", False)
        self.module.fail_json(msg=msg, path=self.path, commands=self.runner.commands,
                              conflicts=self.conflicts, **extra)

    def run(self):
        """The module's result, for exit_json; a refusal or failure ends the run with fail_json."""
        params = self.params
        present = params["state"] == "present"
        if not present and (params["storage_driver"] is not None or params["storage_opts"] is not None
                            or params["containerd_snapshotter"] is not None):
            self.module.warn("storage_driver, storage_opts and containerd_snapshotter are ignored with "
                             "state=absent (features.containerd-snapshotter is left as it is)")
        try:
            check_daemon_config_params(params)
        except InputError as exc:
            self.fail(str(exc))
        storage_driver = params["storage_driver"] if present else None
        storage_opts = None
        if present and params["storage_opts"] is not None:
            storage_opts, errors = render_storage_opts(params["storage_opts"])
            if errors:
                self.fail("; ".join(errors))

        lock = locked(self.module, "docker_daemon_config on %s" % self.path)
        try:
            return self.plan_and_write(storage_driver, storage_opts)
        finally:
            lock.release()

    def plan_and_write(self, storage_driver, storage_opts):
        params = self.params
        present = params["state"] == "present"
        try:
            before, text = read_daemon_json(self.path)
        except DaemonJsonError as exc:
            self.fail(str(exc))
        exists = before is not None
        if not exists:
            before, text = {}, ""
        plan = plan_daemon_json(self.path, before, params["state"], storage_driver, storage_opts,
                                params["containerd_snapshotter"] if present else None, self.read_dockerd_version,
                                self.read_conflicts if params["check_conflicts"] else None)
        self.conflicts = plan["conflicts"]
        for warning in plan["warnings"]:
            self.module.warn(warning)
        if plan["refusal"]:
            if plan["refusal_kind"] == "settings":
                self.fail(plan["refusal"], config=before)
            self.fail(plan["refusal"])
        after = plan["config"]
        version = "%d.%d" % self.dockerd_version if self.dockerd_version else None

        changed = after != before
        new_text = render_daemon_json(after, detect_indent(text)) if changed else text
        backup_file = None
        if changed and not self.module.check_mode:
            self.refuse_if_changed_since_read(text if exists else None)
            if params["backup"] and exists:
                backup_file = self.module.backup_local(self.path)
            self.write(new_text)

        result = dict(changed=changed, config=after, backup_file=backup_file, path=self.path,
                      dockerd_version=version, conflicts=self.conflicts, commands=self.runner.commands)
        if self.module._diff:
            result["diff"] = dict(before=text, after=new_text,
                                  before_header=self.path, after_header=self.path)
        return result

    def read_dockerd_version(self):
        """(dockerd's (major, minor) or None, warnings): as given, or from `dockerd --version`."""
        given = self.params.get("dockerd_version")
        if given is not None:
            # Read by the caller already (docker_storage_info): not run again.
            self.dockerd_version = parse_dockerd_version("version " + given)
            return self.dockerd_version, []
        if not self.runner.has_bin("dockerd"):
            return None, []
        rc, out, err = self.runner.run(["dockerd", "--version"], check_rc=False)
        self.dockerd_version = parse_dockerd_version(out) if rc == 0 else None
        if self.dockerd_version is None:
            return None, ["could not read the Docker version from `dockerd --version`: %s" % (err or out).strip()]
        return self.dockerd_version, []

    def read_conflicts(self):
        return read_storage_flags(self.runner, self.service, self.params["systemd_unit_dirs"],
                                  self.params["env_files"])

    def refuse_if_changed_since_read(self, text):
        """The host lock keeps this collection's runs apart, not an editor or another tool:
        a file that changed since it was read is not overwritten (that edit would be lost)."""
        try:
            with open(self.path, "rb") as handle:
                now = handle.read()
        except (IOError, OSError):
            now = None
        if now != (None if text is None else text.encode("utf-8")):
            self.fail("%s changed (or appeared) while this run was checking it, so it was not written: "
                      "something outside this collection edits it; run again" % self.path)

    def write(self, text):
        """An existing file keeps owner, mode and SELinux context; a new one is root's, 0644."""
        try:
            write_atomically(self.path, text, module=self.module)
        except (IOError, OSError) as exc:
            self.fail("could not write %s: %s; the file was not changed" % (self.path, exc))
