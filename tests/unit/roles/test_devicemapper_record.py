"""The devicemapper role's record script (files/state_record.sh), run here with /bin/sh: the
switch writes its record only over the one it read, so of two runs started together
only one switches Docker (issue 11)."""

import hashlib
import os
import subprocess

import yaml

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "devicemapper")
SCRIPT = os.path.join(ROLE, "files", "state_record.sh")


def write(path, content, expected=None):
    argv = ["/bin/sh", SCRIPT, str(path), content] + ([expected] if expected is not None else [])
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def sha(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def test_without_an_expected_record_it_writes(tmp_path):
    path = tmp_path / "state" / "state.json"
    result = write(path, '{"a": 1}')
    assert result.returncode == 0, result.stderr
    assert path.read_text() == '{"a": 1}\n'
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_it_writes_over_the_record_it_read(tmp_path):
    path = tmp_path / "state.json"
    write(path, '{"a": 1}')
    result = write(path, '{"a": 2}', sha(path))
    assert result.returncode == 0, result.stderr
    assert path.read_text() == '{"a": 2}\n'


def test_none_means_no_record_was_read(tmp_path):
    path = tmp_path / "state.json"
    assert write(path, '{"a": 1}', "none").returncode == 0
    assert path.read_text() == '{"a": 1}\n'


def test_the_second_of_two_runs_that_read_the_same_record_changes_nothing(tmp_path):
    path = tmp_path / "state.json"
    write(path, '{"pending": null}')
    read_by_both = sha(path)
    first = write(path, '{"pending": {"run": "first"}}', read_by_both)
    second = write(path, '{"pending": {"run": "second"}}', read_by_both)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 75
    assert "another run of the role changed" in second.stderr
    assert path.read_text() == '{"pending": {"run": "first"}}\n'
    assert sorted(os.listdir(tmp_path)) == ["state.json"]  # no temporary file left


def test_a_record_that_appeared_since_none_was_read_is_not_overwritten(tmp_path):
    path = tmp_path / "state.json"
    write(path, '{"pending": {"run": "first"}}')
    result = write(path, '{"pending": {"run": "second"}}', "none")
    assert result.returncode == 75
    assert path.read_text() == '{"pending": {"run": "first"}}\n'


def test_the_switch_passes_the_record_it_read_under_the_host_lock_and_the_rescue_stops_first_on_a_lost_race():
    with open(os.path.join(ROLE, "tasks", "switch.yml")) as handle:
        switch = yaml.safe_load(handle)
    block = next(item for item in switch if "block" in item)["block"]
    record = block[0]
    assert record["name"] == "Record what runs now and where the data goes, before changing anything"
    args = record["container_storage.devicemapper.run_script"]
    assert args["src"] == "state_record.sh"
    assert args["args"][-1] == "{{ __devicemapper_plan.record_sha }}"
    # The sha is compared and the record written under the modules' host lock (the script has
    # no lock of its own); the other writes of the record pass no sha and took no lock before either.
    assert args["host_lock"] is True and args["lock_timeout"] == 300 and args["timeout"] > args["lock_timeout"]
    assert record["register"] == "__devicemapper_recorded"
    with open(os.path.join(ROLE, "tasks", "rollback.yml")) as handle:
        rollback = yaml.safe_load(handle)
    assert "__devicemapper_recorded" in rollback[0]["ansible.builtin.set_fact"]["__devicemapper_rollback"]
    assert "ansible.builtin.set_fact" in rollback[1] and "ansible.builtin.fail" in rollback[2]
    assert rollback[1]["when"] == rollback[2]["when"] == "__devicemapper_rollback.record_failed"


def test_the_record_script_leaves_the_host_lock_to_run_script():
    # One source for the host lock: _lock's shell preamble, which run_script's host_lock puts
    # before the script. A second copy here could drift from _lock.py.
    with open(SCRIPT) as handle:
        text = handle.read()
    assert "flock" not in text and "lockdir" not in text


# When the rescue stops and what it says: test_devicemapper_plan.py's
# test_the_rescue_stops_only_when_the_record_step_failed_and_says_why, on the plan's code.
def test_the_rescue_stops_with_the_message_it_kept():
    with open(os.path.join(ROLE, "tasks", "rollback.yml")) as handle:
        keep, stop = yaml.safe_load(handle)[1:3]
    result = keep["ansible.builtin.set_fact"]["devicemapper_role_result"]
    assert result["rolled_back"] is False and result["docker_changed"] is False
    assert result["message"] == "{{ __devicemapper_rollback.record_message }}"
    assert stop["ansible.builtin.fail"]["msg"] == "{{ devicemapper_role_result.message }}"
