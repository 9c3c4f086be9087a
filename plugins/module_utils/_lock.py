# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One lock per host around every mutating module's read-to-write span.

Two runs at once (two ansible-playbook runs, or a run and an operator's
ad-hoc task) must never act on each other's half-made state: one would wipe
the PV the other just created, or lose its daemon.json edit. ``flock(2)`` on
one file under /run: the kernel drops the lock when the holder exits, even
on SIGKILL, so a killed run never leaves the host locked.

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import os
import time

# The stdlib only: thinpool_monitor's collector imports this module on hosts without Ansible.
try:
    from shlex import quote as shlex_quote
except ImportError:  # Python 2.7
    from pipes import quote as shlex_quote

LOCK_NAME = "container-storage-devicemapper.lock"
# The first directory that exists is used; all are local, none survive a reboot
# except /tmp on some hosts (harmless: the lock is the flock, not the file).
LOCK_DIRS = ("/run/lock", "/var/lock", "/run", "/tmp")
DEFAULT_LOCK_TIMEOUT = 300

LOCK_ARGUMENT_SPEC = dict(lock_timeout=dict(type="int", default=DEFAULT_LOCK_TIMEOUT))


# Shell variable of the preamble below; unset before the script proper runs.
_SHELL_LOCKDIR = "__container_storage_lockdir"
# The preamble holds the lock on this descriptor until the script exits; the script must leave it open.
SHELL_LOCK_FD = 9


def shell_preamble(timeout=DEFAULT_LOCK_TIMEOUT, dirs=None):
    """Shell lines that take the host lock for the rest of a ``sh`` script, as ``HostLock`` does.

    The same file as ``lock_path()`` (the first of ``dirs``, default ``LOCK_DIRS``, that exists;
    the last one when none does), locked with ``flock(1)`` on descriptor 9, held until the
    script and everything it started without closing descriptor 9 have exited. Waits at most
    ``timeout`` seconds, then says who holds it on standard error and exits 1.
    Built here so that a script and a module always take the same lock.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 0:
        raise ValueError("the lock timeout must be 0 or more whole seconds, not %r" % (timeout,))
    var = _SHELL_LOCKDIR
    path = '"$%s"/%s' % (var, shlex_quote(LOCK_NAME))
    candidates = " ".join(shlex_quote(directory) for directory in (dirs or LOCK_DIRS))
    return "\n".join([
        'for %s in %s; do [ -d "$%s" ] && break; done' % (var, candidates, var),
        "exec %d>>%s" % (SHELL_LOCK_FD, path),
        "if ! flock -w %d %d; then" % (timeout, SHELL_LOCK_FD),
        '  echo "another run held the host lock $%s/%s for %d s: $(cat -- %s)" >&2' % (var, LOCK_NAME, timeout, path),
        "  exit 1",
        "fi",
        "unset %s" % var,
        "",
    ])


class LockTimeout(Exception):
    """Another run held the host lock for longer than ``lock_timeout``."""


def lock_path():
    for directory in LOCK_DIRS:
        if os.path.isdir(directory):
            return os.path.join(directory, LOCK_NAME)
    raise LockTimeout("no directory for the host lock (tried %s)" % ", ".join(LOCK_DIRS))


class HostLock(object):
    """``with HostLock(module, "thinpool", timeout): ...``: waits at most ``timeout`` seconds.

    The holder writes who it is into the lock file, so a waiter can say whom
    it waited for.
    """

    POLL = 0.2

    def __init__(self, holder, timeout=DEFAULT_LOCK_TIMEOUT, path=None):
        self.holder = holder
        self.timeout = timeout
        self.path = path or lock_path()
        self.handle = None
        self.waited = 0.0

    def acquire(self):
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        handle = os.fdopen(fd, "r+")
        start = time.time()
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    handle.close()
                    raise
            if time.time() - start >= self.timeout:
                holder = self._read_holder(handle)
                handle.close()
                raise LockTimeout(
                    "another run holds the host lock %s (%s) and did not release it within "
                    "lock_timeout=%ss; nothing was changed. Wait for it to finish, or find it "
                    "with `fuser -v %s`." % (self.path, holder or "holder unknown", self.timeout,
                                             self.path))
            time.sleep(self.POLL)
        self.waited = time.time() - start
        handle.seek(0)
        handle.truncate()
        handle.write("pid %d, %s, since %s\n"
                     % (os.getpid(), self.holder, time.strftime("%Y-%m-%dT%H:%M:%S%z")))
        handle.flush()
        self.handle = handle
        return self

    @staticmethod
    def _read_holder(handle):
        try:
            handle.seek(0)
            return handle.read(200).strip()
        except (IOError, OSError):
            return ""

    def release(self):
        if self.handle is not None:
            try:
                # clear who held it: a later holder outside this collection (flock(1))
                # writes nothing, and must not be reported under our old name
                self.handle.seek(0)
                self.handle.truncate()
                self.handle.flush()
                fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
            finally:
                self.handle.close()
                self.handle = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()
        return False


def locked(module, holder):
    """The host lock for a module run, timed by its ``lock_timeout`` option.

    A lock that cannot be taken ends the module with ``fail_json`` naming
    the holder; nothing has run by then.
    """
    timeout = module.params.get("lock_timeout")
    if timeout is None:
        timeout = DEFAULT_LOCK_TIMEOUT
    if isinstance(timeout, bool) or timeout < 0:
        module.fail_json(msg="lock_timeout: %r must be 0 or more seconds" % (timeout,))
    lock = HostLock(holder, timeout)
    try:
        return lock.acquire()
    except LockTimeout as exc:
        module.fail_json(msg=str(exc), changed=False)
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot take the host lock %s: %s" % (lock.path, exc), changed=False)
