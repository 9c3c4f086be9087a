"""A minimal Debian 12 host after the role's refusal, its check-mode preview and a real run."""

import json


def test_the_packages_were_installed(host):
    assert host.package("lvm2").is_installed
    assert host.package("thin-provisioning-tools").is_installed


def test_the_pool_was_built_on_the_disk(host):
    out = host.check_output("lvs --reportformat json -o lv_name,vg_name,lv_attr,chunk_size,seg_monitor docker")
    rows = json.loads(out)["report"][0]["lv"]
    assert [(row["lv_name"], row["lv_attr"][0], row["chunk_size"].strip(), row["seg_monitor"]) for row in rows] \
        == [("thinpool", "t", "512.00k", "monitored")]
    assert host.check_output("pvs --noheadings -o pv_name,vg_name").split() == ["/dev/vdb", "docker"]


def test_docker_runs_on_the_pool(host):
    info = json.loads(host.check_output("docker info --format '{{json .}}'"))
    assert info["Driver"] == "devicemapper"
    assert dict(info["DriverStatus"])["Pool Name"] == "docker-thinpool"
    # The overlay2 data root (with its image) was moved aside, not deleted.
    assert host.run("ls -d /var/lib/docker.bk-*/image/overlay2").rc == 0
