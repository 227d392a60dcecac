"""Checks a workbook file must pass BEFORE it is opened: size, zip sanity, zip bombs, rows.

openpyxl trusts what a file declares (the sheet dimension, the zip directory); a hostile or
broken file could exhaust memory. Everything here reads the zip directory and streams the
sheet XML with ``defusedxml``, never building the whole document.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from defusedxml import ElementTree as SafeET

from addin.port import WorkbookError
from schema.errors import ErrorCode

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
                    raise WorkbookError(ErrorCode.WORKBOOK_TOO_MANY_ROWS, sheet=label,
                                        count=f"> {limits.max_rows}", max=limits.max_rows)
                elem.clear()
            elif elem.tag == f"{_NS_MAIN}sheetData":
                break
    return count


def check_workbook_file(path: Path, limits: Limits = DEFAULT_LIMITS) -> dict[str, int]:
    """Raise :class:`WorkbookError` unless ``path`` is a sane xlsx/xlsm; returns rows per part."""
    size = _check_file(path, limits)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_members(path, infos, limits)
            bad = zf.testzip() if size <= 20 * 1024 * 1024 else None
            if bad is not None:
                raise WorkbookError(ErrorCode.WORKBOOK_INVALID, path=path.name,
                                    detail=f"corrupt part {bad}")
            return {i.filename: _count_rows(zf, i.filename, limits,
                                            i.filename.rsplit("/", 1)[-1])
                    for i in sorted(infos, key=lambda i: i.filename)
                    if i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml")}
    except WorkbookError:
        raise
    except (zipfile.BadZipFile, OSError, SafeET.ParseError, ValueError) as exc:
        raise WorkbookError(ErrorCode.WORKBOOK_INVALID, path=path.name,
                            detail=str(exc)[:200]) from exc
    except Exception as exc:  # defusedxml's DTD/entity refusals and other parser errors
        raise WorkbookError(ErrorCode.WORKBOOK_INVALID, path=path.name,
                            detail=f"{type(exc).__name__}: {exc}"[:200]) from exc


def _check_file(path: Path, limits: Limits) -> int:
    """The file exists, is not too large and is a zip package; returns its size."""
    if not path.is_file():
        raise WorkbookError(ErrorCode.WORKBOOK_NOT_FOUND, path=str(path))
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise WorkbookError(ErrorCode.WORKBOOK_TOO_LARGE, path=path.name, detail=_mib(size),
                            max=_mib(limits.max_file_bytes))
    if not zipfile.is_zipfile(path):
        raise WorkbookError(ErrorCode.WORKBOOK_INVALID, path=path.name, detail="not a zip package")
    return size


def _check_members(path: Path, infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Part count, the required parts, unpacked size, safe names, no zip bomb."""
    if len(infos) > limits.max_members:
        raise WorkbookError(ErrorCode.WORKBOOK_TOO_LARGE, path=path.name,
                            detail=f"{len(infos)} parts", max=limits.max_members)
    names = {i.filename for i in infos}
    for required in ("[Content_Types].xml", "xl/workbook.xml"):
        if required not in names:
            raise WorkbookError(ErrorCode.WORKBOOK_INVALID, path=path.name,
                                detail=f"{required} is missing")
    problem = member_problem(infos, limits)
    if problem is not None:
        code = (ErrorCode.WORKBOOK_INVALID if problem.kind == "unsafe_name"
                else ErrorCode.WORKBOOK_TOO_LARGE)
        raise WorkbookError(code, path=path.name, detail=problem.detail, max=problem.limit)


@dataclass(frozen=True, slots=True)
class MemberProblem:
    """Why a zip package's directory is refused before any part is read."""

    kind: str  # "too_large" (unpacked total), "bomb" (ratio), "unsafe_name"
    detail: str
    limit: str = ""


def unsafe_member_name(name: str) -> bool:
    """An absolute name, a drive letter or a ``..`` step, in either slash direction."""
    steps = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in steps or bool(re.match(r"[A-Za-z]:", name))


def member_problem(infos: list[zipfile.ZipInfo], limits: Limits) -> MemberProblem | None:
    """The first reason to refuse a package from its directory alone (unpacked size, a
    member that expands too much, an unsafe member name), or None. Shared by the CRM
    workbook checks and the import of foreign files (``addin.importing.preflight``)."""
    unpacked = sum(i.file_size for i in infos)
    if unpacked > limits.max_unpacked_bytes:
        return MemberProblem("too_large", f"{_mib(unpacked)} unpacked",
                             _mib(limits.max_unpacked_bytes))
    for i in infos:
        if unsafe_member_name(i.filename):
            return MemberProblem("unsafe_name", f"unsafe part name {i.filename!r}")
        ratio = i.file_size / max(i.compress_size, 1)
        if i.file_size > 1024 * 1024 and ratio > limits.max_ratio:
            return MemberProblem("bomb", f"{i.filename} expands {ratio:.0f}x",
                                 f"{limits.max_ratio:.0f}x")
    return None


# the package: every relationship points at a part, every part has a content type ------------
_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
CONTENT_TYPES = "[Content_Types].xml"
# relationships a package can lose without losing data (drawings of notes, printer setup...):
# a dangling one of these is dropped on open, with the element of the source part using it
_OPTIONAL_REL_TYPES = ("/vmlDrawing", "/comments", "/printerSettings", "/ctrlProp",
                       "/image", "/drawing")
_EXTENSION_TYPES = {"vml": "application/vnd.openxmlformats-officedocument.vmlDrawing",
                    "rels": "application/vnd.openxmlformats-package.relationships+xml",
                    "png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg",
                    "emf": "image/x-emf", "bin": "application/vnd.ms-office.vbaProject"}


@dataclass(frozen=True, slots=True)
class PackageProblem:
    """Something wrong in the zip package itself (not in the cells)."""

    kind: str  # "missing_part" (a relationship's target is absent) or "no_content_type"
    part: str  # the .rels part, or the part without a content type
    target: str = ""  # the missing part
    rel_id: str = ""
    rel_type: str = ""

    def __str__(self) -> str:
        if self.kind == "missing_part":
            return f"{self.part} ({self.rel_id}) points at a missing part {self.target}"
        return f"{self.part} has no content type"


def rels_source(rels_part: str) -> str:
    """``xl/worksheets/_rels/sheet1.xml.rels`` -> ``xl/worksheets/sheet1.xml`` (root: "")."""
    folder, _, name = rels_part.rpartition("_rels/")
    return folder + name[: -len(".rels")]


def rel_target(rels_part: str, target: str) -> str:
    """The part name a relationship ``target`` of ``rels_part`` resolves to."""
    target = unquote(target.split("#", 1)[0])
    if target.startswith("/"):
        return target.lstrip("/")
    folder = posixpath.dirname(rels_source(rels_part))
    return posixpath.normpath(posixpath.join(folder, target)).lstrip("/")


def _relationships(xml: bytes) -> list[Any]:
    return list(SafeET.fromstring(xml).iter(f"{_REL_NS}Relationship"))


def _typed(parts: set[str], types_xml: bytes) -> set[str]:
    """Parts without a content type in ``[Content_Types].xml``."""
    root = SafeET.fromstring(types_xml)
    defaults = {(d.get("Extension") or "").lower() for d in root.iter(f"{_CT_NS}Default")}
    overrides = {(o.get("PartName") or "").lstrip("/").lower()
                 for o in root.iter(f"{_CT_NS}Override")}
    return {p for p in parts if p != CONTENT_TYPES and not p.endswith("/")
            and p.lower() not in overrides
            and p.rsplit(".", 1)[-1].lower() not in defaults}


def package_problems(source: Path | bytes | zipfile.ZipFile) -> list[PackageProblem]:
    """Every internal relationship whose target is not a part, and every part without a
    content type (the checks Excel makes before it opens a file)."""
    if not isinstance(source, zipfile.ZipFile):
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as zf:
            return package_problems(zf)
    parts = {n for n in source.namelist() if not n.endswith("/")}
    out: list[PackageProblem] = []
    for rels in sorted(p for p in parts if p.endswith(".rels")):
        for rel in _relationships(source.read(rels)):
            if rel.get("TargetMode") == "External":
                continue
            target = rel_target(rels, rel.get("Target") or "")
            if target not in parts:
                out.append(PackageProblem("missing_part", rels, target, rel.get("Id") or "",
                                          rel.get("Type") or ""))
    if CONTENT_TYPES in parts:
        out += [PackageProblem("no_content_type", p)
                for p in sorted(_typed(parts, source.read(CONTENT_TYPES)))]
    return out


def _drop_relationship(parts: dict[str, bytes], problem: PackageProblem) -> None:
    """Remove a dangling relationship and the empty element of its source part using it."""
    rels_xml = parts[problem.part].decode("utf-8")
    rel_id = re.escape(problem.rel_id)
    rels_xml = re.sub(rf"<Relationship\b[^>]*\bId=\"{rel_id}\"[^>]*/>", "", rels_xml)
    parts[problem.part] = rels_xml.encode("utf-8")
    source = rels_source(problem.part)
    if source in parts:
        xml = parts[source].decode("utf-8")
        parts[source] = re.sub(rf"<[\w:]+\s[^<>]*\b[\w]+:id=\"{rel_id}\"[^<>]*/>", "",
                               xml).encode("utf-8")


def _add_default_type(parts: dict[str, bytes], extension: str) -> bool:
    content_type = _EXTENSION_TYPES.get(extension.lower())
    if content_type is None:
        return False
    xml = parts[CONTENT_TYPES].decode("utf-8")
    at = xml.rindex("</Types>")
    element = f'<Default Extension="{extension}" ContentType="{content_type}"/>'
    parts[CONTENT_TYPES] = (xml[:at] + element + xml[at:]).encode("utf-8")
    return True


def repair_package(data: bytes, name: str = "workbook") -> tuple[bytes, list[str]]:
    """``data`` with dangling optional relationships dropped and known part types declared
    (what an older version of the add-in could leave behind); returns the bytes and what was
    repaired. Raises :class:`WorkbookError` when a problem cannot be repaired safely."""
    problems = package_problems(data)
    if not problems:
        return data, []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    done: list[str] = []
    typed: set[str] = set()
    for p in problems:
        repairable = p.kind == "missing_part" and p.rel_type.endswith(_OPTIONAL_REL_TYPES)
        if p.kind == "no_content_type":
            ext = p.part.rsplit(".", 1)[-1].lower()
            repairable = ext in typed or _add_default_type(parts, ext)
            typed.add(ext)
        elif repairable:
            _drop_relationship(parts, p)
        if not repairable:
            raise WorkbookError(ErrorCode.WORKBOOK_INVALID, path=name, detail=str(p))
        done.append(str(p))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for part, blob in parts.items():
            zf.writestr(part, blob)
    out = buf.getvalue()
    left = package_problems(out)
    if left:
        raise WorkbookError(ErrorCode.WORKBOOK_INVALID, path=name, detail=str(left[0]))
    return out, done
