"""lvm_size and lvm_name tests: the modules' own checks (_sizes.parse_size, _validate.lvm_name) as Jinja tests."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.container_storage.devicemapper.plugins.module_utils import _thinpool
from ansible_collections.container_storage.devicemapper.plugins.test import lvm_name as lvm_name_plugin
from ansible_collections.container_storage.devicemapper.plugins.test import lvm_size as lvm_size_plugin
from ansible_collections.container_storage.devicemapper.plugins.test.lvm_name import lvm_name
from ansible_collections.container_storage.devicemapper.plugins.test.lvm_size import lvm_size

SIZES = ["100G", "100g", "512k", "1.5t", "2048", 2048, 1.5, "10 G", "95%VG", "100%FREE", "50%PVS", "0.5%vg", "1s"]
NOT_SIZES = ["", "0", "0G", "G", "-1G", "10GB", "1x", "999%FREE", "0%VG", "100%LV", "%FREE", "50%", "1,5G",
             None, True, False, ["1G"], {"size": "1G"}]


@pytest.mark.parametrize("value", SIZES)
def test_lvm_sizes(value):
    assert lvm_size(value) is True


@pytest.mark.parametrize("value", NOT_SIZES)
def test_not_lvm_sizes(value):
    assert lvm_size(value) is False


def test_a_percentage_only_when_allowed():
    assert lvm_size("95%VG", allow_percent=False) is False
    assert lvm_size("512K", allow_percent=False) is True


@pytest.mark.parametrize("value", [v for v in SIZES + NOT_SIZES if isinstance(v, str)])
def test_lvm_size_is_what_thinpool_accepts_for_size(value):
    try:
        _thinpool.parse_size(value, default_unit="m", what="size")
        accepted = True
    except _thinpool.SizeError:
        accepted = False
    assert lvm_size(value) is accepted


NAMES = ["docker", "thinpool", "docker-vg", "a+b_c.d-e", "x" * 127, "lv-snapshot", ".hidden"]
NOT_NAMES = ["", " ", "-vg", ".", "..", "a/b", "a b", "a'b", "é", "x" * 128, None, 5, ["vg"]]
NOT_LV_NAMES = ["snapshot1", "pvmove0", "pool_tdata", "my_tmeta_lv", "a_cpool"]


@pytest.mark.parametrize("value", NAMES)
def test_lvm_names(value):
    assert lvm_name(value) is True
    assert lvm_name(value, "vg") is True


@pytest.mark.parametrize("value", NOT_NAMES)
def test_not_lvm_names(value):
    assert lvm_name(value) is False
    assert lvm_name(value, "vg") is False
    assert lvm_name(value, "profile") is False


@pytest.mark.parametrize("value", NOT_LV_NAMES)
def test_names_lvm_keeps_for_itself_are_no_lv_names(value):
    assert lvm_name(value) is False
    assert lvm_name(value, "vg") is True


def test_an_unknown_kind_is_an_error():
    with pytest.raises(AnsibleFilterError, match="kind must be one of lv, vg, profile"):
        lvm_name("docker", "pv")


def test_registered_under_their_names():
    assert lvm_size_plugin.TestModule().tests() == {"lvm_size": lvm_size}
    assert lvm_name_plugin.TestModule().tests() == {"lvm_name": lvm_name}
