"""The one daemon.json reader (_daemon_json.read_daemon_json) every module uses."""

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.container_storage.devicemapper.plugins.module_utils import _daemon_json
from ansible_collections.container_storage.devicemapper.plugins.module_utils._daemon_json import (
    DaemonJsonError,
    parse_daemon_json,
    read_daemon_json,
    render_daemon_json,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils import _docker_storage

PATH = "/etc/docker/daemon.json"


def refused(data, **kwargs):
    with pytest.raises(DaemonJsonError) as caught:
        parse_daemon_json(data, PATH, **kwargs)
    return caught.value


def test_no_file_is_none(tmp_path):
    assert read_daemon_json(str(tmp_path / "daemon.json")) == (None, None)


def test_empty_and_blank_files_are_empty_objects():
    assert parse_daemon_json(b"", PATH) == ({}, "")
    assert parse_daemon_json(b" \n\t\n", PATH) == ({}, " \n\t\n")


def test_text_is_returned_as_read_so_a_rewrite_can_keep_its_indent():
    data = u'{\n\t"label": "caf\u00e9"\n}\n'.encode("utf-8")
    document, text = parse_daemon_json(data, PATH)
    assert document == {"label": u"caf\u00e9"} and text.encode("utf-8") == data


def test_only_bytes_are_accepted():
    with pytest.raises(TypeError):
        parse_daemon_json(u"{}", PATH)


@pytest.mark.parametrize("data, offset, line, column", [
    (b'{"a": "\xff"}', 7, 1, 8),
    (b'{\n "a": "caf\xe9"\n}', 12, 2, 11),
    (b'{"a": "\xed\xa0\x80"}', 7, 1, 8),  # an encoded surrogate: not UTF-8
    (b'{"a": "\xc0\xaf"}', 7, 1, 8),  # an overlong '/'
    (b'{"a": "\xe2\x82"}', 7, 1, 8),  # cut in the middle of a character
])
def test_invalid_utf8_names_the_byte_and_where(data, offset, line, column):
    message = str(refused(data))
    assert message.startswith(PATH + " is not valid UTF-8: byte 0x%02x at byte offset %d (line %d, column %d)"
                              % (bytearray(data)[offset], offset, line, column)), message
    assert u"\ufffd" not in message


def test_byte_order_mark_is_refused():
    assert "byte order mark" in str(refused(b'\xef\xbb\xbf{}'))


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinities_are_refused(constant):
    assert "holds %s, which is not JSON" % constant in str(refused(('{"a": [1, %s]}' % constant).encode()))


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1" + "0" * 400])
def test_numbers_dockerd_cannot_hold_are_refused(number):
    assert "too large for a 64-bit float" in str(refused(('{"a": %s}' % number).encode()))


def test_numbers_dockerd_can_hold_are_kept():
    document = parse_daemon_json(b'{"a": 1.5e300, "b": 12345678901234567890, "c": -0.0}', PATH)[0]
    assert document == {"a": 1.5e300, "b": 12345678901234567890, "c": -0.0}


def test_duplicate_keys_refused_for_a_rewrite_and_last_wins_for_reading():
    data = b'{"x": {"a": 1, "a": 2}}'
    error = refused(data)
    assert error.key == "a" and "appears twice" in str(error)
    assert parse_daemon_json(data, PATH, refuse_duplicates=False)[0] == {"x": {"a": 2}}


@pytest.mark.parametrize("document, key, words", [
    ({"storage-driver": 5}, "storage-driver", "must be a string, not 5 (a number)"),
    ({"storage-opts": 5}, "storage-opts", "must be an array of \"key=value\" strings, not 5 (a number)"),
    ({"storage-opts": "dm.fs=xfs"}, "storage-opts", "not \"dm.fs=xfs\" (a string)"),
    ({"storage-opts": ["dm.fs=xfs", True]}, "storage-opts", "entry 1 must be a \"key=value\" string, not true"),
    ({"data-root": 5}, "data-root", "must be a string, not 5 (a number)"),
    ({"data-root": " "}, "data-root", "is an empty string"),
    ({"graph": {}}, "graph", "must be a string, not {} (an object)"),
    ({"features": True}, "features", "must be an object of names to true or false"),
    ({"features": {"buildkit": 1}}, "features", "entry \"buildkit\" must be true or false, not 1 (a number)"),
])
def test_types_of_the_keys_read(document, key, words):
    error = refused(json.dumps(document).encode())
    assert error.key == key and error.path == PATH
    assert str(error).startswith('%s: "%s" ' % (PATH, key)) and words in str(error), str(error)
    assert str(error).endswith("; the file was left untouched")


def test_null_is_a_key_left_at_its_default_as_for_dockerd():
    data = b'{"storage-driver": null, "storage-opts": null, "data-root": null, "features": null}'
    document = parse_daemon_json(data, PATH)[0]
    assert document == {"storage-driver": None, "storage-opts": None, "data-root": None, "features": None}


def test_other_keys_are_not_type_checked():
    document = parse_daemon_json(b'{"debug": "yes", "labels": 5}', PATH)[0]
    assert document == {"debug": "yes", "labels": 5}


def test_not_a_regular_file_and_unreadable_file(tmp_path):
    with pytest.raises(DaemonJsonError) as caught:
        read_daemon_json(str(tmp_path))
    assert "is not a regular file" in str(caught.value)
    os.symlink(str(tmp_path / "nowhere"), str(tmp_path / "dangling.json"))
    with pytest.raises(DaemonJsonError) as caught:
        read_daemon_json(str(tmp_path / "dangling.json"))
    assert "link to nothing" in str(caught.value)


def test_render_never_writes_nan():
    with pytest.raises(ValueError):
        render_daemon_json({"a": float("nan")})


def test_both_modules_read_through_the_one_reader():
    assert _docker_storage.read_daemon_json is _daemon_json.read_daemon_json
    assert not hasattr(_docker_storage, "parse_daemon_json")


# RHEL 8's Python 3.6 under the C locale decodes text files as ASCII. The same
# setting is forced here (no UTF-8 mode, no locale coercion), and the old way of
# reading (open() in text mode) is shown to fail there, so the test can fail.
C_LOCALE_SCRIPT = r"""
import json, sys
from ansible_collections.container_storage.devicemapper.plugins.module_utils._daemon_json import read_daemon_json
path = sys.argv[1]
try:
    open(path).read()
    text_mode = "read"
except UnicodeDecodeError:
    text_mode = "UnicodeDecodeError"
document, _ = read_daemon_json(path)
print(json.dumps({"encoding": sys.getfilesystemencoding(), "text_mode": text_mode, "document": document}))
"""


def test_non_ascii_daemon_json_is_read_under_the_c_locale(tmp_path):
    path = tmp_path / "daemon.json"
    path.write_bytes(u'{"labels": ["site=caf\u00e9"], "storage-driver": "overlay2"}'.encode("utf-8"))
    env = dict(os.environ, LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0",
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    env.pop("PYTHONIOENCODING", None)
    out = subprocess.check_output([sys.executable, "-X", "utf8=0", "-c", C_LOCALE_SCRIPT, str(path)], env=env)
    seen = json.loads(out.decode("ascii"))
    assert seen["text_mode"] == "UnicodeDecodeError", "the C locale was not in force: %r" % seen
    assert seen["document"] == {"labels": [u"site=caf\u00e9"], "storage-driver": "overlay2"}
