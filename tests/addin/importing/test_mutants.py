"""Damaged files: bytes of real files flipped, cut or repeated at random (seeded) never give
a raw library error, a traceback, a crash or a hang: each mutant is read in the memory-limited
child and ends in tables or an ``IMPORT_*`` code."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

from tests.addin.importing.sandbox import read_in_sandbox

CORPUS = Path(__file__).resolve().parents[2] / "data" / "import_corpus"
BASES = ["roo/simple_spreadsheet_from_italo.ods", "calamine/merged_range.xls",
         "phpspreadsheet/issue.3613.xlsx", "roo/header_offset.xlsx",
         "phpspreadsheet/semicolon_separated.csv", "calamine/issues.xlsb"]
PER_BASE = 80


def _mutate(data: bytes, rnd: random.Random) -> bytes:
    buf = bytearray(data)
    kind = rnd.choice(["flip", "cut", "repeat", "zero"])
    at = rnd.randrange(len(buf))
    if kind == "flip":
        for _ in range(rnd.randint(1, 8)):
            buf[rnd.randrange(len(buf))] = rnd.randrange(256)
    elif kind == "cut":
        del buf[at:at + rnd.randint(1, 512)]
    elif kind == "repeat":
        buf[at:at] = buf[at:at + rnd.randint(1, 256)] * rnd.randint(2, 50)
    else:
        buf[at:at + rnd.randint(1, 64)] = bytes(rnd.randint(1, 64))
    return bytes(buf)


def _mutate_member(data: bytes, rnd: random.Random, tmp: Path) -> bytes:
    """A zip whose members are intact but one member's content is damaged."""
    src, dst = tmp / "src.zip", tmp / "dst.zip"
    src.write_bytes(data)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        infos = zin.infolist()
        victim = rnd.choice([i for i in infos if i.file_size > 0])
        for info in infos:
            body = zin.read(info)
            zout.writestr(info.filename, _mutate(body, rnd) if info is victim else body)
    return dst.read_bytes()


def test_mutants_are_read_or_refused_with_a_code(tmp_path: Path) -> None:
    rnd = random.Random(20261202)
    paths = []
    for base in BASES:
        data = (CORPUS / base).read_bytes()
        for n in range(PER_BASE):
            inside = zipfile.is_zipfile(CORPUS / base) and n % 2 == 0
            mutant = _mutate_member(data, rnd, tmp_path) if inside else _mutate(data, rnd)
            path = tmp_path / f"{n:03d}-{Path(base).name}"
            path.write_bytes(mutant)
            paths.append(path)
    results = read_in_sandbox(paths)
    assert sorted(results) == sorted(map(str, paths))
    for name, r in results.items():
        assert "tables" in r or str(r.get("code", "")).startswith("IMPORT_"), (name, r)
        if "code" in r:
            assert Path(name).name in str(r["en"]), (name, r)
