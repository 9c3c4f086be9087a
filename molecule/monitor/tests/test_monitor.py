"""thinpool_monitor in a real VM: node_exporter serves the collector's metrics, they follow the pools."""

import json
import re

MIB = 1024 ** 2


def metrics(host, step):
    """{(name, pool): value} of what node_exporter served at that step (side_effect.yml)."""
    values = {}
    for line in host.file("/root/monitor/%s.metrics" % step).content_string.splitlines():
        match = re.match(r'^(thinpool_\w+)(?:\{(.*)\})? (\S+)$', line)
        assert match, line
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        values[(match.group(1), labels.get("pool") or labels.get("vg"))] = float(match.group(3))
    print("--- %s (node_exporter)\n%s" % (step, host.file("/root/monitor/%s.metrics" % step).content_string))
    return values


def lvs(host, step):
    rows = json.loads(host.file("/root/monitor/%s.lvs" % step).content_string)["report"][0]["lv"]
    return dict((row["lv_name"], row) for row in rows)


def check(host, step):
    lines = host.file("/root/monitor/%s.check" % step).content_string.splitlines()
    print("--- %s check: %s (exit %s)" % (step, lines[0], lines[-1]))
    return int(lines[-1]), lines[0]


def test_the_timer_runs_the_installed_collector(host):
    timer = host.service("thinpool-monitor.timer")
    assert timer.is_enabled and timer.is_running
    unit = host.file("/etc/systemd/system/thinpool-monitor.service").content_string
    assert "--output /var/lib/prometheus/node-exporter/thinpool.prom" in unit
    prom = host.file("/var/lib/prometheus/node-exporter/thinpool.prom")
    assert prom.exists and prom.mode == 0o644 and prom.user == "root"
    # the timer, not only side_effect's explicit runs, keeps it fresh (interval 10 s)
    age = int(host.check_output("echo $(( $(date +%s) - $(stat -c %Y /var/lib/prometheus/node-exporter/thinpool.prom) ))"))
    assert age < 60
    assert "ThinPoolAutoextendExhausted" in host.file("/etc/prometheus/thinpool.rules.yml").content_string


def test_served_values_match_lvs(host):
    for step in ("before", "grown", "vgfull"):
        served, listed = metrics(host, step), lvs(host, step)
        for pool in ("pool", "full"):
            assert served[("thinpool_data_size_bytes", pool)] == int(listed[pool]["lv_size"]), (step, pool)
            assert abs(served[("thinpool_data_used_ratio", pool)] * 100
                       - float(listed[pool]["data_percent"])) < 0.01, (step, pool)
            assert abs(served[("thinpool_metadata_used_ratio", pool)] * 100
                       - float(listed[pool]["metadata_percent"])) < 0.01, (step, pool)
        assert served[("thinpool_collector_error", None)] == 0


def test_before_any_write_the_pool_is_fine(host):
    served = metrics(host, "before")
    assert served[("thinpool_autoextend_threshold_ratio", "pool")] == 0.6
    assert served[("thinpool_autoextend_headroom_steps", "pool")] > 0
    assert served[("thinpool_monitored", "pool")] == 1
    assert ("thinpool_autoextend_headroom_steps", "full") not in served  # no profile: autoextend off
    assert check(host, "before")[0] == 0


def test_700m_written_moves_the_ratio_and_dmeventd_grows_the_pool(host):
    before, grown = metrics(host, "before"), metrics(host, "grown")
    assert grown[("thinpool_data_used_ratio", "pool")] > before[("thinpool_data_used_ratio", "pool")]
    assert grown[("thinpool_data_used_bytes", "pool")] >= 700 * MIB
    assert before[("thinpool_data_size_bytes", "pool")] == 1024 * MIB
    # +20% of 1G in whole 4M extents
    assert grown[("thinpool_data_size_bytes", "pool")] >= 1024 * MIB * 1.2


def test_a_full_vg_leaves_no_headroom_and_the_check_is_critical(host):
    served = metrics(host, "vgfull")
    assert served[("thinpool_vg_free_bytes", "mon")] == 0
    assert served[("thinpool_autoextend_headroom_steps", "pool")] == 0
    code, line = check(host, "vgfull")
    assert code == 2
    assert line.startswith("THINPOOL CRITICAL - mon/pool cannot autoextend: the next step needs ")
    assert "'mon/pool headroom'=0;2:;1:;0;" in line


def test_the_pool_written_full_with_error_when_full_is_out_of_data_space(host):
    served = metrics(host, "vgfull")
    assert served[("thinpool_out_of_data_space", "full")] == 1
    assert served[("thinpool_error_when_full", "full")] == 1
    assert served[("thinpool_data_used_ratio", "full")] == 1
