# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Live device-mapper table changes for the dm_reload module.

Private to the collection: not a public API, may change without notice.

Shape: ``read_device`` and ``read_block_device`` read the system,
``desired_from_table`` / ``grown_table`` / ``check_shrink`` / ``plan_reload``
decide (pure functions), ``TableReloader.apply`` runs the plan and, once
anything was loaded or suspended, puts the device back into service whatever
goes wrong. ``DmReloadModule`` is the module's backend: it checks the options,
takes the host lock and reports what the reloader did.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import signal
from contextlib import contextmanager

from ansible_collections.container_storage.devicemapper.plugins.module_utils._dm import (
    SECTOR_BYTES,
    Dmsetup,
    TableLine,
    is_device_ref,
    is_lvm_uuid,
    parse_info,
    parse_table,
    render_table,
    split_dm_name,
    strip_mapper_dir,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._lock import locked
from ansible_collections.container_storage.devicemapper.plugins.module_utils._runner import (
    CommandError,
    CommandRunner,
    CommandTimeout,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._validate import (
    InputError,
    dm_device_name,
    positive_int,
    refuse_empty,
)

GROWABLE_TARGETS = ("thin-pool", "linear")

# Seconds each mutating step may run before timeout(1) stops it. A suspend
# waits for the I/O in flight (and, without noflush, flushes what is queued),
# so it gets its own, configurable limit (the module's suspend_timeout); the
# others only swap kernel tables and return at once when the kernel is well.
SUSPEND_TIMEOUT = 120
RELOAD_TIMEOUT = 60
RESUME_TIMEOUT = 60
CLEAR_TIMEOUT = 60
LOOP_REFRESH_TIMEOUT = 60


# Signals that end a module run on purpose (Ansible's own timeouts, a closed
# SSH session, ^C): while a table is being changed they become an exception,
# so the device is resumed before the module ends.
STOP_SIGNALS = {signal.SIGTERM: "SIGTERM", signal.SIGHUP: "SIGHUP", signal.SIGINT: "SIGINT"}


class Interrupted(Exception):
    """A stop signal arrived while the device was being changed."""


@contextmanager
def stop_signals(handler):
    """Run the block with ``handler`` for every stop signal, then put the old ones back."""
    previous = {}
    for signum in STOP_SIGNALS:
        try:
            previous[signum] = signal.signal(signum, handler)
        except (ValueError, OSError):  # not the main thread: nothing to catch them with
            pass
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _raise_interrupted(signum, frame):
    raise Interrupted("the module received %s" % STOP_SIGNALS.get(signum, signum))


class ReloadError(Exception):
    """A refusal or failure the module reports with fail_json."""

    def __init__(self, msg, **details):
        super(ReloadError, self).__init__(msg)
        self.msg = msg
        self.details = details


# ---------------------------------------------------------------- reading

class DeviceState(object):
    """What `dmsetup info` and `dmsetup table` say about one mapped device."""

    def __init__(self, name, info, table):
        self.name = name
        self.info = info
        self.table = table

    @property
    def suspended(self):
        return self.info["suspended"]

    @property
    def has_inactive_table(self):
        return self.info["inactive"]


def read_device(runner, name):
    """The device's info and live table; a ReloadError for anything else dmsetup says."""
    try:
        rc, out, err = runner.run(Dmsetup.info(name), check_rc=False)
    except CommandError as exc:  # a timeout
        raise ReloadError("cannot read device-mapper device %r: %s" % (name, exc))
    if rc != 0:
        if "does not exist" in (err + out):
            raise ReloadError(
                "device-mapper device %r does not exist (`dmsetup ls` lists the devices; "
                "`name` is the name it shows, e.g. docker-8:1-123141-pool)" % name)
        raise ReloadError("`dmsetup info %s` failed: %s" % (name, (err or out).strip()))
    info = parse_device_info(out, name)
    try:
        out = runner.run(Dmsetup.table(name))[1]
    except CommandError as exc:
        raise ReloadError("cannot read the table of device-mapper device %r: %s" % (name, exc))
    try:
        table = parse_table(out)
    except ValueError as exc:
        raise ReloadError("`dmsetup table %s` printed a table this module cannot read (%s); "
                          "nothing was changed" % (name, exc))
    return DeviceState(name, info, table)


def parse_device_info(out, name):
    """``parse_info`` of one device's `dmsetup info` line, which must be ``name``'s and only it."""
    unexpected = ("`dmsetup info %s` printed something this module cannot read (expected one "
                  "line of DM_NAME='...':DM_ATTR='...' fields for %r): %r; nothing was changed"
                  % (name, name, out.strip()[:400]))
    if len([line for line in out.splitlines() if line.strip()]) != 1:
        raise ReloadError(unexpected)
    try:
        info = parse_info(out)
    except ValueError:
        raise ReloadError(unexpected)
    if info["name"] != name:
        raise ReloadError(unexpected)
    return info


class BlockDevice(object):
    """A block device a table refers to: its number, kind, path and size in sectors.

    For a loop device, ``refreshed_sectors`` is the size it will have after
    `losetup -c` (from its backing file); None when that cannot be known.
    """

    def __init__(self, ref, devno, kind, path):
        self.ref = ref
        self.devno = devno
        self.kind = kind
        self.path = path
        self.sectors = None
        self.refreshed_sectors = None
        self.backing_file = None

    @property
    def is_loop(self):
        return self.kind == "loop"

    @property
    def needs_refresh(self):
        return self.refreshed_sectors is not None and self.refreshed_sectors != self.sectors


def _device_path(ref):
    # udev keeps /dev/block/MAJ:MIN links, so a number from `dmsetup table`
    # becomes a path every tool accepts.
    return ref if ref.startswith("/") else "/dev/block/" + ref


def resolve_device(runner, ref, owner):
    """Ask lsblk what ``ref`` (``MAJ:MIN`` or a /dev path) is."""
    argv = ["lsblk", "--nodeps", "--noheadings", "--paths", "--output", "MAJ:MIN,TYPE,NAME",
            _device_path(ref)]
    rc, out, err = runner.run(argv, check_rc=False)
    fields = out.split()
    if rc != 0 or len(fields) < 3:
        raise ReloadError("the table of %r refers to %r, which is not a block device here: %s"
                          % (owner, ref, (err or out).strip() or "lsblk printed nothing"))
    return BlockDevice(ref, fields[0], fields[1], fields[2])


def _unreadable(argv, out):
    return ReloadError("`%s` printed something this module cannot read: %r; nothing was changed"
                       % (" ".join(argv), out.strip()[:400]))


def _whole_number(argv, out):
    try:
        return int(out.strip())
    except ValueError:
        raise _unreadable(argv, out)


def read_size(runner, device):
    argv = ["blockdev", "--getsz", device.path]
    return _whole_number(argv, runner.run(argv)[1])


def read_loop_refresh_size(runner, device):
    """Size in sectors the loop device will have after `losetup -c`, or None."""
    argv = ["losetup", "--list", "--json", "--output", "NAME,BACK-FILE,OFFSET,SIZELIMIT",
            device.path]
    out = runner.run(argv)[1]
    try:
        loops = json.loads(out).get("loopdevices") or [{}]
        backing = loops[0].get("back-file") or ""
        offset = int(loops[0].get("offset") or 0)
        limit = int(loops[0].get("sizelimit") or 0)
    except (ValueError, TypeError, AttributeError):
        raise _unreadable(argv, out)
    device.backing_file = backing
    if not backing or backing.endswith("(deleted)"):
        return None
    argv = ["stat", "--dereference", "--format=%s", backing]
    size = _whole_number(argv, runner.run(argv)[1]) - offset
    if limit:
        size = min(size, limit)
    # The kernel's own rule (loop.c, get_loop_size): bytes past the offset,
    # capped by the size limit, in whole 512-byte sectors.
    return max(size, 0) // SECTOR_BYTES


def read_block_device(runner, ref, owner, refresh_loop):
    device = resolve_device(runner, ref, owner)
    device.sectors = read_size(runner, device)
    if refresh_loop and device.is_loop:
        device.refreshed_sectors = read_loop_refresh_size(runner, device)
    return device


# ---------------------------------------------------------------- deciding

def table_device_refs(lines):
    refs = []
    for line in lines:
        for arg in line.args:
            if is_device_ref(arg) and arg not in refs:
                refs.append(arg)
    return refs


def normalise_table(lines, devices):
    """The table with every device reference written as ``MAJ:MIN``, as dmsetup prints it."""
    return [TableLine(line.start, line.length, line.target,
                      [devices[arg].devno if arg in devices else arg for arg in line.args])
            for line in lines]


def check_segments(lines, name):
    """A table dmsetup would load: segments from 0, contiguous, positive lengths."""
    if not lines:
        raise ReloadError("the table for %r is empty" % name)
    expected = 0
    for line in lines:
        if line.length <= 0:
            raise ReloadError("table for %r: segment %r has no length" % (name, line.render()))
        if line.start != expected:
            raise ReloadError("table for %r: segment %r starts at %d, expected %d (segments "
                              "must start at 0 and follow each other without gaps)"
                              % (name, line.render(), line.start, expected))
        expected = line.start + line.length


def desired_from_table(text, name):
    try:
        lines = [TableLine.parse(line) for line in text.splitlines() if line.strip()]
    except ValueError as exc:
        raise ReloadError("table for %r: %s" % (name, exc))
    check_segments(lines, name)
    return lines


def growable_segment(current, name):
    if len(current) != 1 or current[0].target not in GROWABLE_TARGETS:
        raise ReloadError(
            "grow works on a one-segment thin-pool or linear table; %r has %s. Give the "
            "complete new table with `table` instead."
            % (name, "no table" if not current else "%d segment(s): %s" % (
                len(current), ", ".join(line.target for line in current))))
    line = current[0]
    if len(line.args) < 2:
        raise ReloadError("unexpected %s table for %r: %r" % (line.target, name, line.render()))
    return line


def grow_source(line):
    """The table argument naming the device whose size decides the length."""
    return line.args[1] if line.target == "thin-pool" else line.args[0]


def grown_table(line, source_sectors, name):
    """The one-segment table with its length set to what the device now offers."""
    if line.target == "thin-pool":
        length = source_sectors
    else:
        try:
            offset = int(line.args[1])
        except ValueError:
            raise ReloadError("unexpected linear table for %r: %r" % (name, line.render()))
        length = source_sectors - offset
        if length <= 0:
            raise ReloadError("linear device %r starts at sector %d of %s, which has only %d "
                              "sectors" % (name, offset, line.args[0], source_sectors))
    return [TableLine(line.start, length, line.target, line.args)]


def table_length(lines):
    return sum(line.length for line in lines)


def thin_pool_length(lines):
    for line in lines:
        if line.target == "thin-pool":
            return line.length
    return None


def check_shrink(name, current, desired, allow_shrink):
    """Refuse a smaller table; a thin-pool's data is never shrunk."""
    pool_before, pool_after = thin_pool_length(current), thin_pool_length(desired)
    if pool_before is not None and pool_after is not None and pool_after < pool_before:
        raise ReloadError(
            "refusing to shrink thin-pool %r from %d to %d sectors: the kernel cannot give "
            "data blocks back and a smaller data device loses data (allow_shrink does not "
            "apply to thin pools)" % (name, pool_before, pool_after))
    before, after = table_length(current), table_length(desired)
    if after < before and not allow_shrink:
        raise ReloadError(
            "refusing to shrink %r from %d to %d sectors (%d bytes less); anything stored past "
            "the new end is lost. Set allow_shrink: true if that is intended."
            % (name, before, after, (before - after) * SECTOR_BYTES))


def lvextend_hint(name):
    """``lvextend -L +SIZE VG/LV`` for an LVM device name, as far as the name tells."""
    parts = split_dm_name(name)
    return "lvextend -L +SIZE %s/%s" % parts[:2] if parts else "lvextend -L +SIZE VG/LV"


def check_owner(name, uuid, grow, allow_lvm_owned):
    """Refuse an LVM-owned device: always for grow, otherwise unless allow_lvm_owned.

    LVM maps each LV to extents it hands out from the VG; the sectors after
    an LV on its PV are free or another LV's. Growing its table to the end of
    the device maps those into this LV (corruption), and LVM writes its own
    table back on the next activation anyway.
    """
    if not is_lvm_uuid(uuid):
        return
    if grow:
        raise ReloadError(
            "refusing to grow %r: it is an LVM logical volume (UUID %s). The space after it on "
            "its PV is free extents or another LV's, and growing its table would map them into "
            "%r (corrupting that LV); use lvextend, which takes free extents from the VG "
            "(`%s`). allow_lvm_owned does not apply to grow." % (name, uuid, name, lvextend_hint(name)))
    if not allow_lvm_owned:
        raise ReloadError(
            "refusing to load a table into %r: it belongs to LVM (UUID %s), which keeps its own "
            "mapping in the VG metadata and writes it back on the next activation; a table that "
            "maps extents LVM gave to other LVs corrupts them. Change LVM volumes with lvextend, "
            "lvreduce or lvconvert; set allow_lvm_owned: true only to load this table anyway."
            % (name, uuid))


def target_types(lines):
    return sorted(set(line.target for line in lines))


def check_target_change(name, current, desired, allow_target_change):
    """Refuse a table whose target types differ from the live one's unless allowed.

    Another target type changes what the device is: ``error`` fails every
    I/O, a ``linear`` over a thin pool's data device hides the pool, and the
    same sectors read in another layout are garbage.
    """
    before, after = target_types(current), target_types(desired)
    if current and before != after and not allow_target_change:
        raise ReloadError(
            "refusing to replace the %s table of %r with a %s table: a different target type "
            "changes what the device is (an error target fails all its I/O; another layout "
            "reads its data as garbage). Set allow_target_change: true if that is intended."
            % ("/".join(before), name, "/".join(after)))


def check_loop_refresh(name, devices, allow_shrink):
    for device in devices:
        if device.needs_refresh and device.refreshed_sectors < device.sectors and not allow_shrink:
            raise ReloadError(
                "refusing to refresh %s (used by %r): its backing file %s is now smaller (%d "
                "sectors) than the loop device (%d sectors), so `losetup -c` would shrink it "
                "under the live table" % (device.path, name, device.backing_file,
                                          device.refreshed_sectors, device.sectors))


class ReloadPlan(object):
    """What a run will do: refresh these loops, load this table, resume or not."""

    def __init__(self, state, desired, refresh, noflush):
        self.state = state
        self.desired = desired
        self.refresh = refresh
        self.noflush = noflush
        self.table_changes = render_table(desired) != render_table(state.table)
        # A device found suspended is put back into service: a suspended
        # device holds all its I/O, which is never a state worth keeping.
        self.resumes = self.table_changes or state.suspended
        # An inactive table someone else loaded would be swapped in by our
        # resume; drop it first.
        self.clears = self.resumes and state.has_inactive_table

    @property
    def changed(self):
        return bool(self.refresh) or self.resumes

    def steps(self):
        """The mutating commands in order (what check mode reports)."""
        name = self.state.name
        steps = [["losetup", "--set-capacity", device.path] for device in self.refresh]
        if self.clears:
            steps.append(Dmsetup.clear(name))
        if self.table_changes:
            steps.append(Dmsetup.reload(name, render_table(self.desired)))
            if not self.state.suspended:
                steps.append(Dmsetup.suspend(name, self.noflush))
        if self.resumes:
            steps.append(Dmsetup.resume(name))
        return steps


# ---------------------------------------------------------------- applying

class TableReloader(object):
    """Reads the device, decides the new table and applies it safely."""

    def __init__(self, runner, name, table=None, grow=False, refresh_loop=None, noflush=False,
                 allow_shrink=False, allow_lvm_owned=False, allow_target_change=False,
                 suspend_timeout=SUSPEND_TIMEOUT):
        self.runner = runner
        self.name = name
        self.table = table
        self.grow = grow
        self.refresh_loop = grow if refresh_loop is None else refresh_loop
        self.noflush = noflush
        self.allow_shrink = allow_shrink
        self.allow_lvm_owned = allow_lvm_owned
        self.allow_target_change = allow_target_change
        self.suspend_timeout = suspend_timeout
        self.warnings = []
        self.restored_table = None
        # What a failed run had already changed, for `changed` and its message.
        self.done = []
        self.refreshed = []
        self.cleared_foreign = False
        self.loaded = False
        # The device as read back after its table was touched; None when it
        # was not (or could not be) read again.
        self.final = None
        self.final_unknown = False

    # -- reading and deciding

    def plan(self):
        # A malformed table is refused before anything is read.
        lines = None if self.grow else desired_from_table(self.table, self.name)
        state = read_device(self.runner, self.name)
        uuid = state.info.get("uuid") or ""
        # What needs only the live table is refused before any other read.
        check_owner(self.name, uuid, self.grow, self.allow_lvm_owned)
        if is_lvm_uuid(uuid):
            self.warnings.append(
                "%r belongs to LVM (UUID %s) and allow_lvm_owned is set: LVM writes its own "
                "table back on the next activation; resize LVM volumes with lvextend"
                % (self.name, uuid))
        if not self.grow:
            check_target_change(self.name, state.table, lines, self.allow_target_change)
        if self.grow:
            desired, refresh = self._plan_grow(state)
        else:
            desired, refresh = self._plan_table(lines)
        check_shrink(self.name, state.table, desired, self.allow_shrink)
        plan = ReloadPlan(state, desired, refresh, self.noflush)
        if state.has_inactive_table:
            self.warnings.append(
                "%r had an inactive table loaded (a `dmsetup reload` never resumed?); %s"
                % (self.name, "it is discarded before resuming" if plan.clears else
                   "it was left alone, but the next `dmsetup resume` will make it live"))
        if state.suspended:
            self.warnings.append("%r was found suspended (all its I/O on hold); this run resumes it"
                                 % self.name)
        return plan

    def _plan_grow(self, state):
        line = growable_segment(state.table, self.name)
        devices = [read_block_device(self.runner, ref, self.name, self.refresh_loop)
                   for ref in table_device_refs([line])]
        check_loop_refresh(self.name, devices, self.allow_shrink)
        source = [d for d in devices if d.ref == grow_source(line)][0]
        sectors = source.refreshed_sectors if source.needs_refresh else source.sectors
        desired = grown_table(line, sectors, self.name)
        return desired, [d for d in devices if d.needs_refresh]

    def _plan_table(self, lines):
        devices = {}
        for ref in table_device_refs(lines):
            if ref.startswith("/dev/") or self.refresh_loop:
                devices[ref] = self._describe(ref)
            # A MAJ:MIN reference is already in dmsetup's own form.
        desired = normalise_table(lines, devices)
        refresh = [d for d in devices.values() if d.needs_refresh]
        check_loop_refresh(self.name, refresh, self.allow_shrink)
        return desired, refresh

    def _describe(self, ref):
        if self.refresh_loop:
            return read_block_device(self.runner, ref, self.name, True)
        return resolve_device(self.runner, ref, self.name)

    # -- applying

    def apply(self, plan):
        """Run the plan; return a message saying what happened.

        In check mode the steps are only recorded. Once a table is loaded
        or the device suspended, any failure leads to ``_restore``. A failure
        says what the run had changed before it.
        """
        if self.runner.module.check_mode:
            for argv in plan.steps():
                self.runner.plan(argv)
            return self._summary(plan, would=True)
        try:
            with stop_signals(_raise_interrupted):
                return self._apply(plan)
        except ReloadError as exc:
            exc.msg = self._with_done(exc.msg)
            raise
        except CommandError as exc:  # a read after a change timed out
            raise ReloadError(self._with_done("%s" % exc))
        except Interrupted as exc:  # before anything was loaded or suspended
            raise ReloadError(self._with_done("%s before %r was touched; its table is unchanged"
                                              % (exc, self.name)))

    def changed_after_failure(self, plan):
        """Whether a failed run left the system different from how it found it."""
        if self.refreshed or self.cleared_foreign or self.final_unknown:
            return True
        if self.final is None:
            return False
        return (render_table(self.final.table) != render_table(plan.state.table)
                or self.final.suspended != plan.state.suspended)

    def _with_done(self, msg):
        if not self.done:
            return msg
        return "%s (done before the failure: %s)" % (msg, "; ".join(self.done))

    def _apply(self, plan):
        name = self.name
        for device in plan.refresh:
            self._run_or_fail(["losetup", "--set-capacity", device.path], LOOP_REFRESH_TIMEOUT,
                              "refreshing the capacity of %s failed; the table of %r was not "
                              "touched" % (device.path, name))
            self.refreshed.append(device.path)
            self.done.append("refreshed %s to %d sectors" % (device.path, device.refreshed_sectors))
        if plan.clears:
            self._run_or_fail(Dmsetup.clear(name), CLEAR_TIMEOUT,
                              "could not drop the inactive table of %r; its live table was not "
                              "touched" % name)
            self.cleared_foreign = True
            self.done.append("discarded the inactive table that was left loaded in %r" % name)
        if plan.table_changes:
            try:
                self.runner.run(Dmsetup.reload(name, render_table(plan.desired)), mutates=True,
                                timeout=RELOAD_TIMEOUT)
                self.loaded = True
            except (CommandError, Interrupted) as exc:
                detail = _describe_failure(exc, name)
                if plan.state.suspended:
                    restored = self._restore(plan)
                    raise ReloadError("loading the new table into %r failed: %s; %s"
                                      % (name, detail, restored), **self._after_restore())
                if isinstance(exc, (CommandTimeout, Interrupted)):
                    # Stopped, it may or may not have loaded the table: drop
                    # whatever is inactive so no later resume makes it live.
                    raise ReloadError("loading the new table into %r failed: %s; %s; the device "
                                      "was not suspended and its live table is unchanged"
                                      % (name, detail, self._drop_inactive()),
                                      table_after=render_table(plan.state.table))
                raise ReloadError("dmsetup rejected the new table for %r: %s; the device was "
                                  "not suspended and still has its previous table"
                                  % (name, detail), table_after=render_table(plan.state.table))
        try:
            if plan.table_changes and not plan.state.suspended:
                self.runner.run(Dmsetup.suspend(name, self.noflush), mutates=True,
                                timeout=self.suspend_timeout)
            if plan.resumes:
                self.runner.run(Dmsetup.resume(name), mutates=True, timeout=RESUME_TIMEOUT)
        except Exception as exc:  # a timeout, a rejected resume, a stop signal, anything
            restored = self._restore(plan)
            raise ReloadError("changing the table of %r failed: %s; %s"
                              % (name, _describe_failure(exc, name), restored),
                              **self._after_restore())

        if not plan.resumes:
            return self._summary(plan, would=False)
        after = read_device(self.runner, name)
        self.final = after
        if render_table(after.table) != render_table(plan.desired):
            raise ReloadError(
                "after resume %r has the table %r, not the one loaded (%r)"
                % (name, render_table(after.table), render_table(plan.desired)),
                table_after=render_table(after.table))
        if after.suspended:
            raise ReloadError("%r is still suspended after `dmsetup resume`; run `dmsetup "
                              "resume %s` and look at the kernel log" % (name, name))
        return self._summary(plan, would=False)

    def _after_restore(self):
        return {"table_after": self.restored_table} if self.restored_table is not None else {}

    def _run_or_fail(self, argv, timeout, what):
        try:
            self.runner.run(argv, mutates=True, timeout=timeout)
        except CommandError as exc:
            raise ReloadError("%s: %s" % (what, exc))

    def _try(self, argv, timeout):
        """Run a restoring step without raising: ``(ok, what it printed or why it stopped)``."""
        try:
            rc, out, err = self.runner.run(argv, mutates=True, check_rc=False, timeout=timeout)
        except CommandTimeout as exc:
            return False, "did not finish within %s s" % exc.seconds
        return rc == 0, " ".join((err or out).replace("Command failed.", "").split())

    def _drop_inactive(self):
        name = self.name
        ok, detail = self._try(Dmsetup.clear(name), CLEAR_TIMEOUT)
        if ok:
            return "discarded whatever it had loaded (`dmsetup clear %s`)" % name
        return ("could not discard what it may have loaded (`dmsetup clear %s`: %s): run "
                "`dmsetup clear %s` before anything resumes the device" % (name, detail, name))

    def _restore(self, plan):
        """Put the device back into service with its previous table; say how it ended.

        Runs after a failure once our table may be loaded or the device
        suspended (also after a suspend that timed out: it may have taken
        effect). Every command is tried even if an earlier one fails, each
        under its own timeout.
        """
        # A second stop signal must not cut the restore short.
        with stop_signals(signal.SIG_IGN):
            return self._restore_unsignalled(plan)

    def _restore_unsignalled(self, plan):
        name = self.name
        before = render_table(plan.state.table)
        notes = []
        try:
            rc, out, err = self.runner.run(Dmsetup.table(name), check_rc=False)
            live = render_table(parse_table(out)) if rc == 0 else None
            if live is not None and live != before:
                # The kernel swapped our table in and then refused to resume
                # with it (a target's preresume check): load the old one back.
                ok, detail = self._try(Dmsetup.reload(name, before), RELOAD_TIMEOUT)
                notes.append("reloaded the previous table" if ok else
                             "could not reload the previous table (%s)" % detail)
            else:
                # Our table may still sit inactive: drop it so no resume,
                # ours or a later one, makes it live.
                ok, detail = self._try(Dmsetup.clear(name), CLEAR_TIMEOUT)
                if not ok:
                    notes.append("could not discard the new inactive table (%s)" % detail)
                elif self.loaded:
                    notes.append("discarded the new table")
            ok, detail = self._try(Dmsetup.resume(name), RESUME_TIMEOUT)
            if not ok:
                notes.append("`dmsetup resume %s` failed too (%s)" % (name, detail))
            final = read_device(self.runner, name)
            self.final = final
            self.restored_table = render_table(final.table)
        except Exception as exc:  # report, never mask the first failure
            self.final_unknown = True
            return ("restoring it failed: %s. CHECK THE DEVICE: `dmsetup info %s`, and "
                    "`dmsetup resume %s` if it is suspended" % (exc, name, name))
        table_note = ("its previous table is live" if render_table(final.table) == before
                      else "its live table is now %r" % render_table(final.table))
        if final.suspended:
            return ("%s; %r IS STILL SUSPENDED (all its I/O waits): `dmsetup resume %s` after "
                    "fixing the cause; %s"
                    % ("; ".join(notes) or "resume failed", name, name, table_note))
        return "%s; the device is active again and %s" % (
            "; ".join(notes + ["resumed %r" % name]), table_note)

    def _summary(self, plan, would):
        verb = (lambda past, future: future) if would else (lambda past, future: past)
        parts = []
        for device in plan.refresh:
            parts.append("%s %s to %d sectors" % (verb("refreshed", "would refresh"), device.path,
                                                  device.refreshed_sectors))
        before, after = table_length(plan.state.table), table_length(plan.desired)
        if plan.table_changes:
            if after != before:
                parts.append("%s %r from %d to %d sectors" % (
                    verb("grew" if after > before else "shrank",
                         "would grow" if after > before else "would shrink"),
                    self.name, before, after))
            else:
                parts.append("%s the table of %r" % (verb("reloaded", "would reload"), self.name))
        elif plan.state.suspended:
            parts.append("%s %r, which was suspended" % (verb("resumed", "would resume"), self.name))
        if not parts:
            return "%r already has the desired table (%d sectors)" % (self.name, after)
        return "; ".join(parts)


def _describe_failure(exc, name):
    if isinstance(exc, CommandTimeout):
        hint = ""
        if exc.argv[1:2] == ["suspend"]:
            hint = (" (I/O in flight on the device did not complete in time; suspend_timeout "
                    "sets the limit, and a thin pool out of data space needs noflush: true)")
        return "`%s` did not finish within %s s and was stopped%s" % (
            " ".join(exc.argv[:2]), exc.seconds, hint)
    if isinstance(exc, CommandError):
        detail = " ".join((exc.err or exc.out or "").replace("Command failed.", "").split())
        hint = ""
        if exc.argv[1:2] == ["reload"]:
            hint = " (the kernel log, `dmesg`, says why: an unknown target, a gap, bad arguments)"
        elif exc.argv[1:2] == ["resume"]:
            hint = " (the kernel log, `dmesg`, says why; a length past the end of a device " \
                   "is one reason)"
        return "`%s` failed: %s%s" % (" ".join(exc.argv[:2]), detail, hint)
    return "%s while changing %r: %s" % (type(exc).__name__, name, exc)


# ---------------------------------------------------------------- the module

def device_name(value):
    """The dm name from ``name``: the validated name, with a leading /dev/mapper/ removed."""
    return dm_device_name("name", strip_mapper_dir(value))


class DmReloadModule(object):
    """dm_reload's backend: checks the options, then plans and applies under the host lock."""

    def __init__(self, module):
        self.module = module

    def run(self):
        """The module's result, for exit_json; a refusal or failure ends the run with fail_json."""
        module = self.module
        params = module.params
        try:
            refuse_empty(params, ["name", "table"])
            name = device_name(params["name"])
            positive_int("suspend_timeout", params["suspend_timeout"], low=1)
        except InputError as exc:
            module.fail_json(msg=str(exc), changed=False)
        if not params["grow"] and params["table"] is None:
            module.fail_json(msg="give the complete desired `table` for %r, or `grow: true`" % name,
                             changed=False)

        lock = locked(module, "dm_reload")
        try:
            return self.reload_device(name)
        finally:
            lock.release()

    def reload_device(self, name):
        """Plan and apply under the host lock: the module's result, or fail_json."""
        module = self.module
        params = module.params
        runner = CommandRunner(module)
        reloader = TableReloader(runner, name, table=params["table"], grow=params["grow"],
                                 refresh_loop=params["refresh_loop"], noflush=params["noflush"],
                                 allow_shrink=params["allow_shrink"],
                                 allow_lvm_owned=params["allow_lvm_owned"],
                                 allow_target_change=params["allow_target_change"],
                                 suspend_timeout=params["suspend_timeout"])
        result = dict(changed=False, name=name, loop_devices_refreshed=[])
        plan = None
        try:
            plan = reloader.plan()
            result.update(table_before=render_table(plan.state.table),
                          table_after=render_table(plan.desired),
                          length_sectors=table_length(plan.desired),
                          loop_devices_refreshed=[device.path for device in plan.refresh])
            result["msg"] = reloader.apply(plan)
        except (ReloadError, CommandError) as exc:
            if plan is not None and not module.check_mode:
                # The apply failed: only what was done and read back is known.
                result.pop("table_after", None)
                result.pop("length_sectors", None)
                result["loop_devices_refreshed"] = list(reloader.refreshed)
                result["changed"] = reloader.changed_after_failure(plan)
            result.update(getattr(exc, "details", {}))
            for warning in reloader.warnings:
                module.warn(warning)
            module.fail_json(msg=getattr(exc, "msg", str(exc)),
                             commands=runner.commands + runner.planned, **result)

        result["changed"] = plan.changed
        if module._diff:
            result["diff"] = dict(before=result["table_before"] + "\n",
                                  after=result["table_after"] + "\n",
                                  before_header="%s (live table)" % name,
                                  after_header="%s (%s table)" % (
                                      name, "planned" if module.check_mode else "new"))
        # module.warn, not a warnings key: exit_json's warnings argument goes in ansible-core 2.23.
        for warning in reloader.warnings:
            module.warn(warning)
        result.update(commands=runner.commands + runner.planned)
        return result
