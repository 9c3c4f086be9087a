"""Device-mapper names in `dmsetup status` output may hold ':' (issue 10 item 9).

Docker's loop-lvm pool is named "docker-<major>:<minor>-<inode>-pool" (the name in
fixtures/docker_storage_info/docker_info_devicemapper_loop.yml, recorded in the lab). No
`dmsetup status` of such a pool is recorded, so the line here is the recorded thin-pool status of
fixtures/thinpool/s2_dmstatus.yml with its device name replaced by that recorded pool name: the
parser must keep the whole name, not cut it at the first ':' (it gave "docker-254" before).
"""

import os

import yaml

from ansible_collections.container_storage.devicemapper.plugins.module_utils._dm import (
    parse_pool_statuses, split_status_line,
)

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "fixtures")


def recorded(name):
    with open(os.path.join(FIXTURES, name + ".yml")) as handle:
        return yaml.safe_load(handle)


def loop_lvm_status_line():
    line = recorded("thinpool/s2_dmstatus")["out"].splitlines()[0]
    name, rest = line.split(": ", 1)
    assert name == "docker-thinpool"
    assert '"docker-254:0-15406-pool"' in recorded("docker_storage_info/docker_info_devicemapper_loop")["out"]
    return "docker-254:0-15406-pool: " + rest


def test_a_name_with_colons_is_kept_whole():
    name, rest = split_status_line(loop_lvm_status_line())
    assert name == "docker-254:0-15406-pool"
    assert rest.split()[2] == "thin-pool"


def test_every_pool_is_read_under_its_full_name():
    out = loop_lvm_status_line() + "\n" + recorded("thinpool/s2_dmstatus")["out"]
    statuses = parse_pool_statuses(out)
    assert sorted(statuses) == ["docker-254:0-15406-pool", "docker-thinpool"]
    assert statuses["docker-254:0-15406-pool"]["state"] == "ok"


def test_no_devices_is_no_pool():
    assert parse_pool_statuses("No devices found\n") == {}
