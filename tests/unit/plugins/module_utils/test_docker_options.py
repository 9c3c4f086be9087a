"""Docker 24's dm.* rules (daemon/graphdriver/devmapper, go-units, strconv), accept and reject."""

import pytest

from ansible_collections.container_storage.devicemapper.plugins.module_utils._daemon_json import (
    DaemonJsonError,
    merge_storage,
    parse_daemon_json,
    render_daemon_json,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._docker_options import (
    has_devicemapper,
    parse_dockerd_version,
    render_storage_opts,
    validate_config_storage,
    validate_dm_options,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._dockerd_flags import (
    find_conflicts,
    find_storage_flags,
    split_systemctl_cat,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._goparse import (
    go_parse_bool,
    ram_in_bytes,
)

THINPOOL = "dm.thinpooldev=/dev/mapper/docker-thinpool"
DIRECT = "dm.directlvm_device=/dev/xvdf"


def errors_for(*entries):
    return validate_dm_options(list(entries))


# ------------------------------------------------------------ sizes (go-units RAMInBytes)

@pytest.mark.parametrize("text,expected", [
    ("10", 10), ("10b", 10), ("10B", 10), ("1k", 1024), ("1K", 1024), ("1kb", 1024), ("1KiB", 1024),
    ("1kib", 1024), ("2m", 2 << 20), ("200M", 200 << 20), ("200MB", 200 << 20), ("10g", 10 << 30),
    ("10G", 10 << 30), ("10GiB", 10 << 30), ("1t", 1 << 40), ("1TB", 1 << 40), ("1p", 1 << 50),
    ("1.5G", 3 << 29), ("10 G", 10 << 30), ("0", 0), (".5k", 512), ("5.", 5), ("1e3", 1000),
    ("0.3", 0), ("10 ", 10),
])
def test_size_accepted(text, expected):
    assert ram_in_bytes(text) == expected


@pytest.mark.parametrize("text", [
    "", "G", "abc", "-1", "-10G", "10x", "10GB5", "10gigs", "10Gi", "10GBB", "10bb", "10kbi",
    "10  G", "1.2.3G", "10E", "1e999", ".", " ",
])
def test_size_rejected(text):
    assert ram_in_bytes(text) is None


@pytest.mark.parametrize("key", ["dm.basesize", "dm.loopdatasize", "dm.loopmetadatasize", "dm.blocksize"])
def test_size_options(key):
    assert errors_for("%s=64K" % key) == []
    assert errors_for("%s=10GiB" % key) == []
    problems = errors_for("%s=ten gigabytes" % key)
    assert len(problems) == 1 and key in problems[0] and "not a size" in problems[0]
    assert errors_for("%s=-5G" % key) and key in errors_for("%s=-5G" % key)[0]


# ------------------------------------------------------------ booleans (Go ParseBool)

@pytest.mark.parametrize("text", ["1", "t", "T", "TRUE", "true", "True"])
def test_go_true(text):
    assert go_parse_bool(text) is True


@pytest.mark.parametrize("text", ["0", "f", "F", "FALSE", "false", "False"])
def test_go_false(text):
    assert go_parse_bool(text) is False


@pytest.mark.parametrize("text", ["yes", "no", "on", "off", "y", "tRUE", "", "2", " true"])
def test_go_bool_rejected(text):
    assert go_parse_bool(text) is None


@pytest.mark.parametrize("key", ["dm.blkdiscard", "dm.override_udev_sync_check", "dm.use_deferred_removal",
                                 "dm.use_deferred_deletion", "dm.directlvm_device_force"])
def test_bool_options(key):
    extra = [DIRECT] if key == "dm.directlvm_device_force" else []
    for value in ("true", "false", "1", "F"):
        assert validate_dm_options(extra + ["%s=%s" % (key, value)]) == [], value
    problems = validate_dm_options(extra + ["%s=yes" % key])
    assert problems == ["%s=yes is not a boolean (use true or false)" % key]


# ------------------------------------------------------------ keys

def test_keys_are_trimmed_and_lower_cased():
    assert errors_for(" DM.BaseSize = 20G ", "Dm.Fs=xfs") == []


def test_unknown_dm_key_rejected():
    problems = errors_for("dm.thinpool=/dev/mapper/x")
    assert problems == ['dm.thinpool is not a devicemapper option (Docker 24 fails with '
                        '"devmapper: Unknown option dm.thinpool")']


def test_non_dm_key_rejected_for_devicemapper():
    problems = errors_for("overlay2.size=10G")
    assert len(problems) == 1 and problems[0].startswith("overlay2.size is not a devicemapper option")


def test_entry_without_equals_rejected():
    assert errors_for("dm.basesize") == ["storage option 'dm.basesize' is not key=value"]


@pytest.mark.parametrize("entry", ["dm.mkfsarg=-O ^has_journal", "dm.mountopt=nodiscard", "dm.datadev=/dev/sdb",
                                   "dm.metadatadev=/dev/sdc", THINPOOL, "dm.thinpooldev=docker-thinpool",
                                   DIRECT])
def test_free_text_options_accepted(entry):
    assert errors_for(entry) == []


# ------------------------------------------------------------ dm.fs

@pytest.mark.parametrize("value", ["ext4", "xfs"])
def test_fs_accepted(value):
    assert errors_for("dm.fs=" + value) == []


@pytest.mark.parametrize("value", ["btrfs", "ext3", "XFS", "Ext4", ""])
def test_fs_rejected(value):
    assert errors_for("dm.fs=" + value) == ["dm.fs=%s is not supported: use ext4 or xfs" % value]


# ------------------------------------------------------------ dm.min_free_space

@pytest.mark.parametrize("value", ["0%", "10%", "99%"])
def test_min_free_space_accepted(value):
    assert errors_for("dm.min_free_space=" + value) == []


def test_min_free_space_needs_percent():
    assert errors_for("dm.min_free_space=10") == ["dm.min_free_space=10 needs a % suffix, e.g. 10%"]


@pytest.mark.parametrize("value", ["100%", "150%", "-1%", "ten%", "%", "1.5%"])
def test_min_free_space_out_of_range(value):
    assert errors_for("dm.min_free_space=" + value) == [
        "dm.min_free_space=%s must be a whole percentage from 0%% to 99%%" % value]


# ------------------------------------------------------------ dm.xfs_nospace_max_retries, dm.libdm_log_level

@pytest.mark.parametrize("value", ["0", "10", "18446744073709551615"])
def test_xfs_retries_accepted(value):
    assert errors_for("dm.xfs_nospace_max_retries=" + value) == []


@pytest.mark.parametrize("value", ["-1", "ten", "18446744073709551616", "1.0", ""])
def test_xfs_retries_rejected(value):
    assert errors_for("dm.xfs_nospace_max_retries=" + value) == [
        "dm.xfs_nospace_max_retries=%s is not an unsigned integer" % value]


@pytest.mark.parametrize("value", ["2", "5", "7", "+7"])
def test_libdm_log_level_accepted(value):
    assert errors_for("dm.libdm_log_level=" + value) == []


@pytest.mark.parametrize("value", ["1", "8", "0", "-3", "debug", ""])
def test_libdm_log_level_rejected(value):
    assert errors_for("dm.libdm_log_level=" + value) == [
        "dm.libdm_log_level=%s must be an integer from 2 to 7" % value]


# ------------------------------------------------------------ direct-lvm and thin pool

def test_direct_lvm_full_set_accepted():
    assert errors_for(DIRECT, "dm.thinp_percent=95", "dm.thinp_metapercent=1",
                      "dm.thinp_autoextend_threshold=80", "dm.thinp_autoextend_percent=20",
                      "dm.directlvm_device_force=false") == []


def test_percent_suffix_accepted():
    assert errors_for(DIRECT, "dm.thinp_percent=95%", "dm.thinp_metapercent=5%",
                      "dm.thinp_autoextend_threshold=100%", "dm.thinp_autoextend_percent=100") == []


@pytest.mark.parametrize("key", ["dm.thinp_percent", "dm.thinp_metapercent", "dm.thinp_autoextend_threshold",
                                 "dm.thinp_autoextend_percent"])
def test_thinp_option_needs_directlvm_device(key):
    problems = errors_for("%s=%s" % (key, "1"))
    assert "%s needs dm.directlvm_device (the device Docker builds its thin pool on)" % key in problems


@pytest.mark.parametrize("other", [DIRECT, "dm.thinp_autoextend_percent=20"])
def test_thinpooldev_not_combined_with_direct_lvm(other):
    problems = errors_for(THINPOOL, other)
    assert any(p.startswith("dm.thinpooldev cannot be combined with") and other.split("=")[0] in p
               for p in problems), problems


def test_thinpooldev_with_ordinary_options_accepted():
    assert errors_for(THINPOOL, "dm.use_deferred_removal=true", "dm.use_deferred_deletion=true",
                      "dm.basesize=20G", "dm.blkdiscard=false", "dm.min_free_space=10%") == []


@pytest.mark.parametrize("given,missing", [("dm.thinp_percent=95", "dm.thinp_metapercent"),
                                           ("dm.thinp_metapercent=1", "dm.thinp_percent")])
def test_data_and_meta_percent_set_together(given, missing):
    problems = errors_for(DIRECT, given)
    assert problems == ["dm.thinp_percent and dm.thinp_metapercent must be set together (%s is missing)" % missing]


@pytest.mark.parametrize("key", ["dm.thinp_percent", "dm.thinp_metapercent"])
@pytest.mark.parametrize("value", ["100", "100%", "150"])
def test_data_and_meta_percent_below_100(key, value):
    problems = errors_for(DIRECT, "dm.thinp_percent=50", "dm.thinp_metapercent=1", "%s=%s" % (key, value))
    assert "%s=%s must be below 100" % (key, value) in problems


def test_data_and_meta_percent_99_accepted():
    assert errors_for(DIRECT, "dm.thinp_percent=99", "dm.thinp_metapercent=1") == []


def test_data_and_meta_percent_sum_over_100():
    assert errors_for(DIRECT, "dm.thinp_percent=95", "dm.thinp_metapercent=6") == [
        "dm.thinp_percent (95) and dm.thinp_metapercent (6) add up to more than 100"]


@pytest.mark.parametrize("key", ["dm.thinp_autoextend_threshold", "dm.thinp_autoextend_percent"])
def test_autoextend_over_100_rejected(key):
    assert errors_for(DIRECT, "%s=100" % key) == []
    assert errors_for(DIRECT, "%s=101" % key) == ["%s=101 must not be over 100" % key]


@pytest.mark.parametrize("key", ["dm.thinp_percent", "dm.thinp_autoextend_threshold"])
@pytest.mark.parametrize("value", ["-5", "ninety", "9.5", "95%%"])
def test_percent_not_a_number(key, value):
    problems = errors_for(DIRECT, "%s=%s" % (key, value))
    assert "%s=%s is not a whole percentage" % (key, value) in problems


# ------------------------------------------------------------ deferred removal / deletion

@pytest.mark.parametrize("entries", [
    ["dm.use_deferred_deletion=true", "dm.use_deferred_removal=true"],
    ["dm.use_deferred_deletion=false", "dm.use_deferred_removal=false"],
    ["dm.use_deferred_deletion=true"],
    ["dm.use_deferred_removal=false"],
])
def test_deferred_accepted(entries):
    assert validate_dm_options(entries) == []


@pytest.mark.parametrize("removal", ["false", "0", "F"])
def test_deferred_deletion_without_removal_rejected(removal):
    assert errors_for("dm.use_deferred_deletion=true", "dm.use_deferred_removal=" + removal) == [
        "dm.use_deferred_deletion=true needs dm.use_deferred_removal=true "
        "(Docker refuses deferred deletion without deferred removal)"]


def test_last_value_wins_like_dockerd():
    assert errors_for("dm.use_deferred_removal=false", "dm.use_deferred_removal=true",
                      "dm.use_deferred_deletion=true") == []


def test_all_errors_reported_together():
    problems = errors_for("dm.fs=zfs", "dm.basesize=big", "dm.nope=1")
    assert len(problems) == 3


# ------------------------------------------------------------ rendering and documents

def test_render_in_order_with_go_booleans():
    entries, errors = render_storage_opts({"dm.use_deferred_removal": True, "dm.blkdiscard": False,
                                           "dm.basesize": "20G", "dm.libdm_log_level": 7})
    assert errors == []
    assert entries == ["dm.use_deferred_removal=true", "dm.blkdiscard=false", "dm.basesize=20G",
                       "dm.libdm_log_level=7"]


def test_config_with_other_driver_is_not_checked_as_devicemapper():
    assert validate_config_storage({"storage-driver": "overlay2", "storage-opts": ["overlay2.size=1G"]}) == []
    assert validate_config_storage({"storage-driver": "zfs", "storage-opts": ["dm.fs=xfs"]})


def test_config_storage_opts_must_be_a_list_of_strings():
    assert validate_config_storage({"storage-opts": "dm.fs=xfs"})
    assert validate_config_storage({"storage-opts": [1]})
    assert validate_config_storage({"storage-driver": 5})


def test_merge_keeps_order_and_does_not_touch_the_input():
    document = {"a": 1, "storage-driver": "overlay2", "b": [1]}
    merged = merge_storage(document, "present", "devicemapper", ["dm.fs=xfs"])
    assert list(merged) == ["a", "storage-driver", "b", "storage-opts"]
    assert document == {"a": 1, "storage-driver": "overlay2", "b": [1]}
    assert merge_storage(merged, "absent") == {"a": 1, "b": [1]}
    assert merge_storage(merged, "present", None, None) == merged


class LazyDict(dict):
    """Stands in for ansible-core's lazy containers, whose deep copy warns (2.21) about its plugin loaders."""

    def __deepcopy__(self, memo):
        raise AssertionError("deep copy of a lazy container")


def test_merge_copies_the_document_without_deep_copying_it():
    document = LazyDict({"a": LazyDict({"b": [LazyDict({"c": 1})]}), "storage-driver": "overlay2"})
    merged = merge_storage(document, "present", "devicemapper", ["dm.fs=xfs"])
    assert merged == {"a": {"b": [{"c": 1}]}, "storage-driver": "devicemapper", "storage-opts": ["dm.fs=xfs"]}
    # exactly dict, not the LazyDict subclass (isinstance would accept both)
    assert merged["a"].__class__ is dict and merged["a"]["b"][0].__class__ is dict
    merged["a"]["b"][0]["c"] = 2
    assert document["a"]["b"][0]["c"] == 1


def test_parse_error_has_line_and_column():
    with pytest.raises(DaemonJsonError) as caught:
        parse_daemon_json(b'{\n  "debug": true\n  "x": 1\n}', "/etc/docker/daemon.json")
    assert "line 3, column 3" in str(caught.value)


def test_render_keeps_unicode_and_indent():
    assert render_daemon_json({"label": "caf\u00e9"}, 4) == '{\n    "label": "caf\u00e9"\n}\n'


# ------------------------------------------------------------ dockerd flags and versions

@pytest.mark.parametrize("words,found", [
    (["dockerd", "--storage-driver", "overlay2"], ["--storage-driver overlay2"]),
    (["dockerd", "--storage-driver=overlay2"], ["--storage-driver overlay2"]),
    (["dockerd", "-s", "overlay2"], ["-s overlay2"]),
    (["dockerd", "-soverlay2"], ["-s overlay2"]),
    (["dockerd", "-s=overlay2"], ["-s overlay2"]),
    (["dockerd", "-Ds", "vfs"], ["-s vfs"]),
    (["dockerd", "--storage-opt", "dm.fs=xfs"], ["--storage-opt dm.fs=xfs"]),
    (["dockerd", "--storage-opt=dm.fs=xfs"], ["--storage-opt dm.fs=xfs"]),
    (["dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock"], []),
    (["dockerd", "-Hunix:///var/run/docker.sock"], []),
    (["dockerd", "--storage-driver-x", "y", "--selinux-enabled"], []),
])
def test_storage_flags(words, found):
    assert find_storage_flags(words) == found


def test_conflicts_from_systemctl_cat_text(tmp_path):
    output = ("# /lib/systemd/system/docker.service\n[Service]\nExecStart=/usr/bin/dockerd -s overlay2\n\n"
              "# /etc/systemd/system/docker.service.d/override.conf\n[Service]\nExecStart=\n"
              "ExecStart=/usr/bin/dockerd -H fd://\n")
    chunks = split_systemctl_cat(output)
    assert [chunk[0] for chunk in chunks] == [
        "/lib/systemd/system/docker.service",
        "/etc/systemd/system/docker.service.d/override.conf",
    ]
    assert find_conflicts(chunks, []) == []
    assert find_conflicts(chunks[:1], []) == ["/lib/systemd/system/docker.service: ExecStart has -s overlay2"]


def test_env_file_comments_ignored(tmp_path):
    env = tmp_path / "docker"
    env.write_text('#DOCKER_OPTS="-s overlay2"\nexport DOCKER_OPTS="--storage-opt dm.fs=xfs"\n')
    assert find_conflicts([], [str(env), str(tmp_path / "missing")]) == [
        "%s: --storage-opt dm.fs=xfs" % env]


# Version strings in the format `docker --version` prints (as quoted in public READMEs).
@pytest.mark.parametrize("output,version,supported", [
    ("Docker version 20.10.24+dfsg1, build 5d6db84\n", (20, 10), True),
    ("Docker version 24.0.9, build 2936816\n", (24, 0), True),
    ("Docker version 25.0.3, build 4debf41\n", (25, 0), False),
    ("Docker version 1.13.1, build 092cba3\n", (1, 13), True),
])
def test_dockerd_versions(output, version, supported):
    assert parse_dockerd_version(output) == version
    assert has_devicemapper(version) is supported


def test_unreadable_version():
    assert parse_dockerd_version("dockerd: command not found") is None
