"""Cases for the Docker modules: files written as exact bytes, and proof that a refusal changed nothing.

``run_docker_case`` runs a case of ``case_runner`` with two additions:

- The case's ``files:`` are written here as UTF-8 whatever the locale, and
  ``<0xNN>`` in a string stands for the raw byte 0xNN, so a case can hold
  invalid UTF-8 (``caf<0xE9>`` is Latin-1 "café", not UTF-8). Not a ``\\udcNN``
  escape: libyaml, which ansible-test's yamllint uses, refuses lone surrogates.
- Every file under the case's directory (its bytes, mode and owner) is read
  before the module runs; when the module fails, every one must be exactly as
  it was and no file may have appeared (the host lock's file aside). A
  ``bad_input: true`` case must fail with a message naming the option.
"""

import copy
import os
import re

from case_runner import run_case, substitute

from ansible_collections.container_storage.devicemapper.plugins.module_utils._lock import LOCK_NAME


RAW_BYTE = re.compile(r"<0x([0-9A-Fa-f]{2})>")


def file_bytes(text):
    """The bytes of a case file: UTF-8, with each ``<0xNN>`` as the raw byte NN."""
    parts = RAW_BYTE.split(text)
    out = b""
    for index, part in enumerate(parts):
        out += bytes([int(part, 16)]) if index % 2 else part.encode("utf-8")
    return out


def write_files(files, tmp_path):
    for rel, content in (files or {}).items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(file_bytes(substitute(content, tmp_path)))


def snapshot(tmp_path):
    """{relative path: (bytes or link target, mode, uid, gid)} of everything under ``tmp_path``."""
    found = {}
    for directory, dirs, names in os.walk(str(tmp_path)):
        for name in dirs + names:
            full = os.path.join(directory, name)
            rel = os.path.relpath(full, str(tmp_path))
            if rel == LOCK_NAME:
                continue
            info = os.lstat(full)
            if os.path.islink(full):
                content = "-> " + os.readlink(full)
            elif os.path.isfile(full):
                with open(full, "rb") as handle:
                    content = handle.read()
            else:
                content = "<dir>"
            found[rel] = (content, info.st_mode, info.st_uid, info.st_gid)
    return found


def run_docker_case(module, case, tmp_path, monkeypatch):
    case = copy.deepcopy(case)
    write_files(case.pop("files", None), tmp_path)
    expect = case.get("expect") or {}
    if case.get("bad_input"):
        assert expect.get("failed") is True and expect.get("msg_contains"), (
            "a bad_input case must expect failed: true and a msg_contains naming the option")
    before = snapshot(tmp_path)
    result = run_case(module, case, tmp_path, monkeypatch)
    if result["failed"]:
        after = snapshot(tmp_path)
        assert after == before, "the module failed but changed files: %r" % sorted(
            rel for rel in set(before) | set(after) if before.get(rel) != after.get(rel))
        assert result.get("changed") in (None, False), "a refusal said changed: %r" % (result,)
    return result
