"""run_script: the module's cases, and both paths run for real on this machine.

The action plugin's path (script on standard input, no Python on the target) and the
module's (pipelining off) are run by ansible-playbook over the local connection, with
the same tasks, and must give the same results.
"""

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from case_runner import load_cases, run_case

from ansible_collections.container_storage.devicemapper.plugins.module_utils import _lock, _script, _validate
from ansible_collections.container_storage.devicemapper.plugins.modules import run_script

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run_script_cases.yml")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")

# Arguments a shell would mangle if it ever parsed them.
HARD_ARGS = ["a b", "", "$(touch {tmp}/pwned)", "it's", "x\ny", "-e", "*", "; exit 9", "\u00e9"]

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: arguments reach the script as they are
      container_storage.devicemapper.run_script:
        script: |
          printf '%s\\n' "$0" "$#"
          for a in "$@"; do printf '<%s>\\n' "$a"; done
          echo "stdin:$(cat)"
          echo "locale:$LC_ALL"
          echo "env:$RUN_SCRIPT_TEST"
          echo to-stderr >&2
        args: {args}
        timeout: 20
      environment:
        RUN_SCRIPT_TEST: "from the environment keyword, with $dollars"
        LC_ALL: de_DE.UTF-8
      register: plain
    # a command that reads standard input must not eat the rest of the script
    - name: standard input is empty
      container_storage.devicemapper.run_script:
        script: |
          head -c 100 >/dev/null
          echo "still running"
      register: stdin_reader
    - name: exit code
      container_storage.devicemapper.run_script:
        script: "echo out; exit 3"
      register: exited
      ignore_errors: true
    - name: timeout
      container_storage.devicemapper.run_script:
        script: "sleep 30"
        timeout: 1
      register: stopped
      ignore_errors: true
    - name: refused
      container_storage.devicemapper.run_script:
        script: "true"
        timeout: 0
      register: refused
      ignore_errors: true
    # 200 kB of arguments: over what the action plugin sends itself (and over the 128 KiB
    # Linux allows one argument, as which the whole line reaches the shell), so the module runs them
    - name: long arguments
      container_storage.devicemapper.run_script:
        script: 'echo "$#"; printf %s "$1$2" | wc -c'
        args: ["{{{{ 'a' * 100000 }}}}", "{{{{ 'b' * 100000 }}}}"]
      register: long_args
    - name: check mode skips it
      container_storage.devicemapper.run_script:
        script: "touch {tmp}/checked"
      check_mode: true
      register: checked
    - name: results
      ansible.builtin.copy:
        content: "{{{{ dict(plain=plain, stdin_reader=stdin_reader, exited=exited, stopped=stopped,
                            refused=refused, checked=checked, long_args=long_args) | to_json }}}}"
        dest: "{tmp}/results.json"
        mode: "0600"
"""


@pytest.mark.parametrize("case", load_cases(CASES))
def test_run_script(case, tmp_path, monkeypatch):
    run_case(run_script, case, tmp_path, monkeypatch)


def test_nul_in_the_script_is_refused_before_anything_runs():
    # AnsibleModule itself refuses it in the module's arguments; the action plugin checks first.
    with pytest.raises(_validate.InputError, match="script: contains a NUL byte"):
        _script.check_options("echo a\0b", [], 10)


def test_launcher_runs_the_script_as_sh_c_would(tmp_path):
    script = 'printf "[%s]" "$0" "$@"; read -r line || echo "eof"'
    args = [a.format(tmp=tmp_path) for a in HARD_ARGS]
    direct = subprocess.run(["/bin/sh", "-c", script, "sh"] + args, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=30, check=True)
    argv = _script.launcher_argv(args, 30)
    assert argv[argv.index("timeout"):argv.index("timeout") + 4] == ["timeout", "-k", "10", "30"]
    launched = subprocess.run(argv, input=script, capture_output=True, text=True, timeout=30, check=True)
    assert launched.stdout == direct.stdout
    assert not (tmp_path / "pwned").exists()


def run_playbook(tmp_path, pipelining):
    args = json.dumps([a.format(tmp=tmp_path) for a in HARD_ARGS])
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK.format(args=args, tmp=tmp_path))
    return run_local_playbook(tmp_path, playbook, pipelining)


def run_local_playbook(tmp_path, playbook, pipelining, **environment):
    """ansible-playbook over the local connection; the results.json the playbook wrote."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_PIPELINING=str(pipelining),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
               **environment)
    env.pop("ANSIBLE_CONFIG", None)
    ansible_playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    done = subprocess.run([ansible_playbook, "-c", "local", "-e", "ansible_python_interpreter=" + sys.executable,
                           str(playbook)], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(str(tmp_path / "results.json")) as handle:
        return json.load(handle)


def comparable(result, path):
    text = json.dumps({key: value for key, value in result.items() if key != "started_python"})
    return text.replace(str(path), "TMP")


def test_both_paths_run_the_script_alike(tmp_path):
    (tmp_path / "fast").mkdir()
    (tmp_path / "module").mkdir()
    fast = run_playbook(tmp_path / "fast", True)
    module = run_playbook(tmp_path / "module", False)

    assert fast["plain"]["started_python"] is False
    assert module["plain"]["started_python"] is True
    for path, results in ((tmp_path / "fast", fast), (tmp_path / "module", module)):
        args = [a.format(tmp=path) for a in HARD_ARGS]
        expected = ["sh", str(len(args))] + ["<%s>" % a for a in args]
        lines = results["plain"]["stdout"].split("\n")
        # "x\ny" is one argument over two lines
        assert "\n".join(lines[:len(expected) + 1]) == "\n".join(expected)
        assert lines[-3:] == ["stdin:", "locale:C",
                              "env:from the environment keyword, with $dollars"]
        assert results["plain"]["stderr"] == "to-stderr"
        assert results["plain"]["rc"] == 0 and results["plain"]["changed"] is True
        assert not (path / "pwned").exists()
        assert results["stdin_reader"]["stdout"] == "still running"
        assert results["exited"]["failed"] is True and results["exited"]["rc"] == 3
        assert results["exited"]["msg"] == "the script exited with rc=3" and results["exited"]["stdout"] == "out"
        assert results["stopped"]["failed"] is True and results["stopped"]["rc"] == 124
        assert "did not finish within 1 s" in results["stopped"]["msg"]
        assert results["refused"]["failed"] is True and results["refused"]["changed"] is False
        assert results["refused"]["msg"] == "timeout: 0 is outside 1 to 86400"
        assert results["checked"]["skipped"] is True and not (path / "checked").exists()
        assert results["long_args"]["stdout_lines"] == ["2", "200000"]
        assert results["long_args"]["started_python"] is True

    for name in ("plain", "stdin_reader", "exited", "stopped"):
        assert comparable(fast[name], tmp_path / "fast") == comparable(module[name], tmp_path / "module"), name


# --- sections ---------------------------------------------------------------------------

def test_sections_split_at_markers_keeping_every_line():
    text = "ignored\n@@state\n{\"a\": 1}\n\n  indented  \n@@mounts\r\n/\r\n/var/lib/docker\n@@empty\n@@end\nafter end\n"
    assert _script.parse_sections(text) == {
        "state": ['{"a": 1}', "", "  indented  "],
        "mounts": ["/", "/var/lib/docker"],
        "empty": [],
    }


def test_sections_without_end_run_to_the_end_of_the_output():
    assert _script.parse_sections("@@a\n1\n\n") == {"a": ["1", ""]}
    assert _script.parse_sections("@@a\n1") == {"a": ["1"]}


def test_a_repeated_marker_continues_its_section():
    assert _script.parse_sections("@@a\n1\n@@b\n2\n@@a\n3\n") == {"a": ["1", "3"], "b": ["2"]}


def test_no_marker_means_no_sections():
    assert _script.parse_sections("") == {}
    assert _script.parse_sections("a@@b\n@@\n@@ x\n @@y\n@@end\n") == {}


def test_result_has_the_sections_of_the_whole_output():
    shaped = _script.result(0, "@@a\nx\n\n\n", "", 60, started_python=False)
    assert shaped["sections"] == {"a": ["x", "", ""]}
    assert shaped["stdout"] == "@@a\nx"


# --- exit status ------------------------------------------------------------------------

def test_no_exit_status_is_a_failure():
    shaped = _script.result(None, "out", "", 60, started_python=False)
    assert shaped["failed"] is True and shaped["rc"] is None
    assert shaped["msg"].startswith("the connection returned no exit status")


def test_the_launchers_status_line_is_the_exit_status():
    marker = _script.STATUS_MARKER
    # Ansible turns a connection's missing exit status into 0: the launcher's line decides
    assert _script.split_status(0, "out\n", "warn\n\n%s3\n" % marker) == (3, "out\n", "warn\n")
    assert _script.split_status(0, "", "no newline\n%s0\n" % marker) == (0, "", "no newline")
    assert _script.split_status(0, "", "\n%s0\n" % marker) == (0, "", "")
    # a connection that merges standard error into standard output, on a terminal
    assert _script.split_status(0, "out\r\n\r\n%s4\r\n" % marker, "") == (4, "out\r\n", "")
    # no line: stopped by timeout(1) (the connection's status says so), or no status at all
    assert _script.split_status(124, "", "") == (124, "", "")
    assert _script.split_status(0, "out", "") == (None, "out", "")
    # only the launcher's own last line counts
    assert _script.split_status(0, "", "%s0\nmore\n" % marker) == (None, "", "%s0\nmore\n" % marker)


def test_the_launcher_reports_the_scripts_status(tmp_path):
    argv = _script.launcher_argv(["x"], 30)
    for script, rc in (('echo "$1" >&2; exit 5', 5), ("printf partial >&2", 0), ("exec 2>&-; echo out", 0)):
        ran = subprocess.run(argv, input=script, capture_output=True, text=True, timeout=30, check=False)
        assert ran.returncode == rc
        assert _script.split_status(None, ran.stdout, ran.stderr)[0] == rc, ran.stderr


# --- host lock ---------------------------------------------------------------------------

def run_locked(tmp_path, script, lock_timeout, timeout=30):
    text = _lock.shell_preamble(lock_timeout, dirs=[str(tmp_path / "missing"), str(tmp_path)]) + script
    start = time.time()
    ran = subprocess.run(["/bin/sh", "-c", text, "sh"], capture_output=True, text=True, timeout=timeout, check=False)
    return ran, time.time() - start


def test_the_preamble_takes_the_lock_hostlock_takes(tmp_path):
    ran = run_locked(tmp_path, "readlink /proc/self/fd/9; echo \"${__container_storage_lockdir-unset}\"", 5)[0]
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == [str(tmp_path / _lock.LOCK_NAME), "unset"]


def test_the_preamble_fails_naming_the_holder_after_its_timeout(tmp_path):
    path = str(tmp_path / _lock.LOCK_NAME)
    with _lock.HostLock("thinpool (another play)", path=path):
        ran, took = run_locked(tmp_path, "touch ran", 1)
    assert ran.returncode == 1
    assert not (tmp_path / "ran").exists()
    assert 1 <= took < 10
    assert ran.stderr.startswith("another run held the host lock %s for 1 s: pid %d, thinpool (another play)"
                                 % (path, os.getpid()))


def test_the_preamble_waits_for_the_holder(tmp_path):
    lock = _lock.HostLock("dm_reload", path=str(tmp_path / _lock.LOCK_NAME)).acquire()
    threading.Timer(1.5, lock.release).start()
    ran, took = run_locked(tmp_path, "echo ran", 20)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "ran\n" and took >= 1.4


def test_a_module_waits_while_a_script_holds_the_lock(tmp_path):
    text = _lock.shell_preamble(5, dirs=[str(tmp_path)]) + "echo locked; sleep 3"
    script = subprocess.Popen(["/bin/sh", "-c", text, "sh"], stdout=subprocess.PIPE, text=True)
    try:
        assert script.stdout.readline() == "locked\n"
        with pytest.raises(_lock.LockTimeout):
            _lock.HostLock("thinpool", timeout=0, path=str(tmp_path / _lock.LOCK_NAME)).acquire()
        start = time.time()
        with _lock.HostLock("thinpool", timeout=20, path=str(tmp_path / _lock.LOCK_NAME)):
            assert time.time() - start > 1
    finally:
        script.wait(timeout=30)


def test_the_preamble_uses_lock_dirs(tmp_path):
    # conftest points LOCK_DIRS at the test's directory
    assert _lock.shell_preamble(0).startswith("for __container_storage_lockdir in %s;" % tmp_path)
    with pytest.raises(ValueError):
        _lock.shell_preamble(-1)


# --- src, sections and host_lock through ansible-playbook, on both paths --------------------

SRC_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: a file next to the playbook
      container_storage.devicemapper.run_script:
        src: sections.sh
        args: [one, "two words"]
      register: from_file
    - name: a role's files/ first
      ansible.builtin.include_role:
        name: reader
    - name: missing file
      container_storage.devicemapper.run_script:
        src: no-such-script.sh
      register: missing
      ignore_errors: true
    - name: empty file
      container_storage.devicemapper.run_script:
        src: empty.sh
      register: empty
      ignore_errors: true
    - name: a file that cannot be read
      container_storage.devicemapper.run_script:
        src: a-directory
      register: unreadable
      ignore_errors: true
    - name: under the host lock
      container_storage.devicemapper.run_script:
        script: readlink /proc/self/fd/9
        host_lock: true
        lock_timeout: {lock_timeout}
      register: locked
      ignore_errors: true
    - name: results
      ansible.builtin.copy:
        content: "{{{{ dict(from_file=from_file, from_role=from_role, missing=missing, empty=empty,
                            unreadable=unreadable, locked=locked) | to_json }}}}"
        dest: "{tmp}/results.json"
        mode: "0600"
"""

SECTIONS_SH = """#!/bin/sh
set -eu
echo 'before'
echo '@@args'
printf '%s\\n' "$@"
echo '@@blank'
echo
echo '@@end'
"""


def real_lock_path(monkeypatch):
    """The host lock a task takes on this machine (conftest's LOCK_DIRS undone)."""
    monkeypatch.undo()
    return _lock.lock_path()


def run_src_playbook(tmp_path, pipelining, lock_timeout):
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "sections.sh").write_text(SECTIONS_SH)
    (tmp_path / "files" / "empty.sh").write_text("")
    (tmp_path / "files" / "a-directory").mkdir()
    (tmp_path / "files" / "whose.sh").write_text("echo the playbook's\n")
    role = tmp_path / "roles" / "reader"
    (role / "files").mkdir(parents=True)
    (role / "tasks").mkdir()
    (role / "files" / "whose.sh").write_text("echo \"the role's, $1\"\n")
    (role / "tasks" / "main.yml").write_text(
        "- name: the role's file\n"
        "  container_storage.devicemapper.run_script:\n"
        "    src: whose.sh\n"
        "    args: [arg]\n"
        "  register: from_role\n")
    playbook = tmp_path / "play.yml"
    playbook.write_text(SRC_PLAYBOOK.format(tmp=tmp_path, lock_timeout=lock_timeout))
    return run_local_playbook(tmp_path, playbook, pipelining, ANSIBLE_ROLES_PATH=str(tmp_path / "roles"))


@pytest.mark.parametrize("pipelining", [True, False], ids=["no_python", "module"])
def test_src_sections_and_host_lock_on_both_paths(tmp_path, monkeypatch, pipelining):
    lock = real_lock_path(monkeypatch)
    results = run_src_playbook(tmp_path, pipelining, 60)
    from_file = results["from_file"]
    assert from_file["started_python"] is (not pipelining)
    assert from_file["rc"] == 0 and from_file["stderr"] == ""
    assert from_file["stdout_lines"] == ["before", "@@args", "one", "two words", "@@blank", "", "@@end"]
    assert from_file["sections"] == {"args": ["one", "two words"], "blank": [""]}
    assert results["from_role"]["stdout"] == "the role's, arg"
    assert results["from_role"]["sections"] == {}
    missing = results["missing"]
    assert missing["failed"] is True and missing["changed"] is False
    assert missing["msg"].startswith("src: cannot find no-such-script.sh: ")
    assert str(tmp_path / "files") in missing["msg"]  # where it was looked for
    assert results["empty"]["failed"] is True
    assert results["empty"]["msg"].startswith("src: must not be empty")
    unreadable = results["unreadable"]
    assert unreadable["failed"] is True and unreadable["changed"] is False
    assert unreadable["msg"].startswith("src: cannot read %s: " % (tmp_path / "files" / "a-directory"))
    assert results["locked"]["rc"] == 0 and results["locked"]["stdout"] == lock


@pytest.mark.parametrize("pipelining", [True, False], ids=["no_python", "module"])
def test_a_held_host_lock_keeps_the_script_from_running(tmp_path, monkeypatch, pipelining):
    lock = real_lock_path(monkeypatch)
    with _lock.HostLock("a test of run_script", timeout=120, path=lock):
        results = run_src_playbook(tmp_path, pipelining, 0)
    locked = results["locked"]
    assert locked["failed"] is True and locked["rc"] == 1 and locked["stdout"] == ""
    assert locked["stderr"] == "another run held the host lock %s for 0 s: pid %d, a test of run_script, since" % (
        lock, os.getpid()) + locked["stderr"].split(", since", 1)[1]


# --- what the connection gets: the exit status, the command line, the script's bytes -------

# The local connection, with two changes a test turns on by environment: it can return no exit
# status (as a connection may), and it logs the length of each command line it is handed.
PROBE_CONNECTION = '''
from __future__ import annotations

import json
import os

from ansible.plugins.connection.local import Connection as LocalConnection

DOCUMENTATION = """
name: probe
short_description: the local connection, logging command lines and optionally losing the exit status
description: [A test double of run_script's unit tests.]
author: [container_storage developers]
"""


class Connection(LocalConnection):

    def exec_command(self, cmd, in_data=None, sudoable=True):
        rc, out, err = super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        log = os.environ.get("RUN_SCRIPT_PROBE_LOG")
        if log:
            with open(log, "a") as handle:
                handle.write(json.dumps({"bytes": len(cmd.encode("utf-8")), "launcher": "@@container_storage" in cmd,
                                         "python": "python" in cmd}) + "\\n")
        if os.environ.get("RUN_SCRIPT_PROBE_NO_RC"):
            return None, out, err
        return rc, out, err
'''

NO_RC_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: the issue's script
      container_storage.devicemapper.run_script:
        script: "echo partial; exit 3"
      register: exited
      ignore_errors: true
    - name: a script that succeeds
      container_storage.devicemapper.run_script:
        script: "echo fine"
      register: fine
    - name: stopped by its timeout, so the launcher reports nothing
      container_storage.devicemapper.run_script:
        script: "sleep 30"
        timeout: 1
      register: stopped
      ignore_errors: true
    - name: results
      ansible.builtin.copy:
        content: "{{{{ dict(exited=exited, fine=fine, stopped=stopped) | to_json }}}}"
        dest: "{tmp}/results.json"
        mode: "0600"
"""


def probe_environment(tmp_path, **extra):
    plugins = tmp_path / "connection_plugins"
    plugins.mkdir(exist_ok=True)
    (plugins / "probe.py").write_text(PROBE_CONNECTION)
    return dict(ANSIBLE_CONNECTION_PLUGINS=str(plugins), RUN_SCRIPT_PROBE_LOG=str(tmp_path / "probe.log"), **extra)


def run_probe_playbook(tmp_path, text, pipelining, **environment):
    playbook = tmp_path / "play.yml"
    playbook.write_text(text)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_PIPELINING=str(pipelining),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
               **probe_environment(tmp_path, **environment))
    env.pop("ANSIBLE_CONFIG", None)
    ansible_playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    done = subprocess.run([ansible_playbook, "-c", "probe", "-i", "localhost,", "-e",
                           "ansible_python_interpreter=" + sys.executable, str(playbook)],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(str(tmp_path / "results.json")) as handle:
        results = json.load(handle)
    with open(str(tmp_path / "probe.log")) as handle:
        return results, [json.loads(line) for line in handle]


def test_a_connection_that_returns_no_exit_status_does_not_turn_a_failure_into_a_success(tmp_path):
    """ansible-core reads a connection's missing exit status as 0: the launcher's own line decides."""
    results = run_probe_playbook(tmp_path, NO_RC_PLAYBOOK.format(tmp=tmp_path), True, RUN_SCRIPT_PROBE_NO_RC="1")[0]
    exited = results["exited"]
    assert exited["started_python"] is False
    assert exited["failed"] is True and exited["rc"] == 3 and exited["stdout"] == "partial"
    assert exited["msg"] == "the script exited with rc=3"
    assert results["fine"]["rc"] == 0 and not results["fine"].get("failed") and results["fine"]["stdout"] == "fine"
    stopped = results["stopped"]
    assert stopped["failed"] is True and stopped["rc"] is None
    assert stopped["msg"].startswith("the connection returned no exit status")


# A sudo that runs the command as the same user: the sudo become plugin's own wrapper and
# quoting, without a sudo on this machine.
FAKE_SUDO = """#!/bin/sh
while [ "$#" -gt 0 ] && [ "$1" != /bin/sh ]; do shift; done
exec "$@"
"""

QUOTES_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: 3000 quotes under sudo (53 bytes each as sent)
      container_storage.devicemapper.run_script:
        script: 'printf %s "$1" | wc -c'
        args: ["{{{{ \\"'\\" * 3000 }}}}"]
      become: true
      register: sudo_long
    - name: a few quotes under sudo
      container_storage.devicemapper.run_script:
        script: 'printf %s "$1" | wc -c'
        args: ["{{{{ \\"'\\" * 100 }}}}"]
      become: true
      register: sudo_short
    - name: 2500 quotes without become (17 bytes each as sent)
      container_storage.devicemapper.run_script:
        script: 'printf %s "$1" | wc -c'
        args: ["{{{{ \\"'\\" * 2500 }}}}"]
      register: plain_long
    - name: results
      ansible.builtin.copy:
        content: "{{{{ dict(sudo_long=sudo_long, sudo_short=sudo_short, plain_long=plain_long) | to_json }}}}"
        dest: "{tmp}/results.json"
        mode: "0600"
"""


def test_the_command_line_is_measured_as_the_connection_gets_it(tmp_path):
    """become and the shell wrapper quote the command again: a line the action plugin would send
    over Linux's 128 KiB (E2BIG, 'Argument list too long') goes to the module instead."""
    sudo = tmp_path / "fake-sudo"
    sudo.write_text(FAKE_SUDO)
    sudo.chmod(0o755)
    results, sent = run_probe_playbook(tmp_path, QUOTES_PLAYBOOK.format(tmp=tmp_path), True,
                                       ANSIBLE_BECOME_EXE=str(sudo), ANSIBLE_BECOME_ALLOW_SAME_USER="1")
    assert results["sudo_long"]["rc"] == 0 and results["sudo_long"]["stdout"] == "3000"
    assert results["sudo_long"]["started_python"] is True
    assert results["sudo_short"]["stdout"] == "100" and results["sudo_short"]["started_python"] is False
    assert results["plain_long"]["stdout"] == "2500" and results["plain_long"]["started_python"] is True
    launched = [line["bytes"] for line in sent if line["launcher"]]
    assert len(launched) == 1  # sudo_short only
    assert max(launched) <= 32768
    # sudo's wrapper was in the line measured and sent: 100 quotes are 5300 bytes of it
    assert launched[0] > 5300


# --- both paths hand sh the same bytes ---------------------------------------------------------

# Each payload follows a here-document that is never closed, so od prints the rest of the script
# exactly as sh received it: trailing newlines, a final backslash-newline, carriage returns.
PAYLOADS = [
    "plain\n",
    "ends in a backslash-newline \\\n",
    "three newlines\n\n\n",
    "no newline at the end",
    "crlf\r\nlines\r\n",
    "quotes ' \" ` $HOME $(id) \\\\ \t tab\n\n",
    "\u00e9t\u00e9 \u2028 \U0001F600\n",
    "\n",
    "a\\\n\\\n\\\n",
]
BYTES_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: each payload file
      container_storage.devicemapper.run_script:
        src: "{{{{ item }}}}"
        host_lock: "{{{{ item.endswith('3.sh') }}}}"
      loop: {files}
      register: dumped
    - name: results
      ansible.builtin.copy:
        content: "{{{{ dict(dumped=dumped) | to_json }}}}"
        dest: "{tmp}/results.json"
        mode: "0600"
"""


def _script_bytes(result):
    return bytes.fromhex("".join(result["stdout"].split()))


@pytest.mark.parametrize("pipelining", [True, False], ids=["no_python", "module"])
def test_both_paths_hand_sh_the_scripts_bytes(tmp_path, pipelining):
    (tmp_path / "files").mkdir()
    names = []
    for index, payload in enumerate(PAYLOADS):
        name = "payload%d.sh" % index
        (tmp_path / "files" / name).write_bytes(b"od -An -tx1 -v <<'@@PAYLOAD@@'\n" + payload.encode("utf-8"))
        names.append(name)
    playbook = BYTES_PLAYBOOK.format(files=json.dumps(names), tmp=tmp_path)
    results = run_probe_playbook(tmp_path, playbook, pipelining)[0]["dumped"]["results"]
    for payload, result in zip(PAYLOADS, results):
        assert result["rc"] == 0, result
        assert result["started_python"] is (not pipelining)
        assert _script_bytes(result) == payload.encode("utf-8"), payload


def test_the_launcher_hands_sh_the_scripts_bytes():
    argv = _script.launcher_argv([], 30)
    for payload in PAYLOADS:
        script = "od -An -tx1 -v <<'@@PAYLOAD@@'\n" + payload
        launched = subprocess.run(argv, input=script.encode("utf-8"), capture_output=True, timeout=30, check=True)
        direct = subprocess.run(["/bin/sh", "-c", script], capture_output=True, timeout=30, check=True)
        assert launched.stdout == direct.stdout
        assert bytes.fromhex("".join(direct.stdout.decode().split())) == payload.encode("utf-8")
    # the launcher's variable that holds the script is not in the script's environment
    launched = subprocess.run(argv, input=b"env", capture_output=True, timeout=30, check=True)
    assert b"PATH=" in launched.stdout and b"__container_storage" not in launched.stdout


# --- arguments Linux cannot pass ---------------------------------------------------------------

def test_an_argument_linux_cannot_pass_is_refused_naming_it():
    with pytest.raises(_validate.InputError, match=r"^args\[1\]: is 131072 bytes; Linux passes at most 131071"):
        _script.check_options("true", ["ok", "a" * 131072], 10)
    assert _script.check_options("true", ["ok", "a" * 131071], 10) == ["ok", "a" * 131071]
    with pytest.raises(_validate.InputError, match=r"^script: is 131072 bytes; Linux"):
        _script.check_options("#" * 131072, [], 10)
    # the host lock's preamble counts
    near = "#" * (131071 - len(_lock.shell_preamble(300)) + 1)
    _script.check_options(near, [], 10)
    with pytest.raises(_validate.InputError, match=r"^src: is 131072 bytes \(with the host lock's preamble\)"):
        _script.check_options(near, [], 10, 300, option="src", host_lock=True)
