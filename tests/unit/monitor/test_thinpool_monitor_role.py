"""The thinpool_monitor role: what it ships runs on its own, its interface stays in one piece,
and its alert rules load in Prometheus."""

import ast
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time

import jinja2
import pytest
import yaml

from monitor_helpers import COLLECTOR, FIXTURES, REPO, ROLE

MODULE_UTILS = os.path.join(REPO, "plugins", "module_utils")
PACKAGE = "ansible_collections.container_storage.devicemapper.plugins.module_utils."


def load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return yaml.safe_load(handle)


VARS = load("vars", "main.yml")
DEFAULTS = load("defaults", "main.yml")
SPEC = load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]


def imports_of(path):
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == PACKAGE[:-1]:
            for alias in node.names:  # from ...module_utils import _dm
                yield PACKAGE + alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name


def test_what_the_collector_imports_is_shipped_and_all_else_is_stdlib():
    needed, outside, todo = set(), set(), [COLLECTOR]
    while todo:
        for module in imports_of(todo.pop()):
            if module.startswith(PACKAGE):
                name = module[len(PACKAGE):] + ".py"
                if name not in needed:
                    needed.add(name)
                    todo.append(os.path.join(MODULE_UTILS, name))
            else:
                outside.add(module.split(".")[0])
    assert "_pool_health.py" in needed
    assert needed <= set(os.listdir(MODULE_UTILS))  # the role ships that whole directory
    assert outside - {"__future__"} <= set(sys.stdlib_module_names), outside


def install_like_the_role(root):
    """The layout tasks/main.yml builds, in a temporary directory."""
    for directory in VARS["thinpool_monitor_package_dirs"]:
        os.makedirs(os.path.join(root, directory))
        open(os.path.join(root, directory, "__init__.py"), "w").close()
    for name in os.listdir(MODULE_UTILS):
        if name.endswith(".py"):
            shutil.copy(os.path.join(MODULE_UTILS, name),
                        os.path.join(root, VARS["thinpool_monitor_package_dirs"][-1], name))
    shutil.copy(COLLECTOR, os.path.join(root, "thinpool_monitor.py"))
    return os.path.join(root, "thinpool_monitor.py")


def fake_tools(bindir, states, sleep=None):
    """lvm and dmsetup that print the recorded answer to their argv (or sleep, to test the timeout)."""
    os.makedirs(bindir)
    script = textwrap.dedent("""\
        #!%s
        import os, sys, time, yaml
        argv = [os.path.basename(sys.argv[0])] + sys.argv[1:]
        if %r:
            open(%r, "w").write(str(os.getpid()))
            time.sleep(%r)
        assert os.environ.get("LC_ALL") == "C", "not run in the C locale"
        for prefix in %r:
            for name in sorted(os.listdir(%r)):
                if name.startswith(prefix + "_"):
                    fixture = yaml.safe_load(open(os.path.join(%r, name)))
                    if fixture["command"] == argv:
                        found = fixture
        sys.stdout.write(found["out"]); sys.stderr.write(found["err"]); sys.exit(found["rc"])
        """) % (sys.executable, bool(sleep), os.path.join(bindir, "pid"), sleep or 0, states, FIXTURES, FIXTURES)
    for tool in ("lvm", "dmsetup"):
        path = os.path.join(bindir, tool)
        with open(path, "w") as handle:
            handle.write(script)
        os.chmod(path, 0o755)


def pythons():
    """This interpreter, and RHEL 8's 3.6 when pyenv has it (the collector's oldest target)."""
    found = [sys.executable]
    old = os.path.expanduser("~/.pyenv/versions/3.6.15/bin/python3.6")
    if os.path.exists(old):
        found.append(old)
    return found


@pytest.mark.parametrize("python", pythons())
def test_the_installed_collector_runs_alone_with_recorded_tools(tmp_path, python):
    script = install_like_the_role(str(tmp_path / "install"))
    fake_tools(str(tmp_path / "bin"), ["m1", "m2"])
    env = {"PATH": str(tmp_path / "bin"), "LANG": "de_DE.UTF-8"}
    proc = subprocess.run([python, script, "--docker-config", "/nonexistent", "check", "--pool",
                           "tank/withprofile"], env=env, capture_output=True, text=True, timeout=60,
                          cwd=str(tmp_path), check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # headroom 0 at 19.5 %, threshold 80/20
    assert proc.stdout.startswith("THINPOOL WARNING - tank/withprofile cannot autoextend")
    output = tmp_path / "textfile" / "thinpool.prom"
    proc = subprocess.run([python, script, "textfile", "--output", str(output)], env=env,
                          capture_output=True, text=True, timeout=60, cwd=str(tmp_path), check=False)
    assert proc.returncode == 0, proc.stderr
    text = output.read_text()
    assert 'thinpool_autoextend_headroom_steps{vg="tank",pool="withprofile"} 0\n' in text
    assert "thinpool_collector_error 0\n" in text


def test_a_hung_command_is_stopped_at_the_timeout_and_reported(tmp_path):
    script = install_like_the_role(str(tmp_path / "install"))
    fake_tools(str(tmp_path / "bin"), ["m1"], sleep=30)
    started = time.time()
    proc = subprocess.run([sys.executable, script, "--timeout", "2", "check"],
                          env={"PATH": str(tmp_path / "bin")}, capture_output=True, text=True, timeout=60,
                          check=False)
    assert time.time() - started < 20
    assert (proc.returncode, proc.stdout.strip()) == (
        3, "THINPOOL UNKNOWN - `lvm vgs --reportformat json --units b --nosuffix -o "
           "vg_name,vg_size,vg_free,vg_extent_size,vg_extent_count,vg_free_count` did not finish within 2 s "
           "and was stopped")
    pid = int((tmp_path / "bin" / "pid").read_text())
    with pytest.raises(OSError):
        os.kill(pid, 0)  # nothing left running: subprocess.run killed it at the timeout


# ---------------------------------------------------------------- role interface

def test_every_variable_is_declared_with_type_default_and_description():
    assert set(SPEC) == set(DEFAULTS)
    for name, option in SPEC.items():
        assert name.startswith("thinpool_monitor_"), name
        assert option.get("type") in ("str", "bool", "int", "path"), name
        assert option.get("description"), name
        assert option.get("default") == DEFAULTS[name], name


def test_the_readme_lists_every_variable_with_its_default():
    with open(os.path.join(ROLE, "README.md")) as handle:
        readme = handle.read()
    rows = dict(re.findall(r"^\| `(thinpool_monitor_\w+)` \| `([^`]*)` \|", readme, re.M))
    assert set(rows) == set(DEFAULTS)
    for name, default in rows.items():
        assert default == ("" if DEFAULTS[name] == "" else str(DEFAULTS[name]).lower()
                           if isinstance(DEFAULTS[name], bool) else str(DEFAULTS[name])), name


def render(template, **overrides):
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(ROLE, "templates")),
                             trim_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    values = dict(DEFAULTS)
    values.update(dict((k, v) for k, v in VARS.items() if not isinstance(v, str) or "{{" not in v))
    values.update(overrides)
    values["thinpool_monitor_metrics_file"] = values["thinpool_monitor_textfile_dir"] + "/thinpool.prom"
    return env.get_template(template).render(**values)


def test_the_service_runs_the_installed_collector_into_the_textfile_dir():
    service = render("thinpool-monitor.service.j2", thinpool_monitor_textfile_dir="/var/lib/node_exporter")
    assert ("ExecStart=/usr/bin/python3 /usr/local/lib/thinpool-monitor/thinpool_monitor.py --timeout 30 "
            "textfile --output /var/lib/node_exporter/thinpool.prom") in service
    timer = render("thinpool-monitor.timer.j2", thinpool_monitor_interval="5min")
    assert "OnUnitActiveSec=5min" in timer


def promtool():
    """Debian's prometheus package (make setup installs it): the rule tests are part of make unit."""
    path = shutil.which("promtool")
    assert path, "promtool not found: apt-get install prometheus (make setup does)"
    return path


def test_the_alert_rules_have_the_issue_alerts_and_pass_promtool(tmp_path):
    text = render("thinpool-alerts.yml.j2", thinpool_monitor_data_critical=95)
    rules = yaml.safe_load(text)["groups"][0]["rules"]
    alerts = dict((rule["alert"], rule["expr"]) for rule in rules)
    assert alerts["ThinPoolDataUsageCritical"] == "max_over_time(thinpool_data_used_ratio[10m]) >= 0.95"
    assert alerts["ThinPoolNoAutoextendHeadroom"] == "thinpool_autoextend_headroom_steps == 0"
    for name in ("ThinPoolDataUsageHigh", "ThinPoolMetadataUsageHigh", "ThinPoolMetadataUsageCritical",
                 "ThinPoolAutoextendExhausted", "ThinPoolNotMonitored", "ThinPoolOutOfDataSpace",
                 "ThinPoolReadOnly", "ThinPoolCollectorError", "ThinPoolCollectorStale"):
        assert name in alerts
    metrics = set(re.findall(r"\b(thinpool_[a-z_]+)\b", " ".join(alerts.values())))
    with open(COLLECTOR) as handle:
        collector = handle.read()
    assert all('"%s"' % name in collector for name in metrics), metrics  # no alert on a metric never written
    path = tmp_path / "thinpool.rules.yml"
    path.write_text(text)
    proc = subprocess.run([promtool(), "check", "rules", str(path)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS: %d rules found" % len(rules) in proc.stdout


RULE_TESTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rules", "thinpool-alerts.test.yml")


def test_promtool_evaluates_every_shipped_alert(tmp_path):
    """The rules as the role ships them (its defaults), evaluated by promtool over the series of
    rules/thinpool-alerts.test.yml: steady, rising, flapping, stale, erroring, headroom 0."""
    text = render("thinpool-alerts.yml.j2")
    (tmp_path / "thinpool-alerts.yml").write_text(text)
    shutil.copy(RULE_TESTS, str(tmp_path / "thinpool-alerts.test.yml"))
    proc = subprocess.run([promtool(), "test", "rules", "thinpool-alerts.test.yml"], cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(RULE_TESTS) as handle:
        tests = yaml.safe_load(handle)["tests"]
    fired = set(check["alertname"] for test in tests for check in test.get("alert_rule_test", [])
                if check.get("exp_alerts"))
    shipped = set(rule["alert"] for rule in yaml.safe_load(text)["groups"][0]["rules"])
    assert fired == shipped, "alerts no test sees firing: %s" % sorted(shipped - fired)
