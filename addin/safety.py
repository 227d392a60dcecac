"""Checks a workbook file must pass BEFORE it is opened: size, zip sanity, zip bombs, rows.

openpyxl trusts what a file declares (the sheet dimension, the zip directory); a hostile or
broken file could exhaust memory. Everything here reads the zip directory and streams the
sheet XML with ``defusedxml``, never building the whole document.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from defusedxml import ElementTree as SafeET

from addin.port import WorkbookError

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@dataclass(frozen=True, slots=True)
class Limits:
    max_file_bytes: int = 100 * 1024 * 1024
    max_unpacked_bytes: int = 1024 * 1024 * 1024
    max_ratio: float = 200.0  # uncompressed / compressed, per member above 1 MiB
    max_members: int = 10_000
    max_rows: int = 200_000  # per sheet


DEFAULT_LIMITS = Limits()


def _mib(n: float) -> str:
    return f"{n / 1024 / 1024:.1f} MiB"


def _count_rows(zf: zipfile.ZipFile, member: str, limits: Limits, label: str) -> int:
    """Rows of one sheet part, streamed; stops at the limit."""
    count = 0
    with zf.open(member) as fh:
        for _event, elem in SafeET.iterparse(fh, events=("end",)):
            if elem.tag == f"{_NS_MAIN}row":
                count += 1
                if count > limits.max_rows:
                    raise WorkbookError("WORKBOOK_TOO_MANY_ROWS", sheet=label,
                                        count=f"> {limits.max_rows}", max=limits.max_rows)
                elem.clear()
            elif elem.tag == f"{_NS_MAIN}sheetData":
                break
    return count


def check_workbook_file(path: Path, limits: Limits = DEFAULT_LIMITS) -> dict[str, int]:
    """Raise :class:`WorkbookError` unless ``path`` is a sane xlsx/xlsm; returns rows per part."""
    if not path.is_file():
        raise WorkbookError("WORKBOOK_NOT_FOUND", path=str(path))
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise WorkbookError("WORKBOOK_TOO_LARGE", path=path.name, detail=_mib(size),
                            max=_mib(limits.max_file_bytes))
    if not zipfile.is_zipfile(path):
        raise WorkbookError("WORKBOOK_INVALID", path=path.name, detail="not a zip package")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > limits.max_members:
                raise WorkbookError("WORKBOOK_TOO_LARGE", path=path.name,
                                    detail=f"{len(infos)} parts", max=limits.max_members)
            names = {i.filename for i in infos}
            for required in ("[Content_Types].xml", "xl/workbook.xml"):
                if required not in names:
                    raise WorkbookError("WORKBOOK_INVALID", path=path.name,
                                        detail=f"{required} is missing")
            unpacked = sum(i.file_size for i in infos)
            if unpacked > limits.max_unpacked_bytes:
                raise WorkbookError("WORKBOOK_TOO_LARGE", path=path.name,
                                    detail=f"{_mib(unpacked)} unpacked",
                                    max=_mib(limits.max_unpacked_bytes))
            for i in infos:
                if i.filename.startswith("/") or ".." in i.filename.split("/"):
                    raise WorkbookError("WORKBOOK_INVALID", path=path.name,
                                        detail=f"unsafe part name {i.filename!r}")
                ratio = i.file_size / max(i.compress_size, 1)
                if i.file_size > 1024 * 1024 and ratio > limits.max_ratio:
                    raise WorkbookError("WORKBOOK_TOO_LARGE", path=path.name,
                                        detail=f"{i.filename} expands {ratio:.0f}x",
                                        max=f"{limits.max_ratio:.0f}x")
            bad = zf.testzip() if size <= 20 * 1024 * 1024 else None
            if bad is not None:
                raise WorkbookError("WORKBOOK_INVALID", path=path.name,
                                    detail=f"corrupt part {bad}")
            return {n: _count_rows(zf, n, limits, n.rsplit("/", 1)[-1]) for n in sorted(names)
                    if n.startswith("xl/worksheets/") and n.endswith(".xml")}
    except WorkbookError:
        raise
    except (zipfile.BadZipFile, OSError, SafeET.ParseError, ValueError) as exc:
        raise WorkbookError("WORKBOOK_INVALID", path=path.name, detail=str(exc)[:200]) from exc
    except Exception as exc:  # defusedxml's DTD/entity refusals and other parser errors
        raise WorkbookError("WORKBOOK_INVALID", path=path.name,
                            detail=f"{type(exc).__name__}: {exc}"[:200]) from exc
