"""dm_name filter: LVM's device-mapper name of VG/LV, from _dm."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.container_storage.devicemapper.plugins.filter.dm_name import FilterModule, dm_name


@pytest.mark.parametrize("vg, lv, expected", [
    ("docker", "thinpool", "docker-thinpool"),
    ("docker-vg", "thin-pool", "docker--vg-thin--pool"),
    ("a--b", "-", "a----b---"),
    ("vg.1", "lv_+x", "vg.1-lv_+x"),
])
def test_dashes_in_each_name_are_doubled(vg, lv, expected):
    assert dm_name(vg, lv) == expected


@pytest.mark.parametrize("vg, lv", [("", "lv"), ("vg", ""), (None, "lv"), ("vg", 3), (["vg"], "lv")])
def test_a_missing_name_is_an_error_not_a_device(vg, lv):
    with pytest.raises(AnsibleFilterError, match="dm_name: "):
        dm_name(vg, lv)


def test_registered_under_its_name():
    assert FilterModule().filters() == {"dm_name": dm_name}
