"""LVM size parsing, resolving and formatting."""

import pytest

from ansible_collections.container_storage.devicemapper.plugins.module_utils._sizes import (
    SizeError, human, lvm_arg, parse_size,
)

EXT = 4 * 1024 ** 2


@pytest.mark.parametrize("text, nbytes", [
    ("100G", 100 * 1024 ** 3),
    ("100g", 100 * 1024 ** 3),
    ("512K", 512 * 1024),
    ("512k", 512 * 1024),
    ("1.5g", 1536 * 1024 ** 2),
    ("2048s", 1024 * 1024),
    ("4096b", 4096),
    ("1T", 1024 ** 4),
    ("1e", 1024 ** 6),
    ("10", 10 * 1024 ** 2),  # a bare number is the command's default unit (MiB for -L)
    (" 7 M ", 7 * 1024 ** 2),
    (512, 512 * 1024 ** 2),
])
def test_absolute_sizes_are_binary_in_any_case(text, nbytes):
    assert parse_size(text).bytes == nbytes


def test_default_unit_for_chunk_size_is_kib():
    assert parse_size("64", default_unit="k").bytes == 64 * 1024


@pytest.mark.parametrize("text, base, extents", [
    ("95%VG", "VG", 1215),   # LVM rounds a percentage down: 1279 * 0.95 = 1215.05
    ("1%vg", "VG", 12),
    ("100%FREE", "FREE", 1000),
    ("50%PVS", "PVS", 250),
    ("12.5%VG", "VG", 159),
])
def test_percentages_resolve_to_extents(text, base, extents):
    size = parse_size(text)
    assert size.is_percent and size.base == base
    assert size.extents(EXT, vg_extents=1279, free_extents=1000, pvs_extents=500) == extents


def test_absolute_size_rounds_up_to_an_extent():
    assert parse_size("6000000000b").extents(EXT) == 1431  # what lvextend did in the lab
    assert parse_size("4860m").extents(EXT) == 1215


@pytest.mark.parametrize("text, fragment", [
    ("12Q", "is not a size"),
    ("-5G", "is not a size"),
    ("+5G", "is not a size"),
    ("0", "larger than zero"),
    ("0%VG", "more than 0"),
    ("101%VG", "at most 100"),
    ("50%ORIGIN", "VG, FREE or PVS"),
    ("", "is not a size"),
    (True, "is not a size"),
    ("1GiB", "is not a size"),
])
def test_bad_sizes_say_what_is_wrong(text, fragment):
    with pytest.raises(SizeError) as caught:
        parse_size(text, what="size")
    assert fragment in str(caught.value)
    assert str(caught.value).startswith("size:")


def test_percent_refused_where_only_absolute_makes_sense():
    with pytest.raises(SizeError, match="chunk_size: .* not a percentage"):
        parse_size("10%VG", allow_percent=False, what="chunk_size")


@pytest.mark.parametrize("nbytes, arg", [
    (5096079360, "4860m"),
    (524288, "512k"),
    (1024 ** 3, "1g"),
    (3 * 1024 ** 4, "3t"),
    (1000, "1000b"),
])
def test_lvm_arg_is_exact_in_the_largest_unit(nbytes, arg):
    assert lvm_arg(nbytes) == arg
    assert parse_size(arg).bytes == nbytes


def test_human():
    assert human(5096079360) == "4.75 GiB"
    assert human(16192 * 1024 ** 2) == "15.81 GiB"
    assert human(512) == "512 B"
