# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docker_info filter: what `docker info` printed in JSON format, read by the modules' own parser."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: docker_info
short_description: Read what C(docker info) printed in JSON format
version_added: 1.0.0
description:
  - Turns the standard output of C(docker info --format) with the C(json) template into the summary that
    M(container_storage.devicemapper.docker_storage_info) returns as RV(container_storage.devicemapper.docker_storage_info#module:info),
    with the same parser.
  - Output that is no JSON (Docker not answering) or that carries C(ServerErrors) gives an error text instead.
options:
  _input:
    description: What C(docker info) printed on standard output.
    type: str
    required: true
  stderr:
    description: What it printed on standard error, named in the error when the output is no JSON.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Verify the driver from a command that started Docker and printed docker info
  ansible.builtin.assert:
    that: (started.stdout | container_storage.devicemapper.docker_info(started.stderr)).info.driver == 'devicemapper'
"""

RETURN = r"""
_value:
  description:
    - C(info), the summary (C(driver), C(driver_type), C(driver_status), C(root_dir), C(server_version),
      C(containers), C(images)), or null when it could not be read; C(info_error), why not, or null.
  type: dict
"""

from ansible_collections.container_storage.devicemapper.plugins.module_utils._docker_storage import (
    parse_docker_info,
)


def docker_info(output, stderr=""):
    output = (output or "").strip()
    if not output.startswith("{"):
        return {"info": None,
                "info_error": "docker info printed no JSON: %s" % ((stderr or "").strip() or output or "(nothing)")}
    info, error = parse_docker_info(output)
    return {"info": info, "info_error": error}


class FilterModule(object):
    def filters(self):
        return {"docker_info": docker_info}
