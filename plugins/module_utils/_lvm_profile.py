# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""LVM metadata profiles: render, validate against LVM's own list, plan, apply.

Private to the collection: not a public API, may change without notice.

Shape: check every input first (pure), take the host lock, read the state
once (profile file, `lvs`, and `vgs` for state=absent), plan with pure
functions, then apply (write the file atomically, `lvchange` attachments)
and release the lock.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import os
import re
import stat

from ansible_collections.container_storage.devicemapper.plugins.module_utils import _validate
from ansible_collections.container_storage.devicemapper.plugins.module_utils._files import (
    remove_file, set_mode_and_owner, write_atomically,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._lock import locked
from ansible_collections.container_storage.devicemapper.plugins.module_utils._lvm import (
    Lvm,
    LvmReportError,
    read_report,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._runner import (
    CommandError,
    CommandRunner,
    failure_report,
    run_steps,
)

MODULE_NAME = "container_storage.devicemapper.lvm_profile"
PROFILE_SUFFIX = ".profile"
FILE_MODE = 0o644
DIR_MODE = 0o755

THRESHOLD = "thin_pool_autoextend_threshold"
PERCENT = "thin_pool_autoextend_percent"
# LVM ignores a threshold below 50; 100 switches autoextend off.
THRESHOLD_RANGE = (50, 100)
PERCENT_RANGE = (0, 100)
RANGES = {("activation", THRESHOLD): THRESHOLD_RANGE, ("activation", PERCENT): PERCENT_RANGE}

# One row per LV; seg_monitor and segtype feed the "autoextend will not
# happen" warnings. Which VGs use a profile comes from `vgs`: a VG with no LV
# has no `lvs` row.
LVS_FIELDS = ["vg_name", "lv_name", "lv_profile", "segtype", "seg_monitor", "vg_free"]
VGS_FIELDS = ["vg_name", "vg_profile"]
# Options that are strings (or lists of strings): an empty one is refused.
STRING_OPTIONS = ["name", "state", "profile_dir", "attach_to"]
# `lvmconfig --validate` names a setting whose value has the wrong type.
_LVM_INVALID_SETTING = re.compile(r'Configuration setting "([^"]+)"')


class ProfileError(Exception):
    """The request cannot be met; nothing has been changed."""


# ------------------------------------------------------------------ validation

def check_range(where, value, bounds):
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProfileError("%s: must be an integer from %d to %d, got %r" % (where, low, high, value))
    if not low <= value <= high:
        extra = ""
        if bounds == THRESHOLD_RANGE and value < low:
            extra = " (LVM ignores a threshold below 50; 100 switches autoextend off)"
        raise ProfileError("%s: %d is out of range %d..%d%s" % (where, value, low, high, extra))


def parse_lv_path(option, item):
    """``vg/lv`` (or ``/dev/vg/lv``) -> (vg, lv), each checked as an LVM name."""
    text = item
    if text.startswith("/dev/"):
        text = text[len("/dev/"):]
    parts = text.split("/")
    if len(parts) != 2:
        raise ProfileError("%s: %r is not a logical volume as vg/lv" % (option, item))
    _validate.lvm_name("%s (volume group)" % option, parts[0], kind="vg")
    _validate.lvm_name("%s (logical volume)" % option, parts[1], kind="lv")
    return parts[0], parts[1]


def check_setting_value(where, value):
    """Refuse what LVM's configuration format cannot hold, whatever the setting's type.

    NaN and the infinities have no spelling LVM reads as a number, and an
    empty string is a template that rendered to nothing, never a choice.
    """
    if value is None:
        raise ProfileError("%s: a value is required" % where)
    if isinstance(value, bool):
        return
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        raise ProfileError("%s: %r is not a finite number" % (where, value))
    if isinstance(value, str):
        try:
            _validate.not_empty(where, value)
        except _validate.InputError as exc:
            raise ProfileError(str(exc))
    elif isinstance(value, dict):
        for key, item in sorted(value.items(), key=lambda pair: str(pair[0])):
            check_setting_value("%s.%s" % (where, key), item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_setting_value("%s[%d]" % (where, index), item)


class ProfilableSettings(object):
    """What LVM accepts in a metadata profile, as this host's LVM reports it.

    ``options`` maps ``section/key`` to the type of LVM's default value
    (``int``, ``float``, ``str``, ``list`` or None when LVM has no default);
    ``sections`` holds top sections and nested section paths.
    """

    def __init__(self, options, sections):
        self.options = options
        self.sections = sections

    def keys_in(self, section):
        prefix = section + "/"
        return sorted(path[len(prefix):] for path in list(self.options) + list(self.sections)
                      if path.startswith(prefix) and "/" not in path[len(prefix):])


_SUMMARY_HEADER = re.compile(r"^\s*#\s*Configuration (option|section) ([\w/]+)\.\s*$")
_DEFAULT_LINE = re.compile(r"^\s*#\s*(\w+)\s*=\s*(.*?)\s*$")


def _value_type(text):
    if text.startswith('"'):
        return str
    if text.startswith("["):
        return list
    if re.match(r"^-?\d+$", text):
        return int
    if re.match(r"^-?\d+\.\d*$", text):
        return float
    return None


def parse_profilable(out):
    """Parse `lvmconfig --typeconfig profilable-metadata --withsummary`.

    The summary names every setting, also those without a default that the
    plain listing leaves out (allocation/thin_pool_chunk_size, ...).
    """
    options = {}
    sections = set()
    current = None
    for line in out.splitlines():
        if not line.strip():
            current = None
            continue
        header = _SUMMARY_HEADER.match(line)
        if header:
            kind, path = header.groups()
            if kind == "section":
                sections.add(path)
                current = None
            else:
                options[path] = None
                current = path
            continue
        default = _DEFAULT_LINE.match(line)
        if default and current and default.group(1) == current.rsplit("/", 1)[-1]:
            options[current] = _value_type(default.group(2))
    if not options:
        raise ProfileError("cannot read LVM's list of metadata profile settings from "
                           "`lvmconfig --typeconfig profilable-metadata --withsummary`: %r"
                           % out[:200])
    return ProfilableSettings(options, sections)


def parse_profile_dir(out):
    """Parse `lvmconfig --typeconfig full config/profile_dir` (``profile_dir="/etc/lvm/profile"``)."""
    match = re.search(r'profile_dir\s*=\s*"([^"]*)"', out)
    if not match or not match.group(1):
        raise ProfileError("cannot read config/profile_dir from lvmconfig: %r; set profile_dir"
                           % out.strip())
    return match.group(1)


def desired_settings(threshold, percent, settings):
    """Merge the two autoextend options into ``settings``; a value given twice is refused.

    Returns an ordered list of (section, [(key, value), ...]).
    """
    settings = settings or {}
    merged = {}
    for section, values in settings.items():
        if not isinstance(values, dict):
            raise ProfileError("settings.%s: must be a dictionary of key: value, got %r"
                               % (section, values))
        for key, value in values.items():
            check_setting_value("settings.%s.%s" % (section, key), value)
        merged[str(section)] = dict((str(key), value) for key, value in values.items())
    first = []
    for key, value in ((THRESHOLD, threshold), (PERCENT, percent)):
        if value is None:
            continue
        if key in merged.get("activation", {}):
            raise ProfileError("activation/%s is given both as an option and in settings; "
                               "give it once" % key)
        first.append((key, value))
    for (section, key), bounds in RANGES.items():
        if key in merged.get(section, {}):
            check_range("settings.%s.%s" % (section, key), merged[section][key], bounds)
    for key, value in first:
        check_range(key, value, RANGES[("activation", key)])
    rendered = []
    for section in sorted(set(merged) | (set(["activation"]) if first else set())):
        items = list(first) if section == "activation" else []
        items += sorted(merged.get(section, {}).items())
        rendered.append((section, items))
    return rendered


def validate_settings(sections, profilable):
    """Refuse any key LVM does not accept in a metadata profile; coerce to LVM's types."""
    checked = []
    for section, items in sections:
        if section not in profilable.sections:
            top = sorted(path for path in profilable.sections if "/" not in path)
            raise ProfileError("settings: %r is not a section LVM accepts in a metadata profile "
                               "(this host's LVM accepts: %s)" % (section, ", ".join(top)))
        kept = []
        for key, value in items:
            path = "%s/%s" % (section, key)
            where = "settings.%s.%s" % (section, key)
            if path in profilable.sections:
                if not isinstance(value, dict):
                    raise ProfileError("%s: LVM reads %s as a section; give a dictionary" % (where, path))
                kept.append((key, value))
                continue
            if path not in profilable.options:
                raise ProfileError(
                    "%s: %s is not a setting LVM accepts in a metadata profile (from `lvmconfig "
                    "--typeconfig profilable-metadata`); %s accepts: %s"
                    % (where, path, section, ", ".join(profilable.keys_in(section))))
            kept.append((key, coerce_value(where, value, profilable.options[path])))
        checked.append((section, kept))
    return checked


def coerce_value(where, value, expected):
    """Bring YAML's value to the type of LVM's default (``"1"`` for a number becomes 1)."""
    if value is None or isinstance(value, dict):
        raise ProfileError("%s: a value is required, got %r" % (where, value))
    if expected is int:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.match(r"^\s*-?\d+\s*$", value):
            return int(value)
        raise ProfileError("%s: LVM expects an integer, got %r" % (where, value))
    if expected is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ProfileError("%s: LVM expects a number, got %r" % (where, value))
        if math.isnan(number) or math.isinf(number):
            raise ProfileError("%s: LVM expects a finite number, got %r" % (where, value))
        return value if isinstance(value, (int, float)) else number
    if expected is str:
        if isinstance(value, (bool, list)):
            raise ProfileError("%s: LVM expects a string, got %r" % (where, value))
        return str(value)
    if expected is list and not isinstance(value, list):
        return [value]
    # No default to learn the type from (thin_pool_chunk_size): digits are a
    # number; LVM itself checks the type (settings_without_default).
    if expected is None and isinstance(value, str) and re.match(r"^\s*-?\d+\s*$", value):
        return int(value)
    return value


def settings_without_default(sections, profilable):
    """The scalar settings whose type LVM's listing does not tell (no default value).

    Returns [(section, [(key, value), ...])] for `lvmconfig --validate`.
    """
    found = []
    for section, items in sections:
        kept = [(key, value) for key, value in items
                if not isinstance(value, dict)
                and profilable.options.get("%s/%s" % (section, key), int) is None]
        if kept:
            found.append((section, kept))
    return found


def render_config_string(sections):
    """One-line LVM configuration text for ``--config``: ``allocation { key = value }``."""
    parts = []
    for section, items in sections:
        body = []
        for key, value in items:
            where = "settings.%s.%s" % (section, key)
            if isinstance(value, list):
                rendered = "[ %s ]" % ", ".join(_render_scalar(where, item) for item in value)
            else:
                rendered = _render_scalar(where, value)
            body.append("%s = %s" % (key, rendered))
        parts.append("%s { %s }" % (section, " ".join(body)))
    return " ".join(parts)


def lvm_type_errors(err, sections):
    """The lines of `lvmconfig --validate` that name one of ``sections``' settings.

    Returns [(option path, LVM's line)]; a complaint about anything else (the
    host's own lvm.conf) is not this profile's.
    """
    ours = set("%s/%s" % (section, key) for section, items in sections for key, _value in items)
    found = []
    for line in err.splitlines():
        match = _LVM_INVALID_SETTING.search(line)
        if match and match.group(1) in ours:
            found.append(("settings.%s" % match.group(1).replace("/", "."),
                          line.strip().replace("WARNING: ", "")))
    return found


# ------------------------------------------------------------------ rendering

def _render_scalar(where, value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        raise ProfileError("%s: %r is not a finite number" % (where, value))
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        if "\n" in value or "\r" in value:
            raise ProfileError("%s: a value must be one line" % where)
        return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')
    raise ProfileError("%s: cannot write %r in an LVM profile" % (where, value))


def _render_items(lines, where, items, depth):
    indent = "\t" * depth
    for key, value in items:
        key = str(key)
        if not re.match(r"^[A-Za-z_][\w]*$", key):
            raise ProfileError("%s: %r is not an LVM setting name" % (where, key))
        if isinstance(value, dict):
            lines.append("%s%s {" % (indent, key))
            _render_items(lines, "%s.%s" % (where, key), sorted(value.items()), depth + 1)
            lines.append("%s}" % indent)
        elif isinstance(value, list):
            rendered = ", ".join(_render_scalar("%s.%s" % (where, key), item) for item in value)
            lines.append("%s%s = [ %s ]" % (indent, key, rendered))
        elif value is None:
            raise ProfileError("%s.%s: a value is required" % (where, key))
        else:
            lines.append("%s%s = %s" % (indent, key, _render_scalar("%s.%s" % (where, key), value)))


def render_profile(name, sections):
    """The file's content: a managed header, then one block per section."""
    lines = [
        "# LVM metadata profile %r, managed by Ansible (%s)." % (name, MODULE_NAME),
        "# Local changes are overwritten on the next run.",
    ]
    for section, items in sections:
        lines.append("%s {" % section)
        _render_items(lines, "settings.%s" % section, items, 1)
        lines.append("}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ planning

def lv_rows(rows):
    """`lvs` rows (one per segment) -> {"vg/lv": row}, in report order."""
    found = {}
    for row in rows:
        found.setdefault("%s/%s" % (row["vg_name"], row["lv_name"]), row)
    return found


def plan_attachments(name, lvs, attach_to, exclusive, state):
    """Which LVs to attach the profile to and which to detach it from.

    ``lvs`` is {"vg/lv": row}; ``attach_to`` a list of "vg/lv" already checked
    to exist. Returns (attach, detach, attached_before, attached_after).
    """
    before = [path for path, row in lvs.items() if row.get("lv_profile") == name]
    if state == "absent":
        return [], list(before), before, []
    attach = [path for path in attach_to if lvs[path].get("lv_profile") != name]
    detach = [path for path in before if path not in attach_to] if exclusive else []
    after = [path for path in before if path not in detach]
    after += [path for path in attach if path not in after]
    return attach, detach, before, after


def attachment_steps(name, attach, detach):
    steps = [Lvm.detach_profile(path) for path in detach]
    steps += [Lvm.attach_profile(path, name) for path in attach]
    return steps


def autoextend_warnings(sections, lvs, attached):
    """Say why a thin pool using this profile would still never grow."""
    activation = dict(dict(sections).get("activation", []))
    warnings = []
    for path in attached:
        row = lvs.get(path) or {}
        if row.get("segtype") != "thin-pool":
            continue
        if activation.get(THRESHOLD) == 100:
            warnings.append("%s: thin_pool_autoextend_threshold is 100, so autoextend is off" % path)
        if activation.get(PERCENT) == 0:
            warnings.append("%s: thin_pool_autoextend_percent is 0, so autoextend adds nothing" % path)
        if row.get("seg_monitor") != "monitored":
            warnings.append("%s is not monitored by dmeventd (%s), so it will never autoextend; "
                            "run `lvchange --monitor y %s`" % (path, row.get("seg_monitor") or "-", path))
        if str(row.get("vg_free", "")).strip() in ("0", "0.00"):
            warnings.append("%s: its VG has no free space, so autoextend cannot grow the pool" % path)
    return warnings


# ------------------------------------------------------------------ the file

class ProfileFile(object):
    def __init__(self, path):
        self.path = path
        self.exists = os.path.lexists(path)
        self.content = None
        self.mode = None
        self.owner = None
        if self.exists:
            if os.path.isdir(path):
                raise ProfileError("%s is a directory, not a profile file" % path)
            with open(path, "rb") as handle:
                self.content = handle.read().decode("utf-8", "replace")
            info = os.stat(path)
            self.mode = stat.S_IMODE(info.st_mode)
            self.owner = (info.st_uid, info.st_gid)

    def attributes_wrong(self):
        if not self.exists:
            return False
        # Only root can hand the file to root; elsewhere (tests) owner is left as is.
        wrong_owner = os.geteuid() == 0 and self.owner != (0, 0)
        return self.mode != FILE_MODE or wrong_owner

    def write(self, content):
        """Never a half-written profile; a symlinked profile is written through the link."""
        write_atomically(self.path, content, mode=FILE_MODE, root_owned=True, dir_mode=DIR_MODE)

    def fix_attributes(self):
        set_mode_and_owner(self.path, FILE_MODE, (0, 0) if os.geteuid() == 0 else None)

    def remove(self):
        remove_file(self.path)


class FilePlan(object):
    """What a run does to one profile file: write it, fix its owner and mode, or nothing.

    ``desired`` None means "keep whatever is there" (the file must exist then).
    """

    def __init__(self, path, name, sections):
        self.path = path
        self.current = ProfileFile(path)
        self.desired = render_profile(name, sections) if sections is not None else self.current.content
        self.write = self.desired is not None and self.current.content != self.desired
        self.fix_attributes = not self.write and self.current.attributes_wrong()

    @property
    def changed(self):
        return self.write or self.fix_attributes

    def apply(self, runner):
        """Write (or fix) the file; noted in ``runner.applied`` for a later failure's report."""
        if self.write:
            self.current.write(self.desired)
            runner.record_change("wrote %s" % self.path)
        elif self.fix_attributes:
            self.current.fix_attributes()
            runner.record_change("set %s to root:root 0644" % self.path)

    def diff(self):
        return dict(before_header=self.path, after_header=self.path,
                    before=self.current.content or "", after=self.desired or "")


def read_profile_dir(runner, given=None):
    """LVM's profile directory: ``given`` when set, else lvmconfig's config/profile_dir (one command)."""
    if given:
        return given
    rc, out, err = runner.run(["lvm", "lvmconfig", "--typeconfig", "full", "config/profile_dir"])
    return parse_profile_dir(out)


# ------------------------------------------------------------------ the backend

class LvmProfile(object):
    """Checks the request, then under the host lock reads the state once, plans,
    applies; returns the module result."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.runner = CommandRunner(module)
        self.warnings = []

    def run(self):
        """The module's result, for exit_json; a refusal or failure ends the run with fail_json."""
        try:
            request = self.check_request()
        except (ProfileError, _validate.InputError) as exc:
            self.module.fail_json(msg=str(exc), changed=False, commands=[])
        # From the first read to the last write: a second run waits here.
        lock = locked(self.module, "lvm_profile")
        try:
            try:
                result = self._run(request)
            except (ProfileError, _validate.InputError, CommandError, LvmReportError, OSError) as exc:
                msg = str(exc).rstrip(".")
                if "nothing was changed" not in msg.lower():
                    msg += ". Nothing was changed."
                # after a change the message lists what was done instead (one rule, in _runner)
                changed, msg = failure_report(self.runner, msg)
                self.module.fail_json(msg=msg, changed=changed, commands=self.commands())
        finally:
            lock.release()
        for warning in self.warnings:
            self.module.warn(warning)
        return result

    def commands(self):
        return self.runner.commands + self.runner.planned

    def check_request(self):
        """Every refusal that needs no command, before the lock and before any command."""
        params = self.params
        _validate.refuse_empty(params, STRING_OPTIONS)
        _validate.lvm_name("name", params["name"], kind="profile")
        attach_to = []
        for index, item in enumerate(params["attach_to"] or []):
            path = "%s/%s" % parse_lv_path("attach_to[%d]" % index, item)
            if path not in attach_to:
                attach_to.append(path)
        if params["state"] == "absent" and attach_to:
            self.warnings.append("attach_to is ignored with state=absent: the profile is "
                                 "detached from every LV that uses it")
            attach_to = []
        sections = []
        if params["state"] == "present":
            sections = desired_settings(params["thin_pool_autoextend_threshold"],
                                        params["thin_pool_autoextend_percent"], params["settings"])
        return dict(attach_to=attach_to, sections=sections)

    def _checked_settings(self, sections):
        """Keys against LVM's list, values against LVM's types (LVM checks those it has no default for)."""
        rc, out, err = self.runner.run(
            ["lvm", "lvmconfig", "--typeconfig", "profilable-metadata", "--withsummary"])
        profilable = parse_profilable(out)
        sections = validate_settings(sections, profilable)
        untyped = settings_without_default(sections, profilable)
        if untyped:
            rc, out, err = self.runner.run(
                ["lvm", "lvmconfig", "--validate", "--config", render_config_string(untyped)],
                check_rc=False)
            errors = lvm_type_errors(err, untyped)
            if errors:
                raise ProfileError("; ".join("%s: %s" % error for error in errors))
            if rc != 0:
                self.warnings.append("`lvmconfig --validate` finds this host's LVM configuration "
                                     "invalid, but not in this profile's settings: %s"
                                     % (err or out).strip())
        return sections

    def _apply(self, steps):
        run_steps(self.runner, steps)

    def _vgs_using(self, name):
        rows = read_report(self.runner, "vgs", VGS_FIELDS)
        return sorted(set(row["vg_name"] for row in rows if row.get("vg_profile") == name))

    def _run(self, request):
        params = self.params
        name = params["name"]
        state = params["state"]
        attach_to = request["attach_to"]
        sections = request["sections"]
        if state == "present" and params["settings"]:
            sections = self._checked_settings(sections)

        path = os.path.join(read_profile_dir(self.runner, self.params["profile_dir"]), name + PROFILE_SUFFIX)
        # state=present: the file as it should be; absent: only what is there now
        file_plan = FilePlan(path, name, sections if state == "present" else None)
        current, desired = file_plan.current, file_plan.desired if state == "present" else None

        lvs = lv_rows(read_report(self.runner, "lvs", LVS_FIELDS))
        vgs_using = self._vgs_using(name) if state == "absent" else []
        missing = [lv for lv in attach_to if lv not in lvs]
        if missing:
            raise ProfileError("attach_to: logical volume %s does not exist" % ", ".join(missing))
        attach, detach, before, after = plan_attachments(
            name, lvs, attach_to, params["exclusive"], state)
        if vgs_using and current.exists:
            lvs_note = ""
            if before:
                lvs_note = ("; the LVs that use it, %s, were not detached either"
                            % ", ".join(before))
            raise ProfileError(
                "state=absent: profile %s is still used by volume group %s, so %s is not removed "
                "and nothing was changed%s. Detach it from the volume group first "
                "(vgchange --detachprofile %s)"
                % (name, ", ".join(vgs_using), path, lvs_note, " ".join(vgs_using)))
        if vgs_using:
            self.warnings.append("volume group %s still uses profile %s, whose file %s does not "
                                 "exist; run vgchange --detachprofile %s"
                                 % (", ".join(vgs_using), name, path, " ".join(vgs_using)))

        remove = state == "absent" and current.exists
        changed = bool((state == "present" and file_plan.changed) or remove or attach or detach)

        backup_file = None
        if state == "present":
            self._apply(attachment_steps(name, [], detach))
            if not self.module.check_mode:
                if file_plan.write and current.exists and params["backup"]:
                    backup_file = self.module.backup_local(path)
                    self.runner.record_change("kept the old file as %s" % backup_file)
                file_plan.apply(self.runner)
            self._apply(attachment_steps(name, attach, []))
            self.warnings.extend(autoextend_warnings(sections, lvs, after))
        else:
            self._apply(attachment_steps(name, [], detach))
            if remove and not self.module.check_mode:
                if params["backup"]:
                    backup_file = self.module.backup_local(path)
                current.remove()

        result = dict(changed=changed, path=path, content=desired, attached=after,
                      commands=self.commands(), state=state)
        if backup_file:
            result["backup_file"] = backup_file
        if self.module._diff:
            result["diff"] = [
                dict(before_header=path, after_header=path,
                     before=current.content or "", after=desired or ""),
                dict(before_header="LVs using profile %s" % name,
                     after_header="LVs using profile %s" % name,
                     before="".join(lv + "\n" for lv in before),
                     after="".join(lv + "\n" for lv in after)),
            ]
        return result
