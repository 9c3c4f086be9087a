# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Files written atomically, as root, into directories nobody else controls
(daemon.json, config.toml, LVM profiles, the thin-pool collector's metrics).

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import errno
import os
import stat

NEW_FILE_MODE = 0o644
_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_TEMPORARY_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class UnsafePathError(OSError):
    """A directory on the way to the file is a symlink, or another user could change it: nothing was written.

    Raised with the message alone (no errno), so str() is the message."""


def _trusted(uid):
    return uid in (0, os.geteuid())


def _others_can_write(info):
    """Another user can add, remove or rename entries: the directory is theirs, or group/other-writable."""
    return not _trusted(info.st_uid) or bool(info.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def _describe(info):
    if not _trusted(info.st_uid):
        return "owned by uid %d" % info.st_uid
    return "writable by group or others (mode %04o)" % stat.S_IMODE(info.st_mode)


def open_directory(path, create_mode=None):
    """A descriptor of the directory ``path``, reached from / one name at a time, following no symlink.

    Raises UnsafePathError, before anything is written, when a name on the way is
    a symlink; when a directory above ``path`` could be replaced by another user
    (its parent is another user's, or writable by group or others without the
    sticky bit that would protect a root-owned entry); or when ``path`` itself is
    another user's or writable by group or others. Whether ``path`` could be
    replaced does not matter: the checks are made on the directory actually
    opened, and what is written goes through its descriptor, so swapping the
    name afterwards redirects nothing. With ``create_mode``, missing
    directories are created with it (umask applies), as ``os.makedirs`` would.
    """
    path = os.path.abspath(path)
    names = [name for name in path.split(os.sep) if name]
    fd = os.open(os.sep, _DIRECTORY_FLAGS)
    try:
        parent = os.fstat(fd)
        walked = os.sep
        for index, name in enumerate(names):
            here = os.path.join(walked, name)
            child = _open_child(fd, name, here, create_mode)
            os.close(fd)
            fd = child
            info = os.fstat(fd)
            last = index == len(names) - 1
            protected = parent.st_mode & stat.S_ISVTX and _trusted(info.st_uid)
            if not last and _others_can_write(parent) and not protected:
                raise UnsafePathError("%s could be replaced by another user: %s is %s"
                                      % (here, walked, _describe(parent)))
            parent, walked = info, here
        if _others_can_write(parent):
            raise UnsafePathError("%s is %s: another user could replace what is written there"
                                  % (walked, _describe(parent)))
        return fd
    except BaseException:
        os.close(fd)
        raise


def _open_child(fd, name, here, create_mode):
    try:
        return os.open(name, _DIRECTORY_FLAGS, dir_fd=fd)
    except OSError as exc:
        if exc.errno == errno.ENOENT and create_mode is not None:
            try:
                os.mkdir(name, create_mode, dir_fd=fd)
            except OSError as mkdir_exc:
                if mkdir_exc.errno != errno.EEXIST:
                    raise
            return _open_child(fd, name, here, None)
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            kind = "a symlink" if stat.S_ISLNK(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode) \
                else "not a directory"
            raise UnsafePathError("%s is %s; refusing to follow it" % (here, kind))
        raise


def write_atomically(path, content, mode=None, root_owned=False, module=None, dir_mode=0o755, follow=True):
    """Replace ``path`` with ``content`` through a temporary file in the same directory.

    A reader sees the old file or the new one, never half of one. With
    ``follow`` a symlinked file is written through and stays a link (the
    link's directory and the target's are both checked); without it no
    symlink is followed: a link at ``path`` is replaced by the file. The
    directory is opened with ``open_directory`` (UnsafePathError when
    another user could interfere), and the temporary file is created and
    renamed relative to its descriptor. With ``mode=None`` an existing file
    keeps its mode; an existing file always keeps its owner and group, and
    when they cannot be kept (not root) OSError is raised before the old file
    is replaced. A new file gets 0644 and, when run as root, root ownership.
    ``root_owned`` hands an existing file to root instead. With ``module``,
    an existing file's SELinux context is kept.
    """
    dir_fd, directory, name = _open_parent(path, follow, dir_mode)
    try:
        _write_in(dir_fd, directory, name, content, mode, root_owned, module, follow)
    finally:
        os.close(dir_fd)


def _open_parent(path, follow, create_mode=None):
    """(descriptor, path, name) of the directory that holds the file ``path`` names, checked by
    ``open_directory``. With ``follow`` the file is the symlink's target, and the directory that
    holds the link is checked too (symlinks higher up are resolved, as the kernel would)."""
    target = os.path.realpath(path) if follow else os.path.abspath(path)
    directory, name = os.path.split(target)
    link_directory = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    if follow and link_directory != directory and os.path.isdir(link_directory):
        os.close(open_directory(link_directory))
    return open_directory(directory, create_mode=create_mode), directory, name


def set_mode_and_owner(path, mode, owner=None):
    """chmod (and with ``owner``, a (uid, gid) pair, chown) the regular file ``path`` or the one its
    symlink points at, through a descriptor, after the directory checks of ``write_atomically``."""
    dir_fd, directory, name = _open_parent(path, True)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0),
                     dir_fd=dir_fd)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise UnsafePathError("%s is not a regular file" % os.path.join(directory, name))
            os.fchmod(fd, mode)
            if owner is not None:
                os.fchown(fd, owner[0], owner[1])
        finally:
            os.close(fd)
    finally:
        os.close(dir_fd)


def remove_file(path):
    """Unlink ``path`` (a symlink itself, not what it points at) in its directory, checked as above."""
    directory = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    dir_fd = open_directory(directory)
    try:
        os.unlink(os.path.basename(path), dir_fd=dir_fd)
    finally:
        os.close(dir_fd)


def _write_in(dir_fd, directory, name, content, mode, root_owned, module, follow):
    target = os.path.join(directory, name)
    try:
        existing = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise
        existing = None
    if existing is not None and stat.S_ISLNK(existing.st_mode):
        if follow:  # realpath resolved it a moment ago: someone is changing it
            raise UnsafePathError("%s became a symlink while it was being written; refusing to follow it"
                                  % target)
        existing = None  # the link itself is replaced, its target left alone
    context = None
    if module is not None and existing is not None and module.selinux_enabled():
        context = module.selinux_context(target)

    temporary, handle = _create_temporary(dir_fd, name)
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
        os.rename(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        try:
            os.unlink(temporary, dir_fd=dir_fd)
        except OSError:
            pass
        raise
    os.fsync(dir_fd)  # the rename itself survives a crash
    if context is not None:
        module.set_context_if_different(target, context, False)


def _create_temporary(dir_fd, name):
    """(name, fd) of a new root-only file ``.NAME.XXXXXXXXXXXX.tmp`` beside the target (O_EXCL, no symlink)."""
    for _attempt in range(100):
        temporary = ".%s.%s.tmp" % (name, binascii.hexlify(os.urandom(6)).decode("ascii"))
        try:
            return temporary, os.open(temporary, _TEMPORARY_FLAGS, 0o600, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise
    raise OSError(errno.EEXIST, "no free temporary name beside %s" % name)


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
