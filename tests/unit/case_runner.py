"""YAML-driven unit cases for modules that shell out.

A case file is a YAML list; each case:

    - id: creates_pool_on_fresh_disk
      input: {vg: docker, devices: [/dev/vdb]}   # "{tmpdir}" is replaced in strings
      check_mode: false
      diff: false
      files: {etc/docker/daemon.json: '{"debug": true}'}   # made under tmpdir first
      missing_bins: [thin_check]                 # get_bin_path finds nothing
      run_command:                               # exactly these, in this order
        - fixture: thinpool/pvs_fresh            # tests/unit/fixtures/thinpool/pvs_fresh.yml
        - command: [lvm, lvcreate, ...]          # a mutating command and what it printed
          fixture: thinpool/lvcreate_ok          # or rc/out/err given inline for trivial output
      expect:
        failed: false
        changed: true
        result: {pool: {chunk_size: 524288}}     # subset of the module result
        msg_contains: [...]
        warnings_contain: [...]
        files: {etc/docker/daemon.json: '...'}   # exact content; null means absent

A missing command, an extra one, or a different argument list fails the case.
Fixture files are recorded from the lab VM by tools/lab/record_fixtures.py.
"""

import json
import os

import pytest
import yaml

from ansible.module_utils import basic
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.common.text.converters import to_bytes

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


class ModuleExit(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


def load_cases(path):
    with open(path) as handle:
        cases = yaml.safe_load(handle)
    return [pytest.param(case, id=case["id"]) for case in cases]


def load_fixture(name):
    with open(os.path.join(FIXTURES, name + ".yml")) as handle:
        return yaml.safe_load(handle)


def substitute(value, tmpdir):
    if isinstance(value, str):
        return value.replace("{tmpdir}", str(tmpdir))
    if isinstance(value, list):
        return [substitute(item, tmpdir) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, tmpdir) for key, item in value.items()}
    return value


def expected_calls(case, tmpdir):
    calls = []
    for entry in case.get("run_command", []):
        call = {}
        if "fixture" in entry:
            recorded = load_fixture(entry["fixture"])
            call.update(command=recorded["command"], rc=recorded["rc"], out=recorded["out"],
                        err=recorded["err"])
        call.update({key: entry[key] for key in ("command", "rc", "out", "err") if key in entry})
        call = substitute(call, tmpdir)
        if isinstance(call["command"], str):
            call["command"] = call["command"].split()
        call.setdefault("rc", 0)
        call.setdefault("out", "")
        call.setdefault("err", "")
        calls.append(call)
    return calls


def assert_subset(expected, actual, where="result"):
    if isinstance(expected, dict):
        assert isinstance(actual, dict), "%s: expected a dict, got %r" % (where, actual)
        for key, value in expected.items():
            assert key in actual, "%s: missing key %r in %r" % (where, key, sorted(actual))
            assert_subset(value, actual[key], "%s.%s" % (where, key))
    else:
        assert expected == actual, "%s: expected %r, got %r" % (where, expected, actual)


def run_case(module, case, tmp_path, monkeypatch):
    """Run ``module.main()`` for one case and check everything the case expects."""
    for rel, content in (case.get("files") or {}).items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(substitute(content, tmp_path))

    args = substitute(dict(case.get("input") or {}), tmp_path)
    args["_ansible_check_mode"] = bool(case.get("check_mode", False))
    args["_ansible_diff"] = bool(case.get("diff", False))
    args["_ansible_remote_tmp"] = str(tmp_path)
    args["_ansible_keep_remote_files"] = False
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args})))
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)

    calls = expected_calls(case, tmp_path)
    seen = []
    timeouts = []
    missing_bins = set(case.get("missing_bins") or [])

    def fake_get_bin_path(self, arg, required=False, opt_dirs=None):
        if arg in missing_bins:
            if required:
                self.fail_json(msg="Failed to find required executable %s" % arg)
            return None
        return "/usr/sbin/" + arg

    def fake_run_command(self, args, check_rc=False, environ_update=None, data=None, **kwargs):
        argv = [os.path.basename(args[0])] + [str(a) for a in args[1:]]
        # every command runs under timeout(1); the cases list the command itself
        assert argv[:3] == ["timeout", "-k", "10"] and argv[3].isdigit(), (
            "command run without a timeout: %r" % argv)
        timeouts.append(int(argv[3]))
        argv = [os.path.basename(argv[4])] + argv[5:]
        assert (environ_update or {}).get("LC_ALL") == "C", "command run outside the C locale"
        assert kwargs.get("expand_user_and_vars") is False, "run_command would expand $NAME and ~ in %r" % argv
        index = len(seen)
        seen.append(argv)
        assert index < len(calls), "unexpected extra command #%d: %r" % (index + 1, argv)
        call = calls[index]
        assert argv == call["command"], "command #%d differs:\n  expected %r\n  got      %r" % (
            index + 1, call["command"], argv)
        return call["rc"], call["out"], call["err"]

    def collect_warnings(result):
        # ansible-core 2.21 deprecates exit_json/fail_json's warnings and deprecations arguments
        # (2.23 removes them): a module says them with module.warn and module.deprecate.
        assert "warnings" not in result and "deprecations" not in result, (
            "warnings or deprecations passed to exit_json/fail_json: %r" % (result,))
        collected = list(result.get("warnings") or []) + list(ansible_warnings.get_warning_messages())
        if collected:
            result["warnings"] = collected

    def fake_exit_json(self, **result):
        collect_warnings(result)
        result.setdefault("changed", False)
        result["failed"] = False
        raise ModuleExit(result)

    def fake_fail_json(self, msg, **result):
        collect_warnings(result)
        result["msg"] = msg
        result["failed"] = True
        raise ModuleExit(result)

    monkeypatch.setattr(ansible_warnings, "_global_warnings", [])
    monkeypatch.setattr(ansible_warnings, "_global_deprecations", [])
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", fake_get_bin_path)
    monkeypatch.setattr(basic.AnsibleModule, "run_command", fake_run_command)
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", fake_exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fake_fail_json)

    with pytest.raises(ModuleExit) as caught:
        module.main()
    result = caught.value.result
    expect = substitute(case.get("expect") or {}, tmp_path)

    assert len(seen) == len(calls), "expected %d commands, the module ran %d; missing: %r" % (
        len(calls), len(seen), [c["command"] for c in calls[len(seen):]])
    assert result["failed"] == expect.get("failed", False), "result: %r" % (result,)
    if "changed" in expect:
        assert result.get("changed", False) == expect["changed"], "result: %r" % (result,)
    if "result" in expect:
        assert_subset(expect["result"], result)
    for text in expect.get("msg_contains") or []:
        assert text in result.get("msg", ""), "%r not in msg %r" % (text, result.get("msg"))
    warnings = " | ".join(result.get("warnings") or [])
    for text in expect.get("warnings_contain") or []:
        assert text in warnings, "%r not in warnings %r" % (text, warnings)
    if "timeouts" in expect:
        assert timeouts == expect["timeouts"], "timeouts: expected %r, got %r" % (
            expect["timeouts"], timeouts)
    for rel, content in (expect.get("files") or {}).items():
        path = tmp_path / rel
        if content is None:
            assert not path.exists(), "%s should not exist" % rel
        else:
            assert path.read_text() == content, "%s differs:\n%s" % (rel, path.read_text())
    return result
