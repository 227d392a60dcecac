"""The compound file writer, checked with the independent ``olefile`` reader."""

from __future__ import annotations

import random

import olefile
import pytest

from addin.vba.cfb import MINI_CUTOFF, NOSTREAM, SECTOR, build_cfb, name_key


def _open(blob: bytes) -> olefile.OleFileIO:
    return olefile.OleFileIO(blob, raise_defects=olefile.DEFECT_INCORRECT)


def _check(streams: list[tuple[str, bytes]]) -> bytes:
    blob = build_cfb(streams)
    assert len(blob) % SECTOR == 0
    ole = _open(blob)
    assert {"/".join(p) for p in ole.listdir()} == {path for path, _ in streams}
    for path, data in streams:
        assert ole.get_size(path) == len(data)
        assert ole.openstream(path).read() == data
    _check_red_black(ole)
    assert build_cfb(streams) == blob  # deterministic
    return blob


def _check_red_black(ole: olefile.OleFileIO) -> None:
    """Every storage's children form a BST (CFB order) with valid red-black colouring."""
    entries = ole.direntries

    Key = tuple[int, tuple[int, ...]]

    def walk(sid: int, lo: Key | None, hi: Key | None) -> int:
        if sid == NOSTREAM:
            return 1
        entry = entries[sid]
        key = name_key(entry.name)
        assert (lo is None or key > lo) and (hi is None or key < hi)
        left, right = walk(entry.sid_left, lo, key), walk(entry.sid_right, key, hi)
        assert left == right, "unequal black height"
        if entry.color == 0:  # red: children must be black
            for child in (entry.sid_left, entry.sid_right):
                assert child == NOSTREAM or entries[child].color == 1
        return left + int(entry.color == 1)

    for entry in entries:
        if entry is not None and entry.entry_type in (olefile.STGTY_ROOT, olefile.STGTY_STORAGE):
            if entry.sid_child != NOSTREAM:
                assert entries[entry.sid_child].color == 1, "tree root must be black"
            walk(entry.sid_child, None, None)


def test_small_and_large_streams() -> None:
    rnd = random.Random(1)
    _check(
        [
            ("PROJECT", b"x" * 100),
            ("VBA/tiny", b"a"),
            ("VBA/mini_edge", rnd.randbytes(MINI_CUTOFF - 1)),
            ("VBA/cutoff", rnd.randbytes(MINI_CUTOFF)),
            ("VBA/big", rnd.randbytes(70_000)),
            ("VBA/empty", b""),
        ]
    )


def test_many_streams_and_storages() -> None:
    rnd = random.Random(2)
    streams = [
        (f"S{i % 5}/stream{i:03d}", rnd.randbytes(rnd.randrange(0, 9000))) for i in range(200)
    ]
    blob = _check(streams)
    assert len(blob) > 200 * 128  # several directory sectors


def test_enough_data_for_several_fat_sectors() -> None:
    rnd = random.Random(3)
    _check([(f"big{i}", rnd.randbytes(100_000)) for i in range(6)])


def test_names_of_mixed_length_and_case() -> None:
    names = ["b", "A", "aa", "AB", "Zz", "zzz", "dir", "_VBA_PROJECT", "ThisWorkbook", "Sheet10"]
    _check([(name, name.encode()) for name in names])


def test_name_key_orders_by_length_then_uppercase() -> None:
    assert sorted(["bb", "A", "ccc", "a1"], key=name_key) == ["A", "a1", "bb", "ccc"]
    assert name_key("Sheet1") == name_key("SHEET1")


def test_empty_file_opens() -> None:
    ole = _open(build_cfb([]))
    assert ole.listdir() == []


@pytest.mark.parametrize(
    "streams",
    [
        [("a", b""), ("A", b"")],
        [("a/b", b""), ("a", b"")],
        [("bad:name", b"")],
        [("x" * 32, b"")],
        [("", b"")],
    ],
)
def test_rejects_invalid_input(streams: list[tuple[str, bytes]]) -> None:
    with pytest.raises(ValueError):
        build_cfb(streams)
