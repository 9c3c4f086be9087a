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
    file keeps its mode and owner; a new file gets 0644 and, when run as
    root, root ownership. ``root_owned`` hands an existing file to root too.
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
                owner = (existing.st_uid, existing.st_gid)
            else:
                os.fchmod(stream.fileno(), NEW_FILE_MODE if mode is None else mode)
                owner = (0, 0) if (root_owned or existing is None) else None
            if root_owned and existing is not None:
                owner = (0, 0)
            if owner is not None and os.geteuid() == 0:
                os.fchown(stream.fileno(), owner[0], owner[1])
            os.fsync(stream.fileno())
        os.rename(temporary, target)
    except Exception:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    if context is not None:
        module.set_context_if_different(target, context, False)
