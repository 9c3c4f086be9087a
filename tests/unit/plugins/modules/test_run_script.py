"""run_script: the module's cases, and both paths run for real on this machine.

The action plugin's path (script on standard input, no Python on the target) and the
module's (pipelining off) are run by ansible-playbook over the local connection, with
the same tasks, and must give the same results.
"""

import json
import os
import subprocess
import sys

import pytest

from case_runner import load_cases, run_case

from ansible_collections.container_storage.devicemapper.plugins.module_utils import _script, _validate
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
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_PIPELINING=str(pipelining),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
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
