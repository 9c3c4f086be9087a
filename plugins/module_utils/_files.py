# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Configuration files written atomically (daemon.json, LVM profiles).

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import tempfile

NEW_FILE_MODE = 0o644


def write_atomically(path, content, mode=None, root_owned=False, module=None, dir_mode=0o755):
    """Replace ``path`` with ``content`` through a temporary file in the same directory.

    A reader sees the old file or the new one, never half of one. A symlink
    is written through and stays a link. With ``mode=None`` an existing
    file keeps its mode; an existing file always keeps its owner and group,
    and when they cannot be kept (not root) OSError is raised before the old
    file is replaced. A new file gets 0644 and, when run as root, root
    ownership. ``root_owned`` hands an existing file to root instead.
    With ``module``, an existing file's SELinux context is kept.
    """
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        os.makedirs(directory, dir_mode)
    existing = os.stat(target) if os.path.exists(target) else None
    context = None
    if module is not None and existing is not None and module.selinux_enabled():
        context = module.selinux_context(target)

    handle, temporary = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(target) + ".",
                                         suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content.encode("utf-8"))
            stream.flush()
            if mode is None and existing is not None:
                os.fchmod(stream.fileno(), stat.S_IMODE(existing.st_mode))
            else:
                os.fchmod(stream.fileno(), NEW_FILE_MODE if mode is None else mode)
            if root_owned or existing is None:
                # root's file when run as root; a user's new file stays theirs
                if os.geteuid() == 0:
                    os.fchown(stream.fileno(), 0, 0)
            else:
                _keep_owner(stream.fileno(), existing, target)
            os.fsync(stream.fileno())
        os.rename(temporary, target)
    except Exception:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    if context is not None:
        module.set_context_if_different(target, context, False)


def _keep_owner(fd, existing, target):
    """Give the new file the old one's owner and group, or fail before it replaces anything."""
    current = os.fstat(fd)
    if (current.st_uid, current.st_gid) == (existing.st_uid, existing.st_gid):
        return
    try:
        os.fchown(fd, existing.st_uid, existing.st_gid)
    except OSError as exc:
        raise OSError(exc.errno, "cannot give the new %s the owner %d:%d of the old one (%s); run as root "
                      "or as that owner" % (target, existing.st_uid, existing.st_gid, exc.strerror))
