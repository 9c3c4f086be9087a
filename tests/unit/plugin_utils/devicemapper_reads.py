"""Real reads for the devicemapper role's plan tests.

- docker_storage_info's result: the module run on a case of docker_storage_info_cases.yml,
  whose commands' output was recorded in the lab VM (tests/unit/fixtures/docker_storage_info).
- The host read's sections: the role's own files/host_read.sh (or containerd_read.sh) run
  here with /bin/sh on files made in a temporary directory, with stand-in commands only for
  what this machine has not (lvm, vgs and lvs print their recorded output), parsed by run_script's
  own parser.
"""

import copy
import os
import shlex
import subprocess

import yaml
from case_runner import load_fixture
from docker_case_files import run_docker_case

from ansible_collections.container_storage.devicemapper.plugins.module_utils._script import parse_sections
from ansible_collections.container_storage.devicemapper.plugins.modules import docker_storage_info

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
ROLE = os.path.join(ROOT, "roles", "devicemapper")
CASES = os.path.join(ROOT, "tests", "unit", "plugins", "modules", "docker_storage_info_cases.yml")

with open(os.path.join(ROLE, "defaults", "main.yml")) as handle:
    DEFAULTS = yaml.safe_load(handle)
with open(CASES) as handle:
    _CASES = {case["id"]: case for case in yaml.safe_load(handle)}


def storage_info(case_id, tmp_path, monkeypatch, flags=True, files=None, **input_overrides):
    """docker_storage_info's registered result for a recorded case (its files under tmp_path).

    files: the case's files replaced (daemon.json as a test needs it).
    flags: read dockerd's storage flags too, as the role does for state present: the case's
    commands then include `systemctl cat` of dockerd's unit, recorded on the same lab VM."""
    case = copy.deepcopy(_CASES[case_id])
    case["input"].update(input_overrides)
    if files is not None:
        # other files than the case's: the module's result is then not the case's to check
        case["files"] = files
        case["expect"].pop("result", None)
    if flags:
        case["input"]["read_storage_flags"] = True
        trixie = any("trixie" in step.get("fixture", "") for step in case["run_command"])
        unit = "docker_storage_info/trixie_systemctl_cat_docker" if trixie else "docker_daemon_config/systemctl_cat_docker_stock"
        case["run_command"].insert(3, {"fixture": unit})
    result = run_docker_case(docker_storage_info, case, tmp_path, monkeypatch)
    assert not result.get("failed"), result
    return result


def script(name):
    return os.path.join(ROLE, "files", name)


def run_role_script(name, args, tmp_path, stand_ins=None, env=None):
    """The role's script run with /bin/sh; stand_ins: {command: shell body}. Returns the completed process."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for command, body in (stand_ins or {}).items():
        (bin_dir / command).write_text("#!/bin/sh\n" + body + "\n")
        (bin_dir / command).chmod(0o755)
    environment = dict(os.environ, PATH="%s:%s" % (bin_dir, os.environ["PATH"]))
    environment.update(env or {})
    return subprocess.run(["/bin/sh", script(name), *args], capture_output=True, text=True, timeout=60,
                          check=False, env=environment)


def lvm_recorded(tmp_path, fixture="lvm_profile/lvmconfig_profile_dir"):
    """A stand-in lvm that prints what `lvm lvmconfig ...` printed in the lab."""
    recorded = load_fixture(fixture)
    out = tmp_path / ("lvm_out_" + fixture.replace("/", "_"))
    out.write_text(recorded["out"])
    err = tmp_path / ("lvm_err_" + fixture.replace("/", "_"))
    err.write_text(recorded.get("err") or "")
    return "cat '%s'; cat '%s' >&2; exit %d" % (out, err, recorded["rc"])


def host_read(tmp_path, data_root, state=None, dropin=None, tools=("lvm", "thin_check"), lvm=None):
    """files/host_read.sh's sections for a data root under tmp_path; state: the record's text."""
    state_file = tmp_path / "state" / "state.json"
    if state is not None:
        state_file.parent.mkdir(exist_ok=True)
        state_file.write_text(state)
    dropin_file = tmp_path / "dropin.conf"
    if dropin is not None:
        dropin_file.write_text(dropin)
    stand_ins = {"lvm": lvm if lvm is not None else lvm_recorded(tmp_path)}
    ran = run_role_script("host_read.sh", [str(state_file), str(data_root), str(dropin_file)] + list(tools),
                          tmp_path, stand_ins)
    assert ran.returncode == 0, ran.stderr
    return parse_sections(ran.stdout)


def variables(**overrides):
    given = dict(DEFAULTS)
    given.update(overrides)
    return given


# containerd_read.sh's own vgs and lvs commands, recorded in the Debian 13 lab VM
# (tests/unit/fixtures/containerd_read/recipe.yml).
VGS_DOCKER = "containerd_read/vgs_docker"  # the role's VG docker (and othervg)
VGS_OTHER = "containerd_read/vgs_othervg"  # another VG only: docker does not exist yet
LVS_VG_EMPTY = "containerd_read/lvs_vg_empty"  # VG docker without LVs


def recorded_commands(tmp_path, fixtures, otherwise='echo "unrecorded: $0 $*" >&2; exit 2'):
    """A stand-in command's body that answers each recorded command, only when given exactly its
    arguments, with the stdout, stderr and rc the lab VM gave; anything else runs `otherwise`.

    fixtures: {fixture name: the arguments after the command's name, or None for the fixture's own}."""
    body = []
    for fixture, argv in fixtures.items():
        recorded = load_fixture(fixture)
        if argv is None:
            argv = recorded["command"][1:]
        stem = tmp_path / ("recorded_" + fixture.replace("/", "_"))
        out, err = stem.with_suffix(".out"), stem.with_suffix(".err")
        out.write_text(recorded["out"])
        err.write_text(recorded["err"])
        same = ['[ "$#" = %d ]' % len(argv)]
        same += ['[ "${%d}" = %s ]' % (number, shlex.quote(arg)) for number, arg in enumerate(argv, 1)]
        body.append("if %s; then cat %s; cat %s >&2; exit %d; fi"
                    % (" && ".join(same), shlex.quote(str(out)), shlex.quote(str(err)), recorded["rc"]))
    return "\n".join(body + [otherwise])


def containerd_read(tmp_path, lvs=LVS_VG_EMPTY, vgs=VGS_DOCKER, metadata=False, active="active", enabled="enabled",
                    dropin=None):
    """files/containerd_read.sh's sections: vgs, lvs and systemctl print what they printed in the
    lab VM (fixtures of tests/unit/fixtures/containerd_read); active: "active" or "inactive",
    enabled: "enabled" or "disabled", the states recorded."""
    root = tmp_path / "devmapper"
    root.mkdir(exist_ok=True)
    if metadata:
        (root / "metadata.db").write_text("")
    dropin_file = tmp_path / "containerd-dropin.conf"
    if dropin is not None:
        dropin_file.write_text(dropin)
    stand_ins = {
        "vgs": recorded_commands(tmp_path, {vgs: None}),
        "lvs": recorded_commands(tmp_path, {lvs: None}),
        "systemctl": recorded_commands(tmp_path, {"containerd_read/systemctl_is_active_" + active: None,
                                                  "containerd_read/systemctl_is_enabled_" + enabled: None}),
    }
    ran = run_role_script("containerd_read.sh", ["docker", str(root), "containerd", str(dropin_file)], tmp_path,
                          stand_ins)
    assert ran.returncode == 0, ran.stderr
    return parse_sections(ran.stdout)
