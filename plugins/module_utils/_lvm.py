# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""LVM reports read as JSON into plain Python objects.

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

# Sizes in bytes with no suffix, so nothing is parsed from "1.00g".
REPORT_OPTIONS = ["--reportformat", "json", "--units", "b", "--nosuffix"]


class LvmReportError(Exception):
    pass


def read_report(runner, command, fields, names=None, all_lvs=False):
    """Run ``lvm <command>`` (pvs, vgs or lvs) in JSON form; return a list of dicts.

    ``names`` restricts the report to these VGs/LVs/PVs; a name that does not
    exist makes LVM exit non-zero, so pass none and filter instead when
    absence is an expected answer.
    """
    argv = ["lvm", command] + REPORT_OPTIONS + ["-o", ",".join(fields)]
    if all_lvs:
        argv.append("-a")
    argv += list(names or [])
    rc, out, err = runner.run(argv)
    try:
        document = json.loads(out)
        rows = []
        for report in document["report"]:
            for value in report.values():
                rows.extend(value)
        return rows
    except (ValueError, KeyError, TypeError) as exc:
        raise LvmReportError("cannot read `lvm %s` JSON output (%s): %r" % (command, exc, out[:200]))
