"""The migrate role's save and load scripts (issue 14), run on this machine against a stand-in
`docker` that writes archives laid out as Docker 26's `docker save` writes them (index.json, one
manifest naming the image's config, measured in the Debian 13 lab)."""

import json
import os
import subprocess
import tarfile

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "migrate")
CONFIG_HEX = "8d29a888264274317064d268e021f103bbcbd4da591975d890d114fe5e6d92d1"
MANIFEST_HEX = "9cf19a50d29fb785e5a4dab4b7964f246f985388253974493111accd811a1c99"
OTHER_HEX = "127e9e3d3eed6102bdf9d88b768a3d196ca6335b30b8d90dbc2d1e59acd80c7c"


def script(name):
    with open(os.path.join(ROLE, "vars", "main.yml")) as handle:
        text = yaml.safe_load(handle)[name]
    return Templar(loader=DataLoader(), variables={}).template(text)


FAKE_DOCKER = r"""#!/usr/bin/env python3
import io, json, os, sys, tarfile
log = os.environ["FAKE_LOG"]
with open(log, "a") as handle:
    handle.write(" ".join(sys.argv[1:]) + "\n")
if sys.argv[1:3] == ["image", "inspect"]:
    sys.exit(0 if sys.argv[-1] in os.environ.get("FAKE_PRESENT", "").split() else 1)
if sys.argv[1] == "load":
    sys.exit(0)
assert sys.argv[1:3] == ["save", "-o"], sys.argv
manifest = json.dumps({"schemaVersion": 2, "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": "sha256:" + os.environ["FAKE_CONFIG"], "size": 1}, "layers": []}).encode()
index = json.dumps({"schemaVersion": 2, "manifests": [
    {"digest": "sha256:" + os.environ["FAKE_MANIFEST"], "size": len(manifest),
     "annotations": {"io.containerd.image.name": ref}} for ref in sys.argv[4:]]}).encode()
with tarfile.open(sys.argv[3], "w") as archive:
    for name, data in (("blobs/sha256/" + os.environ["FAKE_MANIFEST"], manifest), ("index.json", index)):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
"""


@pytest.fixture()
def docker(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "docker"
    fake.write_text(FAKE_DOCKER)
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", "%s:%s" % (bin_dir, os.environ["PATH"]))
    monkeypatch.setenv("FAKE_LOG", str(tmp_path / "docker.log"))
    monkeypatch.setenv("FAKE_CONFIG", CONFIG_HEX)
    monkeypatch.setenv("FAKE_MANIFEST", MANIFEST_HEX)
    return tmp_path


def save(export, mode, *specs):
    return subprocess.run(["/bin/sh", "-c", script("__migrate_save_script"), "sh", str(export), mode] + list(specs),
                          capture_output=True, text=True, timeout=60, check=False)


def test_the_containerd_id_is_the_archives_manifest_digest(docker):
    out = save(docker / "export", "oci", "sha256:%s lab/a:1 lab/a:latest" % CONFIG_HEX)
    assert out.returncode == 0, out.stderr
    hex_, _sum, size, how, store = out.stdout.strip().split("|")
    assert (hex_, how, store) == (CONFIG_HEX, "saved", MANIFEST_HEX)
    assert int(size) == os.path.getsize(docker / "export" / (CONFIG_HEX + ".tar"))
    # Two tags, one manifest: the index lists it twice.
    with tarfile.open(docker / "export" / (CONFIG_HEX + ".tar")) as archive:
        assert len(json.load(archive.extractfile("index.json"))["manifests"]) == 2


def test_a_manifest_that_names_another_config_is_refused(docker, monkeypatch):
    monkeypatch.setenv("FAKE_CONFIG", OTHER_HEX)
    out = save(docker / "export", "oci", "sha256:" + CONFIG_HEX)
    assert out.returncode == 3
    assert "does not name the image's config sha256:" + CONFIG_HEX in out.stderr


def test_without_oci_the_store_id_is_the_old_id_and_a_kept_archive_is_not_saved_again(docker):
    first = save(docker / "export", "-", "sha256:" + CONFIG_HEX)
    again = save(docker / "export", "-", "sha256:" + CONFIG_HEX)
    assert first.stdout.split("|")[3] == "saved" and again.stdout.split("|")[3] == "kept"
    assert again.stdout.strip().split("|")[4] == CONFIG_HEX
    assert open(docker / "docker.log").read().count("save") == 1


def test_load_skips_an_image_present_under_its_store_id(docker, monkeypatch):
    saved = save(docker / "export", "oci", "sha256:" + CONFIG_HEX).stdout.strip().split("|")
    spec = "%s|%s|%s" % (CONFIG_HEX, saved[1], MANIFEST_HEX)
    load = script("__migrate_load_script")
    monkeypatch.setenv("FAKE_PRESENT", "sha256:" + MANIFEST_HEX)
    skipped = subprocess.run(["/bin/sh", "-c", load, "sh", str(docker / "export"), spec],
                             capture_output=True, text=True, timeout=60, check=False)
    assert skipped.returncode == 0 and skipped.stdout == ""
    monkeypatch.setenv("FAKE_PRESENT", "sha256:" + CONFIG_HEX)  # the old ID means nothing in containerd
    loaded = subprocess.run(["/bin/sh", "-c", load, "sh", str(docker / "export"), spec],
                            capture_output=True, text=True, timeout=60, check=False)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "loaded " + CONFIG_HEX


def sections(text):
    out = {}
    for chunk in text.split("@@")[1:-1]:
        lines = chunk.splitlines()
        out[lines[0]] = [line for line in lines[1:] if line]
    return out


def test_the_read_script_gives_the_data_roots_free_space_and_whether_the_export_shares_it(tmp_path):
    """overlay2-root's room check: df of the data root, and the export path's file system compared."""
    (tmp_path / "docker").mkdir()
    read = script("__migrate_read_script")
    args = ["/bin/sh", "-c", read, "sh", str(tmp_path / "state.json"), str(tmp_path / "docker"),
            str(tmp_path / "not" / "yet" / "export"), "", "", "dockerdata"]
    found = sections(subprocess.run(args, capture_output=True, text=True, timeout=60, check=False).stdout)
    free = os.statvfs(str(tmp_path))
    assert abs(int(found["root_avail"][0]) - free.f_bavail * free.f_frsize) < 64 * 2**20
    assert found["same_fs"] == ["yes"]
    # /proc is another file system.
    args[6] = "/proc/export"
    assert sections(subprocess.run(args, capture_output=True, text=True, timeout=60, check=False).stdout)["same_fs"] == ["no"]
    # Without an export path nothing is compared.
    args[6] = ""
    assert sections(subprocess.run(args, capture_output=True, text=True, timeout=60, check=False).stdout)["same_fs"] == []


def probe_task(name):
    with open(os.path.join(ROLE, "tasks", "probe.yml")) as handle:
        return next(item for item in yaml.safe_load(handle) if item["name"] == name)


def test_overlay2_root_needs_room_for_the_images_the_volumes_and_an_export_on_the_same_file_system():
    task = probe_task("Refuse when the export path or the VG lacks room, with the numbers")
    expression = task["vars"]["__migrate_root_needed"]
    variables = {"__migrate_bytes_needed": 100 * 2**20, "__migrate_record_new": {"volume_bytes": 10 * 2**20}}
    templar = Templar(loader=DataLoader(), variables=dict(variables, __migrate_root_shares_export=False))
    apart = int(templar.template(expression))
    templar = Templar(loader=DataLoader(), variables=dict(variables, __migrate_root_shares_export=True))
    shared = int(templar.template(expression))
    assert apart == int((110 * 2**20) * 1.05 + 64 * 2**20)
    assert shared == int((210 * 2**20) * 1.05 + 64 * 2**20)


def refusals(target, **overrides):
    """The conditions of the migration's refusal, as Ansible evaluates them, for a host that can move."""
    task = probe_task("Refuse a migration that cannot be done")
    variables = {
        "migrate_target": target, "__migrate_docker_active": True, "__migrate_data_root": "/var/lib/docker",
        "__migrate_probe": {"data_root_is_mount": False, "dockerd_version": "20.10.24"},
        "__migrate_record_new": {"export_path": "/srv/export", "lv": {"vg": "docker"}, "pool": {"name": "thinpool"}},
        "__migrate_lv_exists": False, "__migrate_phase": "none", "devicemapper_devices": [],
    }
    variables.update(overrides)
    templar = Templar(loader=DataLoader(), variables=variables)
    for name, expression in task["vars"].items():
        variables[name] = templar.template(expression)
    templar = Templar(loader=DataLoader(), variables=variables)
    return [templar.template("{{ %s }}" % condition) for condition in task["ansible.builtin.assert"]["that"]]


def test_each_target_lets_a_host_that_can_move_through():
    assert all(refusals("overlay2-lv"))
    # loop-lvm: no pool LV, no VG.
    assert all(refusals("overlay2-root", __migrate_record_new={"export_path": "/srv/export", "lv": {}, "pool": {"name": ""}}))
    assert all(refusals("containerd-snapshotter", __migrate_probe={"data_root_is_mount": True, "dockerd_version": "26.1.5"},
                        devicemapper_devices=["/dev/vdb"], __migrate_record_new={"export_path": "/srv/export", "lv": {},
                                                                                 "pool": {"name": "thinpool"}}))


def test_each_target_refuses_what_it_cannot_do():
    assert not all(refusals("overlay2-root", __migrate_probe={"data_root_is_mount": True, "dockerd_version": "20.10.24"}))
    assert not all(refusals("overlay2-lv", __migrate_record_new={"export_path": "/srv/export", "lv": {"vg": "docker"},
                                                                 "pool": {"name": ""}}))
    assert not all(refusals("containerd-snapshotter", devicemapper_devices=["/dev/vdb"]))  # dockerd 20.10
    assert not all(refusals("containerd-snapshotter", __migrate_probe={"data_root_is_mount": False,
                                                                       "dockerd_version": "26.1.5"}))  # no devices


def rollback_or_confirm_refusals(target, action, **overrides):
    """The conditions of 'Refuse a rollback or a confirmation that cannot be done', as Ansible evaluates them."""
    task = probe_task("Refuse a rollback or a confirmation that cannot be done")
    variables = {
        "__migrate_rollback": action == "rollback", "__migrate_confirm": action == "confirm",
        "__migrate_action": action, "__migrate_phase": "done", "__migrate_resume": False,
        "__migrate_target": target, "migrate_target": target,
        "__migrate_record": {"backup": "/var/lib/docker.migrate-20261128T150000Z"},
        "__migrate_backups_found": ["/var/lib/docker.migrate-20261128T150000Z"],
        "__migrate_probe": {"current": {"driver": "devmapper", "image_store": "containerd"}},
    }
    variables.update(overrides)
    templar = Templar(loader=DataLoader(), variables=variables)
    return [templar.template("{{ %s }}" % condition) for condition in task["ansible.builtin.assert"]["that"]]


def test_a_rollback_without_the_moved_aside_data_root_is_refused_for_both_overlay2_targets():
    for target in ("overlay2-lv", "overlay2-root"):
        assert all(rollback_or_confirm_refusals(target, "rollback"))
        assert not all(rollback_or_confirm_refusals(target, "rollback", __migrate_backups_found=[]))
    # The containerd image store never moved the data root.
    assert all(rollback_or_confirm_refusals("containerd-snapshotter", "rollback", __migrate_backups_found=[]))


def test_the_old_store_is_not_removed_while_docker_runs_on_it_again():
    assert all(rollback_or_confirm_refusals("containerd-snapshotter", "confirm"))
    on_old_store = {"current": {"driver": "overlay2", "image_store": "graphdriver"}}
    assert not all(rollback_or_confirm_refusals("containerd-snapshotter", "confirm", __migrate_probe=on_old_store))
    # overlay2-lv's confirmation removes the moved-aside data root and the pool (refused by the module while open).
    assert all(rollback_or_confirm_refusals("overlay2-lv", "confirm", __migrate_probe=on_old_store))
