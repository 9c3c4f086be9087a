"""docker_info filter: docker_storage_info's parser, on the controller."""

import pytest

from ansible_collections.container_storage.devicemapper.plugins.filter.docker_info import docker_info


def test_report_is_read_as_the_module_reads_it():
    out = ('{"Driver":"devicemapper","DriverStatus":[["Pool Name","docker-thinpool"],["bad"]],'
           '"DockerRootDir":"/var/lib/docker","ServerErrors":null}\n')
    result = docker_info(out)
    assert result["info_error"] is None
    assert result["info"]["driver"] == "devicemapper"
    # a pair that is not one is dropped, as docker_storage_info does
    assert result["info"]["driver_status"] == {"Pool Name": "docker-thinpool"}
    assert result["info"]["root_dir"] == "/var/lib/docker"


@pytest.mark.parametrize("out, stderr, error", [
    ("", "Cannot connect to the Docker daemon", "docker info printed no JSON: Cannot connect to the Docker daemon"),
    ("", "", "docker info printed no JSON: (nothing)"),
    ("not json", "", "docker info printed no JSON: not json"),
    ('{"ServerErrors": ["error during connect"]}', "", "error during connect"),
    ('{"Driver": ', "", "docker info printed no JSON: "),
])
def test_output_that_is_no_report_is_an_error(out, stderr, error):
    result = docker_info(out, stderr)
    assert result["info"] is None
    assert result["info_error"].startswith(error)
