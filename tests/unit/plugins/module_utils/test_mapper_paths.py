"""The one /dev/mapper/ helper (_dm.strip_mapper_dir) and the places that take a pool in any form."""

from ansible_collections.container_storage.devicemapper.plugins.module_utils._dm import dm_path, strip_mapper_dir
from ansible_collections.container_storage.devicemapper.plugins.module_utils._docker_storage import (
    storage_from_config,
)
from ansible_collections.container_storage.devicemapper.plugins.module_utils._pool_health import engines_of


def test_a_mapper_path_gives_its_dm_name_and_anything_else_stays_as_it_is():
    assert strip_mapper_dir(dm_path("my-vg", "my-pool")) == "my--vg-my--pool"
    assert strip_mapper_dir("docker-thinpool") == "docker-thinpool"
    assert strip_mapper_dir("/dev/docker/thinpool") == "/dev/docker/thinpool"
    assert strip_mapper_dir("/dev/mapper") == "/dev/mapper"
    assert strip_mapper_dir(None) is None


def test_an_engine_uses_a_pool_named_by_dm_name_mapper_path_or_lv_path():
    for pool in ("my--vg-my--pool", "/dev/mapper/my--vg-my--pool", "/dev/my-vg/my-pool",
                 "/dev/mapper/my--vg-my--pool-tpool"):
        assert engines_of("my-vg", "my-pool", {"docker": pool, "containerd": None}) == ["docker"], pool
    assert engines_of("my-vg", "my-pool", {"docker": "/dev/mapper/other", "containerd": "/dev/my-vg/other"}) == []


def test_docker_reports_the_pool_of_dm_thinpooldev_by_its_dm_name():
    config = {"storage-driver": "devicemapper", "storage-opts": ["dm.thinpooldev=/dev/mapper/docker-thinpool"]}
    assert storage_from_config(config)["pool"] == "docker-thinpool"
