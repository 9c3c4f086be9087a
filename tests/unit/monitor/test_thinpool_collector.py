"""The thin-pool collector on output recorded in a lab VM (tests/unit/fixtures/thinpool_monitor/recipe.yml).

M1 holds five pools in VG tank: withprofile (profile mon-thin, 80/20, 100 MiB
written), no-profile (no profile: lvm.conf has autoextend off), unmonitored,
ropool (read-only table) and fullpool (error_when_full, written full). M2 is
M1 with the VG's free extents taken by a plain LV.
"""

import copy
import json
import os
import re
import shutil
import subprocess

import pytest

from monitor_helpers import FailingRunner, RecordedRunner, load_fixtures

from ansible_collections.container_storage.devicemapper.plugins.module_utils import _pool_health


def pools_of(collector, state, **engine_files):
    pools, errors = collector.collect(RecordedRunner(state), **engine_files)
    return dict(("%s/%s" % (p["vg"], p["name"]), p) for p in pools), errors


def check(collector, state, *args):
    argv = ["check"] + list(args)
    parsed = collector.parse_args(argv)
    runner = RecordedRunner(state) if isinstance(state, str) else state
    return collector.run_check(parsed, runner)


def recorded_lvs(state):
    fixtures = load_fixtures(["m1", "m2"] if state == "m2" else [state])
    lvs = [f for command, f in fixtures.items() if command[:2] == ("lvm", "lvs")][0]
    rows = json.loads(lvs["out"])["report"][0]["lv"]
    return dict(("%s/%s" % (r["vg_name"], r["lv_name"]), r) for r in rows)


# ---------------------------------------------------------------- the read

def test_the_read_runs_one_vgs_one_lvs_one_dmsetup_and_one_lvmconfig_per_profile(collector):
    runner = RecordedRunner("m1")
    collector.collect(runner, daemon_json="/nonexistent", containerd_config="/nonexistent")
    assert [argv[:2] for argv in runner.commands] == [
        ["lvm", "vgs"], ["lvm", "lvs"], ["dmsetup", "status"], ["lvm", "lvmconfig"], ["lvm", "lvmconfig"]]
    profiles = [argv[argv.index("--metadataprofile") + 1] if "--metadataprofile" in argv else None
                for argv in runner.commands[3:]]
    assert sorted(profiles, key=str) == [None, "mon-thin"]


def test_every_pool_is_found_with_its_profile_or_none(collector):
    pools, errors = pools_of(collector, "m1")
    assert errors == []
    assert sorted(pools) == ["tank/fullpool", "tank/no-profile", "tank/ropool", "tank/unmonitored",
                             "tank/withprofile"]
    assert pools["tank/withprofile"]["profile"] == "mon-thin"
    assert pools["tank/unmonitored"]["profile"] == "mon-thin"
    assert pools["tank/no-profile"]["profile"] is None
    assert pools["tank/no-profile"]["dm_name"] == "tank-no--profile"


def test_usage_matches_what_lvs_reports(collector):
    pools, _errors = pools_of(collector, "m1")
    lvs = recorded_lvs("m1")
    for label, pool in pools.items():
        row = lvs[label]
        assert int(row["lv_size"]) == pool["data_size_bytes"], label
        assert abs(pool["data_used_ratio"] * 100 - float(row["data_percent"])) < 0.01, label
        assert abs(pool["metadata_used_ratio"] * 100 - float(row["metadata_percent"])) < 0.01, label
    # 100 MiB written into a thin volume of the 512 MiB pool with 256 KiB chunks
    assert pools["tank/withprofile"]["data_used_bytes"] == 100 * 1024 ** 2
    assert pools["tank/withprofile"]["chunk_size_bytes"] == 256 * 1024


def test_autoextend_settings_come_from_the_profile_or_lvm_conf(collector):
    pools, _errors = pools_of(collector, "m1")
    auto = pools["tank/withprofile"]["autoextend"]
    assert (auto["threshold_percent"], auto["percent"], auto["enabled"]) == (80, 20, True)
    off = pools["tank/no-profile"]["autoextend"]
    # Debian's lvm.conf: threshold 100, autoextend off; nothing to count
    assert (off["threshold_percent"], off["enabled"], off["headroom_steps"]) == (100, False, None)


def test_headroom_counts_the_steps_the_free_extents_allow(collector):
    pools, _errors = pools_of(collector, "m1")
    auto = pools["tank/withprofile"]["autoextend"]
    # See test_headroom_by_hand for the arithmetic on the recorded VG.
    assert auto["headroom_steps"] == HEADROOM_M1
    assert auto["next_step_bytes"] == 104 * 1024 ** 2  # 20% of 128 extents, rounded up: 26 x 4 MiB


def test_headroom_is_zero_once_the_vg_is_full(collector):
    pools, _errors = pools_of(collector, "m2")
    assert pools["tank/withprofile"]["vg_free_bytes"] == 0
    assert pools["tank/withprofile"]["autoextend"]["headroom_steps"] == 0
    assert pools["tank/no-profile"]["autoextend"]["headroom_steps"] is None


# The recorded VG (m1_vgs): 4 MiB extents, 1734 free. withprofile is 512 MiB =
# 128 extents, +20% a step, rounded up: 26, 31, 37, 45, 54, 65, 78, 93, 112, 134,
# 161, 193, 232, 278 use 1539 extents (14 steps, the pool at 1667 extents); the
# 15th step, 334, needs more than the 195 left.
HEADROOM_M1 = 14


def test_headroom_by_hand():
    """The step rule spelled out: 128, +26 -> 154, +31 -> 185, +37 -> 222 ... until a step no longer fits."""
    assert _pool_health.autoextend_headroom(512 * 1024 ** 2, 4 * 1024 ** 2, 25, 20) == (0, 26 * 4 * 1024 ** 2)
    assert _pool_health.autoextend_headroom(512 * 1024 ** 2, 4 * 1024 ** 2, 26, 20) == (1, 26 * 4 * 1024 ** 2)
    assert _pool_health.autoextend_headroom(512 * 1024 ** 2, 4 * 1024 ** 2, 26 + 31, 20)[0] == 2
    assert _pool_health.autoextend_headroom(512 * 1024 ** 2, 4 * 1024 ** 2, 26 + 31 + 36, 20)[0] == 2
    assert _pool_health.autoextend_headroom(512 * 1024 ** 2, 4 * 1024 ** 2, 26 + 31 + 37, 20)[0] == 3
    # 1% steps of at least one extent: 1000 of them stay far below 10**9 extents
    assert _pool_health.autoextend_headroom(512 * 1024 ** 2, 4 * 1024 ** 2, 10 ** 9, 1)[0] == \
        _pool_health.HEADROOM_CAP
    assert _pool_health.autoextend_headroom(512 * 1024 ** 2, 4 * 1024 ** 2, 100, 0) == (None, None)


def test_health_flags_from_dmsetup_status(collector):
    pools, _errors = pools_of(collector, "m1")
    assert pools["tank/ropool"]["flags"] == {
        "out_of_data_space": False, "read_only": True, "needs_check": False, "failed": False}
    assert pools["tank/fullpool"]["flags"]["out_of_data_space"] is True
    assert pools["tank/fullpool"]["data_used_ratio"] == 1.0
    assert pools["tank/fullpool"]["when_full"] == "error"
    assert pools["tank/withprofile"]["when_full"] == "queue"
    for label in ("tank/withprofile", "tank/no-profile", "tank/unmonitored"):
        assert not any(pools[label]["flags"].values()), label
    assert pools["tank/unmonitored"]["monitored"] is False
    assert pools["tank/withprofile"]["monitored"] is True


def test_an_empty_host_has_no_pools_and_runs_no_dmsetup(collector):
    runner = RecordedRunner("empty")
    pools, errors = collector.collect(runner)
    assert (pools, errors) == ([], [])
    assert [argv[:2] for argv in runner.commands] == [["lvm", "vgs"], ["lvm", "lvs"]]


# ---------------------------------------------------------------- engines

def test_engine_from_docker_daemon_json_and_containerd_config(collector, tmp_path):
    daemon = tmp_path / "daemon.json"
    daemon.write_text(json.dumps({"storage-driver": "devicemapper",
                                  "storage-opts": ["dm.thinpooldev=/dev/mapper/tank-withprofile"]}))
    containerd = tmp_path / "config.toml"
    containerd.write_text('version = 2\n[plugins]\n  [plugins."io.containerd.snapshotter.v1.devmapper"]\n'
                          '    root_path = "/var/lib/containerd/devmapper"\n'
                          '    pool_name = "tank-no--profile"\n    base_image_size = "8192MB"\n')
    pools, errors = pools_of(collector, "m1", daemon_json=str(daemon), containerd_config=str(containerd))
    assert errors == []
    assert pools["tank/withprofile"]["engines"] == ["docker"]
    assert pools["tank/no-profile"]["engines"] == ["containerd"]
    assert pools["tank/ropool"]["engines"] == []


def test_docker_on_overlay2_uses_no_pool_and_a_broken_daemon_json_is_an_error(collector, tmp_path):
    daemon = tmp_path / "daemon.json"
    daemon.write_text(json.dumps({"storage-driver": "overlay2",
                                  "storage-opts": ["dm.thinpooldev=/dev/mapper/tank-withprofile"]}))
    pools, errors = pools_of(collector, "m1", daemon_json=str(daemon), containerd_config="/nonexistent")
    assert errors == [] and pools["tank/withprofile"]["engines"] == []
    daemon.write_text("{not json")
    pools, errors = pools_of(collector, "m1", daemon_json=str(daemon), containerd_config="/nonexistent")
    assert len(errors) == 1 and str(daemon) in errors[0]
    assert len(pools) == 5  # the pools are still reported


@pytest.mark.parametrize("text, expected", [
    ('[plugins."io.containerd.snapshotter.v1.devmapper"]\npool_name = "a-pool"\n', "a-pool"),
    ("[plugins.'io.containerd.snapshotter.v1.devmapper']\n  pool_name = 'b'  # v3 quoting\n", "b"),
    ('[plugins.devmapper]\npool_name = "old"\n', "old"),
    ('[plugins."io.containerd.snapshotter.v1.devmapper"]\nroot_path = "/x"\n[other]\npool_name = "no"\n', None),
    ('version = 2\n[plugins."io.containerd.snapshotter.v1.devmapper"]\npool_name = "/dev/mapper/c-p"\n', "c-p"),
    ('[plugins."io.containerd.grpc.v1.cri".containerd]\nsnapshotter = "devmapper"\n', None),
])
def test_containerd_pool_name(text, expected):
    assert _pool_health.containerd_pool_name(text) == expected


# ---------------------------------------------------------------- Prometheus textfile

METRIC_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? '
                         r'(-?[0-9.e+-]+|NaN)$')


def parse_textfile(text):
    """{name: {frozenset(labels): value}}; asserts the exposition format as node_exporter reads it."""
    assert text.endswith("\n")
    families, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            assert kind == "gauge" and name not in typed, line
            typed.add(name)
            continue
        if line.startswith("# HELP "):
            continue
        match = METRIC_LINE.match(line)
        assert match, "not an exposition line: %r" % line
        name = match.group(1)
        assert name in typed, "sample before its TYPE: %r" % line
        labels = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        families.setdefault(name, {})[labels] = float(match.group(4))
    return families


def pool_labels(label):
    vg, pool = label.split("/")
    return frozenset([("vg", vg), ("pool", pool)])


def test_textfile_metrics_of_the_recorded_pools(collector):
    pools, errors = collector.collect(RecordedRunner("m1"), daemon_json="/nonexistent",
                                      containerd_config="/nonexistent")
    text = collector.render_textfile(pools, errors, 1700000000.5, 0.25)
    metrics = parse_textfile(text)
    lvs = recorded_lvs("m1")
    for label, row in lvs.items():
        if row["segtype"] != "thin-pool":
            continue
        key = pool_labels(label)
        assert metrics["thinpool_data_size_bytes"][key] == int(row["lv_size"])
        assert abs(metrics["thinpool_data_used_ratio"][key] * 100 - float(row["data_percent"])) < 0.01
    withprofile = pool_labels("tank/withprofile")
    assert metrics["thinpool_autoextend_threshold_ratio"][withprofile] == 0.8
    assert metrics["thinpool_autoextend_increment_ratio"][withprofile] == 0.2
    assert metrics["thinpool_autoextend_headroom_steps"][withprofile] == HEADROOM_M1
    # autoextend off: no headroom sample rather than a misleading number
    assert pool_labels("tank/no-profile") not in metrics["thinpool_autoextend_headroom_steps"]
    assert metrics["thinpool_read_only"][pool_labels("tank/ropool")] == 1
    assert metrics["thinpool_out_of_data_space"][pool_labels("tank/fullpool")] == 1
    assert metrics["thinpool_error_when_full"][pool_labels("tank/fullpool")] == 1
    assert metrics["thinpool_monitored"][pool_labels("tank/unmonitored")] == 0
    info = metrics["thinpool_info"]
    assert frozenset([("vg", "tank"), ("pool", "no-profile"), ("dm_name", "tank-no--profile"),
                      ("profile", ""), ("engine", "none")]) in info
    assert metrics["thinpool_collector_error"][frozenset()] == 0
    assert metrics["thinpool_collector_last_run_timestamp_seconds"][frozenset()] == 1700000000.5
    assert metrics["thinpool_vg_free_bytes"][frozenset([("vg", "tank")])] == 1734 * 4 * 1024 ** 2


def test_a_failed_read_writes_only_the_collector_gauges_with_the_error_set(collector):
    pools, errors = collector.collect(FailingRunner(), daemon_json="/nonexistent",
                                      containerd_config="/nonexistent")
    assert pools is None and "lvm is not installed" in errors[0]
    metrics = parse_textfile(collector.render_textfile(pools, errors, 1.0, 0.1))
    assert metrics["thinpool_collector_error"][frozenset()] == 1
    assert not [name for name in metrics if not name.startswith("thinpool_collector_")]


def test_promtool_accepts_the_textfile(collector):
    promtool = shutil.which("promtool")
    if not promtool:
        pytest.skip("promtool not installed (Debian package prometheus)")
    pools, errors = collector.collect(RecordedRunner("m1"), daemon_json="/nonexistent",
                                      containerd_config="/nonexistent")
    text = collector.render_textfile(pools, errors, 1700000000.5, 0.25)
    proc = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True,
                          timeout=60, check=False)
    # promtool lints names and HELP/TYPE too; it prints nothing when all is well
    assert proc.returncode == 0 and not proc.stdout.strip() and not proc.stderr.strip(), \
        proc.stdout + proc.stderr


def test_the_textfile_is_replaced_atomically(collector, tmp_path):
    target = tmp_path / "thinpool.prom"
    target.write_text("old\n")
    os.chmod(str(target), 0o600)
    collector.write_textfile(str(target), "thinpool_collector_error 0\n")
    assert target.read_text() == "thinpool_collector_error 0\n"
    assert oct(os.stat(str(target)).st_mode & 0o777) == oct(0o644)  # node_exporter must read it
    assert os.listdir(str(tmp_path)) == ["thinpool.prom"]  # no temporary left behind


def test_textfile_output_must_end_in_prom(collector):
    with pytest.raises(SystemExit):
        collector.parse_args(["textfile", "--output", "/tmp/thinpool.txt"])


# ---------------------------------------------------------------- Nagios-style check

def test_check_critical_for_the_read_only_and_the_full_pool(collector):
    code, line = check(collector, "m1")
    assert code == 2
    assert line.startswith("THINPOOL CRITICAL - ")
    assert "tank/ropool is read-only" in line
    assert "tank/fullpool is out of data space" in line
    assert "tank/fullpool data 100.0% >= 90%" in line
    assert "tank/unmonitored is not monitored" in line


def test_check_ok_with_perfdata(collector):
    code, line = check(collector, "m1", "--pool", "tank/withprofile")
    assert code == 0
    status, perf = line.split(" | ")
    assert status == "THINPOOL OK - 1 thin pool(s) fine"
    assert re.findall(r"'[^']+'=\S+", perf) == [
        "'tank/withprofile data'=19.53%;80;90;0;100",
        "'tank/withprofile metadata'=10.55%;80;90;0;100",
        "'tank/withprofile headroom'=%d;2:;1:;0;" % HEADROOM_M1]


def test_check_warning(collector):
    assert check(collector, "m1", "--pool", "tank/unmonitored")[0] == 1
    code, line = check(collector, "m1", "--pool", "tank/withprofile", "--data-warning", "15")
    assert (code, line.split(" | ")[0]) == (1, "THINPOOL WARNING - tank/withprofile data 19.5% >= 15%")
    code, line = check(collector, "m1", "--pool", "tank/withprofile", "--headroom-warning", str(HEADROOM_M1))
    assert code == 1 and "autoextend step(s) left" in line


def test_check_warns_when_the_next_autoextend_cannot_happen_far_below_the_threshold(collector):
    """M2: the VG is full, the pool at 19.5 % with 80/20: it can grow to 60 % before it matters."""
    code, line = check(collector, "m2", "--pool", "tank/withprofile")
    assert code == 1
    assert line.split(" | ")[0] == ("THINPOOL WARNING - tank/withprofile cannot autoextend: the next step "
                                    "needs 104.00 MiB, VG tank has 0 B free; data 19.5% is more than one step "
                                    "(20%) below the autoextend threshold 80%")
    # autoextend off: a full VG is not this pool's problem
    assert check(collector, "m2", "--pool", "tank/no-profile")[0] == 0


@pytest.mark.parametrize("ratio, code", [(0.5999, 1), (0.6, 2), (0.79, 2), (0.95, 2), (None, 2)])
def test_headroom_zero_is_critical_within_one_step_of_the_threshold(collector, ratio, code):
    """The M2 pool (80/20, headroom 0) at other usages: critical once used + 20 % >= 80 %, the sum
    the alert ThinPoolAutoextendExhausted computes (0.6 + 0.2 >= 0.8 holds in both)."""
    pools, _errors = collector.collect(RecordedRunner("m2"), daemon_json="/nonexistent",
                                       containerd_config="/nonexistent")
    pool = copy.deepcopy([p for p in pools if p["name"] == "withprofile"][0])
    pool["data_used_ratio"] = ratio
    if ratio is None:
        pool["data_used_bytes"] = None
    args = collector.parse_args(["check", "--data-warning", "99", "--data-critical", "99.5"])
    status, problems, _perf = collector.evaluate([pool], args)
    assert status == code
    assert [text.split(";")[0] for _s, text in problems] == [
        "tank/withprofile cannot autoextend: the next step needs 104.00 MiB, VG tank has 0 B free"]
    usage = "data usage unknown" if ratio is None else "data %.1f%%" % (ratio * 100)
    assert problems[0][1].split("; ")[1] == ("%s is within one step (20%%) of the autoextend threshold 80%%" % usage
                                             if code == 2 else
                                             "%s is more than one step (20%%) below the autoextend threshold 80%%"
                                             % usage)


def test_check_unknown_without_pools_or_when_lvm_fails(collector):
    assert check(collector, "empty") == (3, "THINPOOL UNKNOWN - no LVM thin pool on this host")
    code, line = check(collector, FailingRunner())
    assert code == 3 and line == "THINPOOL UNKNOWN - `lvm` failed (rc=not found): lvm is not installed"


def test_check_critical_for_a_named_pool_that_does_not_exist(collector):
    code, line = check(collector, "m1", "--pool", "tank/nosuch")
    assert (code, line) == (2, "THINPOOL CRITICAL - tank/nosuch: no such thin pool")
