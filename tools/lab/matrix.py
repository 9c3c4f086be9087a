#!/usr/bin/env python3
"""The controller x target matrix: each leg is one ansible-core on the controller and one
Python on a lab VM, running tests/matrix/site.yml (the modules, then the role twice).

    matrix.py                 every leg, one after another (one VM at a time)
    matrix.py core2.16-py3.6  one leg

The pinned ansible-core (requirements-dev.txt) with the guest's own Python 3.11 is the leg
every molecule scenario already runs; the legs here are the edges the README claims:
- ansible-core 2.16 (the oldest claimed) with a Python 3.6 target (RHEL 8's platform
  Python): pyenv's 3.6 on this machine is built against the same Debian 12 libraries as the
  guest, so it is copied into the guest under the same path and used as the interpreter.
- the newest ansible-core on PyPI for Python 3.13, against the guest's Python 3.11.
Each leg's controller lives in .build/matrix/<leg> (made once, reused).
"""

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import lab  # noqa: E402

PYENV = os.path.expanduser("~/.pyenv/versions")
LEGS = {
    # name: (controller Python, ansible-core, target Python: None = the guest's /usr/bin/python3)
    "core2.16-py3.6": ("3.12", "ansible-core==2.16.19", "3.6"),
    "core2.21-py3.11": ("3.13", "ansible-core==2.21.5", None),
}
# What the newest ansible-core deprecates, its next releases remove: a deprecation warning
# fails that leg (issue 29), whichever plugin or module of the collection caused it.
NEWEST = max(LEGS, key=lambda leg: tuple(int(part) for part in LEGS[leg][1].split("==")[1].split(".")))


def pyenv_python(version):
    candidates = sorted(v for v in os.listdir(PYENV) if v == version or v.startswith(version + "."))
    if not candidates:
        raise SystemExit("matrix: pyenv has no Python %s" % version)
    return os.path.join(PYENV, candidates[-1])


def controller(leg):
    python, requirement, _ = LEGS[leg]
    venv = os.path.join(REPO, ".build", "matrix", leg)
    stamp = os.path.join(venv, "installed-" + requirement.replace("=", "_"))
    os.makedirs(os.path.dirname(venv), exist_ok=True)
    # make test's sanity36 and this leg's scenario run side by side and both want this venv:
    # one makes it, the other waits for it.
    with open(venv + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(stamp):
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([os.path.join(pyenv_python(python), "bin", "python3"), "-m", "venv", venv],
                           check=True)
            subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", requirement],
                           check=True)
            open(stamp, "w").close()
    return venv


def push_python(config, version):
    """Copy pyenv's Python into the guest at the same path (its rpath points there)."""
    prefix = pyenv_python(version)
    with tempfile.NamedTemporaryFile(suffix=".tar.gz") as archive:
        def skip(info):
            parts = info.name.split("/")
            if "test" in parts or "__pycache__" in parts or "idlelib" in parts or "tkinter" in parts:
                return None
            return info
        with tarfile.open(archive.name, "w:gz") as tar:
            tar.add(prefix, arcname=prefix.lstrip("/"), filter=skip)
        with open(archive.name, "rb") as stream:
            subprocess.run(lab.ssh_argv(config, ["tar xzf - -C /"]), stdin=stream, check=True)
    interpreter = os.path.join(prefix, "bin", "python" + version)
    out = subprocess.run(lab.ssh_argv(config, [interpreter + " --version"]), check=True,
                         capture_output=True, text=True)
    lab.log("guest interpreter: %s (%s)" % (interpreter, (out.stdout or out.stderr).strip()))
    return interpreter


def run_leg(leg):
    _, requirement, target = LEGS[leg]
    venv = controller(leg)
    name = "matrix-%s-%d" % (leg.replace(".", ""), os.getpid())
    started = time.time()
    try:
        config = lab.up(name, disks=2, disk_size="6G")
        inventory = os.path.join(lab.vm_dir(name), "inventory.ini")
        lab.write_inventory([config], inventory)
        extra = {"devicemapper_hosts": "lab", "devicemapper_become": False,
                 "devicemapper_devices": ["/dev/vdb"]}
        if target:
            extra["ansible_python_interpreter"] = push_python(config, target)
            # Debian's apt bindings exist for the guest's own Python only; RHEL 8's
            # dnf bindings are what a real 3.6 target uses. The tools are in the image.
            extra["devicemapper_install_packages"] = False
        env = dict(os.environ, PATH=os.path.join(venv, "bin") + os.pathsep + os.environ["PATH"],
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"),
                   ANSIBLE_CONFIG=os.path.join(REPO, "tools", "ansible.cfg"))
        version = subprocess.run([os.path.join(venv, "bin", "ansible"), "--version"], env=env,
                                 capture_output=True, text=True).stdout.splitlines()[0]
        lab.log("leg %s: %s, target %s" % (leg, version, target or "the guest's python3"))
        argv = [os.path.join(venv, "bin", "ansible-playbook"), "-i", inventory,
                os.path.join(REPO, "tests", "matrix", "site.yml"), "-e", json.dumps(extra)]
        env["ANSIBLE_DEPRECATION_WARNINGS"] = "True"
        deprecations = []
        with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as run:
            for line in run.stdout:
                sys.stdout.write(line)
                sys.stdout.flush()
                if "[DEPRECATION WARNING]" in line:
                    deprecations.append(line.strip())
        rc = run.returncode
        if deprecations and leg == NEWEST:
            print("matrix leg %s: %d deprecation warning(s) on the newest ansible-core, which fail it:\n  %s"
                  % (leg, len(deprecations), "\n  ".join(deprecations)), file=sys.stderr)
            rc = rc or 1
        if rc != 0:
            print(lab.console_tail(config, 20), file=sys.stderr)
        return rc, time.time() - started
    finally:
        lab.down(name)


def main(argv):
    legs = argv or sorted(LEGS)
    results = []
    for leg in legs:
        if leg not in LEGS:
            raise SystemExit("matrix: unknown leg %s (known: %s)" % (leg, ", ".join(sorted(LEGS))))
        rc, seconds = run_leg(leg)
        results.append((leg, rc, seconds))
        print("=== matrix leg %s: %s in %d s" % (leg, "passed" if rc == 0 else "FAILED", seconds))
    failed = [leg for leg, rc, _ in results if rc != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
