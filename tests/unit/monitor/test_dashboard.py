"""roles/thinpool_monitor/files/thinpool-dashboard.json: importable into Grafana as it is, and every
query parses in Prometheus and names only metrics the collector writes."""

import json
import os
import re
import subprocess

import yaml

from monitor_helpers import ROLE, RecordedRunner
from test_thinpool_monitor_role import promtool

DASHBOARD = os.path.join(ROLE, "files", "thinpool-dashboard.json")


def load():
    with open(DASHBOARD) as handle:
        return json.load(handle)


def panels(dashboard):
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])  # collapsed rows hold their panels


def expressions(dashboard):
    return [target["expr"] for panel in panels(dashboard) for target in panel.get("targets", [])]


def exported_metrics(collector):
    """The metric families of a real textfile (recorded state M1), from its # TYPE lines."""
    pools, errors = collector.collect(RecordedRunner("m1"), daemon_json="/nonexistent",
                                      containerd_config="/nonexistent")
    text = collector.render_textfile(pools, errors, 1700000000.0, 0.5)
    return set(re.findall(r"^# TYPE (\w+) gauge$", text, re.M))


def test_every_query_names_only_exported_metrics_and_covers_the_dashboard_s_topics(collector):
    exported = exported_metrics(collector)
    used = set()
    for expr in expressions(load()):
        names = set(re.findall(r"\b(thinpool_\w+)\b", expr))
        assert names, expr
        assert names <= exported, "%s: not written by the collector: %s" % (expr, sorted(names - exported))
        used |= names
    # usage over time, headroom, health flags, collector age
    assert {"thinpool_data_used_ratio", "thinpool_metadata_used_ratio", "thinpool_autoextend_headroom_steps",
            "thinpool_out_of_data_space", "thinpool_read_only", "thinpool_needs_check", "thinpool_failed",
            "thinpool_collector_last_run_timestamp_seconds"} <= used


def test_every_query_parses_in_prometheus(tmp_path):
    """promtool checks an expression as a recording rule; Grafana's $instance becomes a regex first."""
    exprs = expressions(load())
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": "dashboard:panel_query_%d" % index, "expr": expr.replace("$instance", ".*")}
        for index, expr in enumerate(exprs)]}]}
    assert not [expr for expr in exprs if re.search(r"\$(?!instance\b)", expr)], "unknown Grafana variable"
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(yaml.safe_dump(rules))
    proc = subprocess.run([promtool(), "check", "rules", str(path)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS: %d rules found" % len(exprs) in proc.stdout


def test_the_dashboard_imports_as_it_is():
    """No __inputs to fill in: the data source is a variable, the host list comes from the metrics."""
    dashboard = load()
    assert "__inputs" not in dashboard and "id" not in dashboard
    variables = dict((variable["name"], variable) for variable in dashboard["templating"]["list"])
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert variables["instance"]["query"]["query"] == \
        "label_values(thinpool_collector_last_run_timestamp_seconds, instance)"
    ids = [panel["id"] for panel in panels(dashboard)]
    assert len(ids) == len(set(ids))
    for panel in panels(dashboard):
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        assert all(target["datasource"] == panel["datasource"] for target in panel["targets"])
        assert all('instance=~"$instance"' in target["expr"] for target in panel["targets"]), panel["title"]
