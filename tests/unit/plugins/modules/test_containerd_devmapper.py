"""containerd_devmapper: YAML cases on recorded containerd configs, the TOML reader, and file handling."""

import copy
import difflib
import os
import stat

import pytest

from case_runner import load_cases, load_fixture, run_case

from ansible_collections.container_storage.devicemapper.plugins.module_utils import _containerd, _toml
from ansible_collections.container_storage.devicemapper.plugins.modules import containerd_devmapper

try:
    import tomllib
except ImportError:  # Python < 3.11: the differential tests are skipped
    tomllib = None

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "containerd_devmapper_cases.yml")
RECORDED_CONFIGS = ("config_debian_packaged", "config_default_1_7", "config_default_2_1")


def recorded(name):
    return load_fixture("containerd_devmapper/" + name)["out"]


def changed_lines(before, after):
    """(removed, added) lines between two texts, in order, without line endings."""
    removed, added = [], []
    for line in difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm=""):
        if line.startswith(("---", "+++", "@@")):
            continue
        (removed if line.startswith("-") else added).append(line[1:])
    return removed, added


def run_extended_case(case, tmp_path, monkeypatch):
    """run_case plus the keys this module's cases add (fixture files, exact line changes, untouched files)."""
    case = copy.deepcopy(case)
    originals = {}
    for rel, content in list((case.get("files") or {}).items()):
        if isinstance(content, dict):
            case["files"][rel] = recorded(content["fixture"].split("/", 1)[1])
        originals[rel] = case["files"][rel]
    changes = case.pop("expect_changes", None) or {}
    untouched = case.pop("expect_untouched", None) or []
    case.pop("bad_input", None)
    real_write = _containerd._files.write_atomically
    writes = []

    def recording_write(path, content, **kwargs):
        writes.append(path)
        return real_write(path, content, **kwargs)

    monkeypatch.setattr(_containerd._files, "write_atomically", recording_write)
    result = run_case(containerd_devmapper, case, tmp_path, monkeypatch)
    for rel in untouched:
        path = tmp_path / rel
        assert path.read_bytes() == originals[rel].encode("utf-8"), "%s was modified" % rel
        assert str(path) not in writes, "%s was rewritten" % rel
    for rel, expected in changes.items():
        removed, added = changed_lines(originals[rel], (tmp_path / rel).read_text())
        assert removed == expected["removed"], "removed lines: %r" % removed
        assert added == expected["added"], "added lines: %r" % added
    return result


@pytest.mark.parametrize("case", load_cases(CASES))
def test_containerd_devmapper(case, tmp_path, monkeypatch):
    run_extended_case(case, tmp_path, monkeypatch)


def test_bad_input_cases_expect_a_failure_naming_something():
    import yaml
    with open(CASES) as handle:
        cases = yaml.safe_load(handle)
    bad = [case for case in cases if case.get("bad_input")]
    assert len(bad) >= 20
    for case in bad:
        assert case["expect"]["failed"] is True, case["id"]
        assert case["expect"]["msg_contains"], case["id"]


# ---------------------------------------------------------------- the recorded files

@pytest.mark.parametrize("name", RECORDED_CONFIGS)
def test_recorded_configs_parse(name):
    document = _toml.parse(recorded(name))
    assert document.data["version"] in (2, 3)


@pytest.mark.skipif(tomllib is None, reason="needs tomllib (Python 3.11+) as the reference reader")
@pytest.mark.parametrize("name", RECORDED_CONFIGS)
def test_recorded_configs_read_as_tomllib_reads_them(name):
    text = recorded(name)
    assert _toml.plain(_toml.parse(text).data) == tomllib.loads(text)


def test_recorded_versions_parse():
    assert _containerd.parse_containerd_version(recorded("containerd_version_1_7")) == (1, 7, 24)
    assert _containerd.parse_containerd_version(recorded("containerd_version_2_1")) == (2, 1, 9)


def test_recorded_2_1_defaults_carry_the_devmapper_and_cri_images_sections():
    data = _toml.parse(recorded("config_default_2_1")).data
    assert data["version"] == 3
    assert set(data["plugins"][_containerd.DEVMAPPER_PLUGIN]) >= {"pool_name", "base_image_size", "fs_type"}
    assert data["plugins"]["io.containerd.cri.v1.images"]["snapshotter"] == "overlayfs"


@pytest.mark.parametrize("name", RECORDED_CONFIGS)
@pytest.mark.parametrize("cri", [True, False, None])
def test_every_recorded_file_round_trips_present_then_absent(name, cri):
    """Configure, configure again (no change), remove: the values end as containerd's own defaults
    (plus a CRI default of overlayfs when one was set), and only the managed keys ever differ."""
    text = recorded(name)
    settings = {"pool_name": "docker-thinpool", "base_image_size": "8GB", "discard_blocks": True,
                "root_path": "/var/lib/containerd/devmapper", "fs_type": "xfs"}
    plan = _containerd.plan_devmapper_config(text, "f", "present", settings, cri)
    again = _containerd.plan_devmapper_config(plan.new_text, "f", "present", settings, cri)
    assert not again.changed
    for key, value in settings.items():
        assert plan.after[key] == value
    before = _toml.plain(_toml.parse(text).data)
    after = _toml.plain(_toml.parse(plan.new_text).data)
    before.get("plugins", {}).pop(_containerd.DEVMAPPER_PLUGIN, None)
    after["plugins"].pop(_containerd.DEVMAPPER_PLUGIN)
    cri_table, cri_key = _containerd.CRI_SNAPSHOTTER[plan.version]
    for data in (before, after):
        node = data
        for part in cri_table:
            node = node.get(part, {})
        node.pop(cri_key, None)
        _drop_empty(data)
    assert before == after
    removed = _containerd.plan_devmapper_config(plan.new_text, "f", "absent")
    assert _containerd.plan_devmapper_config(removed.new_text, "f", "absent").changed is False
    assert not removed.after
    assert removed.cri_after in (None, "overlayfs")


def _drop_empty(node):
    for key in list(node):
        if isinstance(node[key], dict):
            _drop_empty(node[key])
            if not node[key]:
                del node[key]


# ---------------------------------------------------------------- the TOML reader

VALID_TOML = [
    'a = 1\nb = -2\nc = +3\nd = 1_000\n',
    'h = 0xDEAD_beef\no = 0o17\nb = 0b1010\n',
    'f = 1.5\ng = -0.0\nh = 6.626e-34\ni = 1e10\nj = inf\nk = -inf\n',
    't = true\nf = false\n',
    's = "tab\\there \\"quoted\\" \\u00e9 \\U0001F600"\nl = \'C:\\\\path\'\n',
    'm = """\nline one\nline two\\\n     joined"""\n',
    "m = '''\nraw \\n text'''\n",
    'q = """two quotes at the end""""\n',
    'a = [1, 2, 3]\nb = [ "x", [1, 2], {c = 1} ]\nc = [\n  1, # one\n  2,\n]\n',
    'p = { x = 1, y.z = 2 }\ne = {}\n',
    '"quoted key" = 1\n\'literal key\' = 2\na."b.c".d = 3\n',
    '[a]\n[a.b]\n[a.b.c]\n[x.y]\n[x]\nz = 1\n',
    '[[fruit]]\nname = "apple"\n[fruit.physical]\ncolor = "red"\n[[fruit]]\nname = "banana"\n',
    '[a]\nb.c = 1\nb.d = 2\n[a.b.e]\nf = 3\n',
    '[a.b.c]\n[a]\nb.d = 1\n',
    'd1 = 1979-05-27T07:32:00Z\nd2 = 1979-05-27 07:32:00.999-07:00\nd3 = 1979-05-27\nt = 07:32:00\n',
    '# only a comment\n\n   # and another\n',
    '',
    '[ a . "b" ]\nk = 1 # comment with "quotes" and = signs\n',
    'a = "é # not a comment"\nb = \'\u2028 stays in the value\'\n',
    'a = 1\r\n[b]\r\nc = "x"\r\n',
]

INVALID_TOML = [
    ('a = 1\na = 2\n', "defined twice"),
    ('[a]\n[a]\n', "defined twice"),
    ('a.b = 1\n[a]\n', "defined twice"),
    ('[a]\nb.c = 1\n[a.b]\n', "defined twice"),
    ('a = [1]\n[[a]]\n', "not an array of tables"),
    ('x = {a = 1}\n[x.b]\n', "inline table"),
    ('x = {a = 1}\nx.b = 2\n', "cannot be extended"),
    ('a = 1\na.b = 2\n', "cannot be extended"),
    ('a = "unclosed\n', "newline in a one-line string"),
    ('a = \'unclosed\n', "string not closed"),
    ('a = """never closed\n', "multi-line string not closed"),
    ('a = "\\q"\n', "invalid escape"),
    ('a = "\\uD800"\n', "not a Unicode scalar value"),
    ('a = "\x01"\n', "control character"),
    ('# \x7f\n', "control character in a comment"),
    ('a = 1 2\n', "one statement per line"),
    ('a = 01\n', "not a TOML value"),
    ('a = 1__0\n', "not a TOML value"),
    ('a = 1.\n', "not a TOML value"),
    ('a = .5\n', "not a TOML value"),
    ('a = 0x\n', "not a TOML value"),
    ('a = yes\n', "not a TOML value"),
    ('a = bare string\n', "not a TOML value"),
    ('a =\n', "expected a value"),
    ('= 1\n', "expected a key"),
    ('a b = 1\n', "expected '='"),
    ('[a\nb = 1\n', "not closed"),
    ('[[a]\n', "not closed"),
    ('[]\n', "expected a key"),
    ('a = [1, 2\n', "expected ',' or ']'"),
    ('a = [1,,2]\n', "expected a value"),
    ('a = {b = 1,}\n', "trailing comma"),
    ('a = {b = 1\n}\n', "expected ',' or '}'"),
    ('a = {b = 1, b = 2}\n', "defined twice"),
    ('"""k""" = 1\n', "multi-line string"),
    ('\ufeffa = 1\n', "byte order mark"),
    ('[a] b = 1\n', "one statement per line"),
]


@pytest.mark.parametrize("text", VALID_TOML)
def test_valid_toml_parses(text):
    data = _toml.plain(_toml.parse(text).data)
    if tomllib is not None:
        assert data == _stringify_dates(tomllib.loads(text))


@pytest.mark.parametrize("text,reason", INVALID_TOML)
def test_invalid_toml_is_refused(text, reason):
    with pytest.raises(_toml.TomlError) as caught:
        _toml.parse(text)
    assert reason in str(caught.value)
    if tomllib is not None:
        with pytest.raises(tomllib.TOMLDecodeError):
            tomllib.loads(text)


def test_nan_is_a_float():
    import math
    assert math.isnan(_toml.parse("k = nan\n").data["k"])


def test_error_names_the_line():
    with pytest.raises(_toml.TomlError) as caught:
        _toml.parse('version = 2\n\n[plugins]\n  a = "x\n')
    assert caught.value.line == 4


def _stringify_dates(value):
    import datetime
    if isinstance(value, dict):
        return dict((k, _stringify_dates(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_stringify_dates(v) for v in value]
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return _toml.DateTimeText(_DATE_TEXT[value])
    return value


# the reader keeps dates as their text (a DateTimeText, never equal to a string); tomllib makes objects of them
_DATE_TEXT = {}


@pytest.fixture(autouse=True)
def _date_texts():
    import datetime
    _DATE_TEXT.clear()
    utc = datetime.timezone.utc
    minus7 = datetime.timezone(datetime.timedelta(hours=-7))
    _DATE_TEXT.update({
        datetime.datetime(1979, 5, 27, 7, 32, tzinfo=utc): "1979-05-27T07:32:00Z",
        datetime.datetime(1979, 5, 27, 7, 32, 0, 999000, tzinfo=minus7): "1979-05-27 07:32:00.999-07:00",
        datetime.date(1979, 5, 27): "1979-05-27",
        datetime.time(7, 32): "07:32:00",
    })


def test_strings_render_back_to_the_same_value():
    for value in ["plain", "with 'single'", 'with "double"', "back\\slash", "tab\there", "new\nline",
                  "\x01control", "é and \u2028"]:
        for literal in (False, True):
            rendered = _toml.render_string(value, literal)
            assert _toml.parse("k = %s\n" % rendered).data["k"] == value


def test_keys_render_back_to_the_same_path():
    path = ("plugins", "io.containerd.snapshotter.v1.devmapper", "with space", "quote\"d")
    for quote in ('"', "'"):
        header = _toml.render_header(path, quote)
        document = _toml.parse(header + "\n")
        assert document.headers[0].path == path


# ---------------------------------------------------------------- sizes and versions

@pytest.mark.parametrize("text,size", [
    ("8GB", 8 << 30), ("8G", 8 << 30), ("8GiB", 8 << 30), ("8gib", 8 << 30), ("8 GB", 8 << 30),
    ("8192MB", 8 << 30), ("10GB", 10 << 30), ("1.5G", 3 << 29), ("512", 512), ("512b", 512),
    ("1e3k", 1000 << 10), ("1T", 1 << 40),
])
def test_base_image_size_reads_like_go_units(text, size):
    assert _containerd.base_image_size_bytes(text) == size


@pytest.mark.parametrize("text", ["", "G", "8XB", "8GBB", "8Gb ", " 8G", "8  G", "-1G", "1.5.5G", "8 G B",
                                  "0", "511", "0.1k"])
def test_base_image_size_refusals(text):
    with pytest.raises(_containerd.ConfigError):
        _containerd.base_image_size_bytes(text)


@pytest.mark.parametrize("output,version", [
    ("containerd github.com/containerd/containerd v1.6.33 d2d58213f83a351ca8f528a95fbd145f5654e957\n", (1, 6, 33)),
    ("containerd containerd.io 1.7.22 7f7fdf5fed64eb6a7caf99b3e12efcf9d60e311c\n", (1, 7, 22)),
    ("nonsense\n", None),
    ("", None),
])
def test_containerd_version_forms(output, version):
    assert _containerd.parse_containerd_version(output) == version


def test_config_version_for_new_files():
    assert _containerd.config_version_for((1, 7, 24)) == 2
    assert _containerd.config_version_for((2, 1, 9)) == 3


# ---------------------------------------------------------------- file handling

def _case(**overrides):
    case = {
        "id": "inline",
        "input": {"path": "{tmpdir}/config.toml", "pool_name": "docker-thinpool", "base_image_size": "8GB"},
        "run_command": [{"fixture": "containerd_devmapper/dmsetup_table_pool"}],
        "expect": {"changed": True},
    }
    case.update(overrides)
    return case


def test_existing_file_keeps_mode_and_is_replaced_atomically(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text(recorded("config_debian_packaged"))
    os.chmod(str(path), 0o600)
    inode = os.stat(str(path)).st_ino
    run_case(containerd_devmapper, _case(), tmp_path, monkeypatch)
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert os.stat(str(path)).st_ino != inode
    assert not [name for name in os.listdir(str(tmp_path)) if name.endswith(".tmp")]


def test_new_file_is_0644_whatever_the_umask(tmp_path, monkeypatch):
    case = _case(run_command=[{"fixture": "containerd_devmapper/containerd_version_1_7"},
                              {"fixture": "containerd_devmapper/dmsetup_table_pool"}])
    old = os.umask(0o077)
    try:
        run_case(containerd_devmapper, case, tmp_path, monkeypatch)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(str(tmp_path / "config.toml")).st_mode) == 0o644


def test_backup_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    original = recorded("config_default_1_7")
    path.write_text(original)
    case = _case()
    case["input"]["backup"] = True
    result = run_case(containerd_devmapper, case, tmp_path, monkeypatch)
    with open(result["backup_file"]) as handle:
        assert handle.read() == original
    assert os.path.dirname(result["backup_file"]) == str(tmp_path)


def test_no_backup_in_check_mode(tmp_path, monkeypatch):
    (tmp_path / "config.toml").write_text(recorded("config_default_1_7"))
    case = _case(check_mode=True)
    case["input"]["backup"] = True
    result = run_case(containerd_devmapper, case, tmp_path, monkeypatch)
    assert result["backup_file"] is None
    assert set(os.listdir(str(tmp_path))) <= {"config.toml", "container-storage-devicemapper.lock"}


def test_diff_shows_before_and_after(tmp_path, monkeypatch):
    original = recorded("config_debian_packaged")
    (tmp_path / "config.toml").write_text(original)
    result = run_case(containerd_devmapper, _case(diff=True), tmp_path, monkeypatch)
    assert result["diff"]["before"] == original
    assert result["diff"]["after"] == (tmp_path / "config.toml").read_text()


def test_symlinked_file_is_written_through_the_link(tmp_path, monkeypatch):
    real = tmp_path / "real.toml"
    real.write_text("version = 2\n")
    os.symlink(str(real), str(tmp_path / "config.toml"))
    run_case(containerd_devmapper, _case(), tmp_path, monkeypatch)
    assert os.path.islink(str(tmp_path / "config.toml"))
    assert "docker-thinpool" in real.read_text()


def test_crlf_file_keeps_its_line_endings(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_bytes(b'version = 2\r\n[plugins."io.containerd.snapshotter.v1.devmapper"]\r\n'
                     b'  pool_name = "x"\r\n')
    run_case(containerd_devmapper, _case(), tmp_path, monkeypatch)
    assert path.read_bytes() == (b'version = 2\r\n[plugins."io.containerd.snapshotter.v1.devmapper"]\r\n'
                                 b'  pool_name = "docker-thinpool"\r\n  base_image_size = "8GB"\r\n')


def test_non_utf8_file_is_refused_untouched(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    raw = b'version = 2\n# caf\xe9\n'
    path.write_bytes(raw)
    case = _case(run_command=[], expect={"failed": True, "msg_contains": ["not UTF-8"]})
    run_case(containerd_devmapper, case, tmp_path, monkeypatch)
    assert path.read_bytes() == raw


def test_the_host_lock_is_held_while_the_file_is_read(tmp_path, monkeypatch):
    from ansible_collections.container_storage.devicemapper.plugins.module_utils import _lock
    seen = []
    real = _containerd.DevmapperConfigManager.read_file

    def read_file(self):
        holder = _lock.HostLock("probe", timeout=0)
        with pytest.raises(_lock.LockTimeout):
            holder.acquire()
        seen.append(True)
        return real(self)

    monkeypatch.setattr(_containerd.DevmapperConfigManager, "read_file", read_file)
    (tmp_path / "config.toml").write_text("version = 2\n")
    run_case(containerd_devmapper, _case(), tmp_path, monkeypatch)
    assert seen == [True]


def test_a_failed_write_reports_the_file_unchanged(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text("version = 2\n")

    def failing_write(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_containerd._files, "write_atomically", failing_write)
    case = _case(expect={"failed": True, "msg_contains": ["No space left on device", "the file is as it was"]})
    result = run_case(containerd_devmapper, case, tmp_path, monkeypatch)
    assert result["changed"] is False
    assert path.read_text() == "version = 2\n"


def test_an_edit_that_would_change_another_value_is_not_written(tmp_path, monkeypatch):
    """The re-parse check: a (simulated) editor bug that touches another value is caught before writing."""
    path = tmp_path / "config.toml"
    original = recorded("config_default_1_7")
    path.write_text(original)
    real_text = _toml.LineEditor.text

    def corrupting_text(self):
        return real_text(self).replace('max_concurrent_downloads = 3', 'max_concurrent_downloads = 4')

    monkeypatch.setattr(_toml.LineEditor, "text", corrupting_text)
    case = _case(run_command=[],  # refused while planning, before the pool is read
                 expect={"failed": True, "msg_contains": ["would change settings other than the ones asked for"]})
    run_case(containerd_devmapper, case, tmp_path, monkeypatch)
    assert path.read_text() == original


# ---------------------------------------------------------------- absent undoes what present wrote

FULL_SETTINGS = {"pool_name": "docker-thinpool", "root_path": "/var/lib/containerd/devmapper", "base_image_size": "8GB",
                 "discard_blocks": True, "fs_type": "ext4", "async_remove": False, "fs_options": "-E nodiscard"}
STARTING_FILES = {
    "empty": "",
    "version_only": "version = 3\n",
    "comment_only": "# containerd config\n",
    "plugins_header": 'version = 2\n\n[plugins]\n',
    "dotted_plugins": 'version = 2\nplugins."io.containerd.internal.v1.opt".path = "/opt/containerd"\n',
    "another_plugin": "version = 3\n\n[plugins.'io.containerd.internal.v1.opt']\n  path = '/opt/containerd'\n",
    "crlf": 'version = 2\r\n[plugins."io.containerd.internal.v1.opt"]\r\n  path = "/opt/containerd"\r\n',
    "floats": 'version = 2\nnot_a_number = nan\nnegative = -nan\nzero = -0.0\nlist = [nan, 1.5]\n'
              'inline = {f = +nan}\n',
    "no_final_newline": 'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\n  snapshotter = "overlayfs"',
}


@pytest.mark.parametrize("start", sorted(STARTING_FILES))
@pytest.mark.parametrize("new_file_version", [2, 3, 4])
@pytest.mark.parametrize("settings", [{"pool_name": "docker-thinpool"}, FULL_SETTINGS], ids=["pool_only", "all"])
@pytest.mark.parametrize("cri", [None, True, False])
def test_absent_works_on_every_file_present_writes(start, new_file_version, settings, cri):
    """present, then absent on its output: the devmapper settings go, a CRI default of devmapper
    is overlayfs again, every other value is the starting file's, and a second absent changes nothing."""
    text = STARTING_FILES[start]
    written = _containerd.plan_devmapper_config(text, "f", "present", settings, cri, new_file_version)
    assert _toml.parse(written.new_text).data["plugins"][_containerd.DEVMAPPER_PLUGIN]["pool_name"] == "docker-thinpool"
    removed = _containerd.plan_devmapper_config(written.new_text, "f", "absent")
    assert removed.after == {}
    assert removed.cri_after in (None, _containerd.CONTAINERD_DEFAULT_SNAPSHOTTER)
    assert _containerd.plan_devmapper_config(removed.new_text, "f", "absent").changed is False
    before = _toml.plain(_toml.parse(text).data)
    after = _toml.plain(_toml.parse(removed.new_text).data)
    before.setdefault("version", written.version)
    cri_table, cri_key = _containerd.CRI_SNAPSHOTTER[written.version]
    if removed.cri_after is not None and cri_key not in (_toml.plain(_toml.parse(text).lookup(cri_table)) or {}):
        # absent left the CRI default it set to overlayfs where present had put devmapper
        parents = [after]
        for part in cri_table[:-1]:
            parents.append(parents[-1][part])
        assert parents[-1].pop(cri_table[-1]) == {cri_key: _containerd.CONTAINERD_DEFAULT_SNAPSHOTTER}
        for depth in range(len(cri_table) - 1, 0, -1):
            if not parents[depth] and _toml.parse(text).lookup(cri_table[:depth]) is None:
                del parents[depth - 1][cri_table[depth - 1]]
    assert _toml.same_value(after, before), (text, removed.new_text)


@pytest.mark.parametrize("containerd_version", ["containerd_version_1_7", "containerd_version_2_1"])
def test_the_docs_examples_configure_then_stop_using_the_pool(tmp_path, monkeypatch, containerd_version):
    """EXAMPLES: "Use the docker/thinpool LV ..." on a host without a config, then "Stop using the pool"."""
    import yaml
    examples = yaml.safe_load(containerd_devmapper.EXAMPLES)
    use = next(task for task in examples if task["name"].startswith("Use the docker/thinpool LV"))
    stop = next(task for task in examples if task["name"].startswith("Stop using the pool"))
    module_args = "container_storage.devicemapper.containerd_devmapper"
    path = tmp_path / "config.toml"
    path.write_text("")
    run_case(containerd_devmapper, {
        "id": "use", "input": dict(use[module_args], path=str(path)),
        "run_command": [{"fixture": "containerd_devmapper/" + containerd_version},
                        {"fixture": "containerd_devmapper/dmsetup_table_pool"}],
        "expect": {"changed": True}}, tmp_path, monkeypatch)
    assert "docker-thinpool" in path.read_text()
    result = run_case(containerd_devmapper, {
        "id": "stop", "input": dict(stop[module_args], path=str(path)), "run_command": [],
        "expect": {"changed": True, "result": {"settings": {}, "restart_needed": True}}}, tmp_path, monkeypatch)
    assert path.read_text() == "version = %d\n" % (2 if containerd_version.endswith("1_7") else 3)
    with open(result["backup_file"]) as handle:
        assert "docker-thinpool" in handle.read()


# ---------------------------------------------------------------- floats as TOML means them

@pytest.mark.parametrize("line", ["x = nan", "x = -nan", "x = [nan, inf]", "x = {f = +nan}", "x = -0.0"])
@pytest.mark.parametrize("state", ["present", "absent"])
def test_a_nan_or_a_negative_zero_elsewhere_does_not_block_an_edit(line, state):
    text = 'version = 2\n%s\n[plugins."io.containerd.snapshotter.v1.devmapper"]\n  pool_name = "old"\n' % line
    plan = _containerd.plan_devmapper_config(text, "f", state, {"pool_name": "docker-thinpool"}, None)
    assert plan.changed
    assert plan.new_text.startswith("version = 2\n%s\n" % line)


@pytest.mark.parametrize("first,second,same", [
    (float("nan"), float("nan"), True),
    (float("nan"), -float("nan"), False),
    ([float("nan")], [float("nan")], True),
    ({"a": {"b": float("nan")}}, {"a": {"b": float("nan")}}, True),
    (0.0, -0.0, False),
    (1.0, 1, False),
    (1, True, False),
    ({"a": 1}, {"a": True}, False),
    ("1979-05-27", _toml.DateTimeText("1979-05-27"), False),
    ({"a": 1}, {"a": 1, "b": 2}, False),
    ([1, 2], [1, 2], True),
    ({}, [], False),
])
def test_same_value_is_tomls_equality(first, second, same):
    assert _toml.same_value(first, second) is same
    assert _toml.same_value(second, first) is same


def test_the_reparse_check_still_catches_a_changed_float(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    original = "version = 2\nratio = nan\n"
    path.write_text(original)
    real_text = _toml.LineEditor.text
    monkeypatch.setattr(_toml.LineEditor, "text", lambda self: real_text(self).replace("nan", "-nan"))
    case = _case(run_command=[],
                 expect={"failed": True, "msg_contains": ["would change settings other than the ones asked for"]})
    run_case(containerd_devmapper, case, tmp_path, monkeypatch)
    assert path.read_text() == original
