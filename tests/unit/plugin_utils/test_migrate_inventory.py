"""The migrate role's inventory of the whole store (issue 26 items 1-3): roles/migrate/files/inventory.sh
run here with /bin/sh and a stand-in `docker` that prints what its docker commands printed in the
Debian 12 lab VM with Docker 20.10 (tests/unit/fixtures/migrate_inventory: Docker with nothing; one
image with two tags, a user-defined network, a named volume and a container; a swarm manager). The
volumes' content digests are computed for real on directories made under tmp_path. The plan's
decisions (the cross-check with docker info, the swarm refusal, the comparison after the switch and
before the confirmation) are read from those outputs. Each case fails when the decision it names is wrong.
"""

import os
import shutil
import subprocess

import pytest
from devicemapper_reads import recorded_commands
from test_migrate_plan import (
    DOCKER_26, INVENTORY, INVENTORY_NONE, MIGRATE_FILES, POOL_STOPPED, done_record, plan, probe, take_inventory,
)

from ansible_collections.container_storage.devicemapper.plugins.plugin_utils._migrate_plan import (
    compare_inventory, inventory_refusals, plan_rollback, progress_label, read_inventory, saved_lines,
)


def make_volume(volumes, name, files):
    data = volumes / name / "_data"
    data.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        (data / path).parent.mkdir(parents=True, exist_ok=True)
        (data / path).write_text(text)
    return data


# ---------------------------------------------------------------- the read

def test_the_inventory_reads_images_networks_volumes_and_the_counts_as_recorded(tmp_path):
    root = tmp_path / "docker"
    make_volume(root / "volumes", "data", {"a": "one", "sub/b": "two"})
    (root / "network" / "files").mkdir(parents=True)
    found = read_inventory(take_inventory(tmp_path, "one", root, root / "volumes"))
    assert found["counted"] == {"images": 1, "containers": 1} and found["swarm"] == "inactive"
    assert [(image["tags"]) for image in found["images"]] == [["lab/a:1", "lab/a:latest"]]
    assert found["networks"] == [{"name": "labnet", "driver": "bridge", "scope": "local",
                                  "subnets": ["172.30.7.0/24"]}]
    assert found["volumes"] == ["data"] and found["plugins"] == [] and found["state_dirs"] == ["network"]
    assert found["volume_digests"]["data"]["files"] == 2 and found["volume_digests"]["data"]["bytes"] == 6
    assert found["old_volume_digests"] == {}
    assert inventory_refusals(found, "lab1", "refuse") == []


def test_a_failing_read_fails_the_inventory(tmp_path):
    """Every read fails the run: a network listing that fails is not read as no networks."""
    answers = dict((INVENTORY + name, None) for name in INVENTORY_NONE if name != "network_ls_none")
    body = recorded_commands(tmp_path, answers, otherwise='echo "Cannot connect to the Docker daemon" >&2; exit 1')
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text("#!/bin/sh\n" + body + "\n")
    (bin_dir / "docker").chmod(0o755)
    ran = run_script_raw(tmp_path, bin_dir)
    assert ran.returncode == 1 and "Cannot connect" in ran.stderr
    assert "@@networks" in ran.stdout and "@@plugins" not in ran.stdout


def run_script_raw(tmp_path, bin_dir):
    return subprocess.run(["/bin/sh", os.path.join(MIGRATE_FILES, "inventory.sh"), str(tmp_path / "docker")],
                          capture_output=True, text=True, timeout=60, check=False,
                          env=dict(os.environ, PATH="%s:%s" % (bin_dir, os.environ["PATH"])))


def test_a_volume_digest_is_its_content_not_where_it_lies(tmp_path):
    old, new = tmp_path / "old" / "volumes", tmp_path / "new" / "volumes"
    make_volume(old, "data", {"a": "one", "sub/b": "two"})
    (old / "data" / "_data" / "empty").mkdir()
    os.symlink("a", str(old / "data" / "_data" / "link"))
    (old / "metadata.db").write_text("not a volume")
    shutil.copytree(str(old), str(new), symlinks=True)
    for path in ("a", "sub/b"):  # cp -a keeps the modes
        shutil.copymode(str(old / "data" / "_data" / path), str(new / "data" / "_data" / path))

    def digests():
        found = read_inventory(take_inventory(tmp_path, "none", tmp_path / "new", new, old))
        return found["volume_digests"], found["old_volume_digests"]

    same_new, same_old = digests()
    assert same_new == same_old and list(same_new) == ["data"]
    (new / "data" / "_data" / "sub" / "b").write_text("tw0")  # same size, other bytes
    assert digests()[0]["data"]["sha256"] != same_old["data"]["sha256"]
    (new / "data" / "_data" / "sub" / "b").write_text("two")
    os.chmod(str(new / "data" / "_data" / "a"), 0o600)
    assert digests()[0]["data"]["sha256"] != same_old["data"]["sha256"]
    os.chmod(str(new / "data" / "_data" / "a"), os.stat(str(old / "data" / "_data" / "a")).st_mode)
    os.remove(str(new / "data" / "_data" / "link"))
    os.symlink("sub/b", str(new / "data" / "_data" / "link"))
    assert digests()[0]["data"]["sha256"] != same_old["data"]["sha256"]


# ---------------------------------------------------------------- before any change

def test_a_listing_that_does_not_add_up_to_docker_infos_counts_is_refused(tmp_path, monkeypatch):
    """Issue 26, defect 1: docker info's image count was read and never compared with the listing."""
    refusals = inventory_refusals(read_inventory(take_inventory(tmp_path, "miscounted", tmp_path / "docker")),
                                  "lab1", "refuse")
    assert refusals == [
        "migrate role: on lab1 docker info counts 1 images and 1 containers, but the listing read 0 images (docker "
        "image ls -a) and 0 containers (docker ps -a): the inventory of the store would not be complete, and what it "
        "missed would not be carried. Nothing was changed; run again when Docker is not creating or removing images "
        "or containers."]
    # The plan refuses with it, before anything changes.
    refused = plan(tmp_path, monkeypatch, inventory="miscounted")
    assert refused["action"] == "migrate" and refused["msg"] == refusals[0]


@pytest.mark.parametrize("swarm, refused", [("refuse", True), ("carry", False)])
def test_a_swarm_node_is_refused_unless_migrate_swarm_is_carry(tmp_path, monkeypatch, swarm, refused):
    """Issue 26, defect 3: a migrated manager left its cluster; its swarm state stayed behind."""
    planned = plan(tmp_path, monkeypatch, inventory="swarm", migrate_swarm=swarm)
    assert bool(planned["refusals"]) is refused, planned["refusals"]
    if refused:
        assert planned["msg"].startswith("migrate role: lab1 is a swarm manager (node state active). Its swarm state")
        assert "Set migrate_swarm: carry" in planned["msg"]
    else:
        assert planned["record_new"]["inventory"]["swarm"] == "active"


def test_migrate_swarm_takes_refuse_or_carry(tmp_path, monkeypatch):
    planned = plan(tmp_path, monkeypatch, read_docker=False, migrate_swarm="leave")
    assert "migrate_swarm refuse or carry" in planned["msg"] and "swarm=leave." in planned["msg"]


# ---------------------------------------------------------------- after the switch

def inventories(tmp_path):
    """The inventory of the host with one of each before the switch, and one after an overlay2 switch
    that carried everything (the new volumes digested beside the moved-aside old ones)."""
    old_root, new_root = tmp_path / "docker.migrate-1", tmp_path / "docker"
    make_volume(old_root / "volumes", "data", {"a": "one"})
    shutil.copytree(str(old_root / "volumes"), str(new_root / "volumes"))
    before = read_inventory(take_inventory(tmp_path, "one", old_root, old_root / "volumes"))
    after = read_inventory(take_inventory(tmp_path, "one", new_root, new_root / "volumes", old_root / "volumes"))
    manifest = [dict(image, store_id=image["id"]) for image in before["images"]]
    return before, after, manifest, new_root


def test_a_store_that_has_everything_of_the_inventory_has_no_differences(tmp_path):
    before, after, manifest, _new = inventories(tmp_path)
    assert compare_inventory(before, after, manifest) == []


def test_each_difference_from_the_inventory_is_named(tmp_path):
    """Issue 26, defect 3: networks were not carried and nothing compared them; volumes were not compared."""
    before, after, manifest, new_root = inventories(tmp_path)
    (new_root / "volumes" / "data" / "_data" / "a").write_text("changed")
    after = read_inventory(take_inventory(tmp_path, "one", new_root, new_root / "volumes",
                                          tmp_path / "docker.migrate-1" / "volumes"))
    after = dict(after, networks=[], volumes=[], images=[dict(after["images"][0], tags=["lab/a:1"])])
    differences = compare_inventory(before, after, manifest)
    image = before["images"][0]["id"]
    assert differences[0] == "image %s lab/a:1,lab/a:latest: not in the new store with its tags" % image
    assert differences[1:3] == ["network labnet (bridge 172.30.7.0/24): missing", "volume data: missing"]
    assert differences[3].startswith("volume data: content differs (old 1 files, 3 bytes, sha256 ")
    assert "new 1 files, 7 bytes" in differences[3] and len(differences) == 4
    # A record of an older version of the role has no inventory: the images are still compared.
    assert compare_inventory(None, after, manifest) == differences[:1]


def test_the_plan_compares_the_new_store_after_the_switch_and_gives_the_inventorys_arguments(tmp_path, monkeypatch):
    planned = plan(tmp_path, monkeypatch, inventory="one")
    data_root = planned["data_root"]
    assert planned["inventory_after_args"] == [data_root, data_root + "/volumes",
                                               planned["record_new"]["backup"] + "/volumes"]
    assert planned["record_new"]["inventory"]["networks"][0]["name"] == "labnet"


# ---------------------------------------------------------------- the confirmation

def test_a_confirmation_reads_the_store_again_and_refuses_on_a_difference(tmp_path, monkeypatch):
    """It never deletes what was not proven carried: the old store may hold the only copy."""
    before, after, manifest, _new = inventories(tmp_path)
    data_root = probe(POOL_STOPPED, tmp_path, monkeypatch)["data_root"]
    record = dict(done_record(tmp_path, "overlay2-lv", data_root), images=manifest,
                  inventory={key: before[key] for key in ("counted", "swarm", "swarm_manager", "networks",
                                                          "plugins", "volumes", "state_dirs", "volume_digests")})
    first = plan(tmp_path, monkeypatch, case=DOCKER_26, state=record, migrate_confirm_remove_old=True)
    assert first["action"] == "confirm" and first["read_before_confirm"] and first["refusals"] == []
    ok = plan(tmp_path, monkeypatch, case=DOCKER_26, state=record, migrate_confirm_remove_old=True,
              after=take_inventory(tmp_path, "one", tmp_path / "docker"))
    assert ok["refusals"] == [] and ok["differences"] == [] and not ok["read_before_confirm"]
    refused = plan(tmp_path, monkeypatch, case=DOCKER_26, state=record, migrate_confirm_remove_old=True,
                   after=take_inventory(tmp_path, "none", tmp_path / "docker"))
    assert refused["msg"].startswith("migrate role: on lab1 the store Docker runs on now is not what the migration "
                                     "carried, so the old storage (%s) is not removed" % record["backup"])
    assert refused["differences"] == [
        "image %s lab/a:1,lab/a:latest: not in the new store with its tags" % manifest[0]["id"],
        "network labnet (bridge 172.30.7.0/24): missing", "volume data: missing"]
    assert "; ".join(refused["differences"]) in refused["msg"]


# ---------------------------------------------------------------- fstab (issue 26, defect 4)

@pytest.mark.parametrize("line", ["#UUID=2222 {root} xfs defaults 0 0", "UUID=2222 {root} xfs defaults 0 0",
                                  "  # /dev/docker/dockerdata   {root} ext4 defaults 0 2"])
def test_another_fstab_line_for_the_data_root_is_refused_up_front_with_its_text(tmp_path, monkeypatch, line):
    """Defect 4: the migration's regexp also matched a commented-out line, replaced it, and the rollback
    deleted it. The read now lists commented lines too, and the plan refuses any line but the role's own."""
    root = probe(POOL_STOPPED, tmp_path, monkeypatch)["data_root"].rstrip("/")
    line = line.format(root=root)
    fstab = tmp_path / "fstab"
    fstab.write_text("UUID=1111 / ext4 defaults 0 1\n%s\n/dev/vdb1 %s-other ext4 defaults 0 2\n" % (line, root))
    monkeypatch.setenv("MIGRATE_FSTAB", str(fstab))
    refused = plan(tmp_path, monkeypatch)
    assert refused["msg"] == (
        "migrate role: /etc/fstab on lab1 already has a line for the data root %s: %s. The migration "
        "mounts the new LV there with its own line (/dev/docker/dockerdata %s xfs defaults 0 2) and "
        "removes only that line on rollback; it does not replace or remove another, commented out or not. Nothing was "
        "changed. Remove or move that line first." % (root, line.strip(), root))


def test_the_role_writes_and_removes_only_its_own_exact_fstab_line(tmp_path, monkeypatch):
    root = probe(POOL_STOPPED, tmp_path, monkeypatch)["data_root"].rstrip("/")
    fstab = tmp_path / "fstab"
    fstab.write_text("UUID=1111 / ext4 defaults 0 1\n")
    monkeypatch.setenv("MIGRATE_FSTAB", str(fstab))
    planned = plan(tmp_path, monkeypatch)
    assert planned["refusals"] == []
    own = "/dev/docker/dockerdata %s xfs defaults 0 2" % root
    assert planned["fstab_line"] == own
    # A run that finds its own line is not refused. The rollback removes that exact line.
    fstab.write_text("UUID=1111 / ext4 defaults 0 1\n%s\n" % own)
    assert plan(tmp_path, monkeypatch)["refusals"] == []
    assert plan_rollback(planned["record_new"], None, True)["fstab_line"] == own
    assert plan_rollback(dict(planned["record_new"], target="overlay2-root"), None, True)["fstab_line"] == ""


# ---------------------------------------------------------------- progress (issue 26 item 6)

def test_each_image_is_saved_and_loaded_by_a_run_of_its_own_with_a_line_of_progress(tmp_path, monkeypatch):
    planned = plan(tmp_path, monkeypatch)
    images = [{"id": "sha256:" + "a" * 64, "bytes": 210000000, "tags": ["app:1.4", "app:latest"]},
              {"id": "sha256:" + "b" * 64, "bytes": 1982256, "tags": []}]
    labels = [progress_label(number, 2, image) for number, image in enumerate(images, 1)]
    assert labels == ["1/2 app:1.4 210.0 MB", "2/2 bbbbbbbbbbbb 2.0 MB"]
    assert planned["save_items"] == [] and planned["load_items"] == []
    lines = saved_lines([{"stdout_lines": ["x|1|2|saved|x"]}, {"skipped": True}, "y|1|2|kept|y"])
    assert lines == ["x|1|2|saved|x", "y|1|2|kept|y"]
