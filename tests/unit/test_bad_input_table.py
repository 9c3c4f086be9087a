"""docs/bad-input.md is generated from the bad_input unit cases and kept in sync."""

import os
import sys

TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                     "tools", "docs_tables")
sys.path.insert(0, TOOLS)

import bad_input  # noqa: E402


def test_every_bad_input_case_expects_a_failure_that_names_something():
    for module, case in bad_input.bad_input_cases():
        expect = case.get("expect") or {}
        assert expect.get("failed") is True, "%s/%s: a bad_input case must expect failed: true" % (
            module, case["id"])
        assert expect.get("msg_contains"), "%s/%s: a bad_input case must check the message" % (
            module, case["id"])


def test_docs_table_is_current():
    with open(bad_input.OUTPUT) as handle:
        assert handle.read() == bad_input.render(), (
            "docs/bad-input.md is stale: run python3 tools/docs_tables/bad_input.py")
