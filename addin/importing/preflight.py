"""What a foreign file really is, and whether it may be handed to a reader at all.

Everything here runs BEFORE python-calamine or the csv module sees the file, and reads
only what it must: the first bytes (the kind of file), the zip directory (sizes, ratios,
member names, via ``addin.safety.member_problem``), the prolog of every XML part (no
DOCTYPE or ENTITY declaration), the cells of each sheet part streamed with a regular
expression (how many cells hold a value, and how far they reach: calamine allocates the
whole rectangle, so a lone cell at XFD1048576 would take gigabytes), and for OLE files the
encryption flag (msoffcrypto-tool). A sheet's declared ``<dimension>`` is never trusted.
"""

from __future__ import annotations

import re
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from defusedxml import ElementTree as SafeET

from addin.errors import AddinError
from addin.importing.biff8 import xls_extents
from addin.importing.biff12 import xlsb_extent
from addin.importing.extent import SheetExtent, ods_extents, xlsx_extent
from addin.importing.inflate import member_size_lie
from addin.safety import DEFAULT_LIMITS, Limits, member_problem
from schema.errors import ErrorCode

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
STRICT_NS = b"http://purl.oclc.org/ooxml/spreadsheetml/main"
CONTENT_TYPES = "[Content_Types].xml"
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
PROLOG_BYTES = 1024 * 1024  # an XML part's prolog must end within this
CHUNK = 1024 * 1024
FORMAT_NAMES = {  # what the user is told a file was seen as
    "xlsx": "Excel .xlsx", "xlsm": "Excel .xlsm", "xlsb": "Excel .xlsb",
    "xls": "Excel 97-2003 .xls",
    "ods": "OpenDocument .ods", "csv": "text/CSV", "zip": "zip archive", "ole": "OLE compound file",
    "ooxml-encrypted": "encrypted Office file", "binary": "binary file", "html": "web page (HTML)",
    "xml": "XML document", "empty": "empty file",
    "xls-old": "Excel 2.1-4.0 worksheet (before Excel 97)",
    "zip-damaged": "damaged zip package",
    "gzip": "gzip-compressed file",
}


def refuse(code: ErrorCode, path: Path, **params: Any) -> AddinError:
    """An ``AddinError`` naming the file (its name only, never the folder)."""
    return AddinError(code, file=path.name, **params)


def unreadable(path: Path, fmt: str, detail: str) -> AddinError:
    return refuse(ErrorCode.IMPORT_FILE_UNREADABLE, path, format=FORMAT_NAMES.get(fmt, fmt),
                  detail=detail[:300])


def unsafe(path: Path, detail: str) -> AddinError:
    return refuse(ErrorCode.IMPORT_FILE_UNSAFE, path, detail=detail[:300])


# --- what the file is -------------------------------------------------------------------------
def sniff(path: Path) -> str:
    """The real kind of ``path`` from its bytes: xlsx, xlsm, xlsb, ods, zip, xls, ole,
    ooxml-encrypted, html, xml, binary, empty or csv (any other text)."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    if not head:
        return "empty"
    if head.startswith(ZIP_MAGICS):
        return _sniff_zip(path)
    if head.startswith(OLE_MAGIC):
        return _sniff_ole(path)
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head[:1] == b"\x09" and head[1:2] in (b"\x00", b"\x02", b"\x04") and \
            head[2:3] in (b"\x04", b"\x06"):  # a BIFF2-4 BOF record: Excel 2.1-4.0
        return "xls-old"
    return _sniff_text(head)


def part_name(name: str) -> str:
    """A zip member's name as a package part: forward slashes (some writers use
    backslashes), no leading slash."""
    return name.replace("\\", "/").lstrip("/")


def _sniff_zip(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            members = {part_name(n): n for n in zf.namelist()}
            types = b""
            if CONTENT_TYPES in members:
                with zf.open(members[CONTENT_TYPES]) as fh:
                    types = fh.read(PROLOG_BYTES)  # bounded: sizes are not checked yet
            if "xl/workbook.bin" in members or b"sheet.binary.macroEnabled.main" in types:
                return "xlsb"
            if "xl/workbook.xml" in members or b"spreadsheetml.sheet.main" in types or \
                    b"sheet.macroEnabled.main" in types or b"spreadsheetml.template" in types:
                return "xlsm" if any(n.endswith("vbaProject.bin") for n in members) else "xlsx"
            if "mimetype" in members:
                with zf.open(members["mimetype"]) as fh:
                    if fh.read(256).strip() == ODS_MIME:
                        return "ods"
            if "content.xml" in members and "META-INF/manifest.xml" in members:
                return "ods"
    except Exception:  # zipfile's and zlib's errors on a damaged package: told as damaged
        return "zip-damaged"
    return "zip"


def _sniff_ole(path: Path) -> str:
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            streams = {"/".join(s) for s in ole.listdir()}
    except (OSError, ValueError, TypeError, IndexError) as exc:  # olefile's own checks
        del exc
        return "ole"
    if "EncryptionInfo" in streams or "EncryptedPackage" in streams:
        return "ooxml-encrypted"
    if "Workbook" in streams or "Book" in streams:
        return "xls"
    return "ole"


def _sniff_text(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        body = head.decode("utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig",
                           errors="ignore")
    elif b"\x00" in head:
        enc = unicode_without_bom(head)
        if enc is None:
            return "binary"
        body = head.decode(enc, errors="ignore")
    else:
        body = head.decode("latin-1")
    start = body.lstrip()[:2000].lower()
    if start.startswith(("<!doctype html", "<html")) or "<table" in start[:500]:
        return "html"
    if start.startswith("<?xml"):
        return "xml"
    return "csv"


def _reads_as_text(sample: bytes, encoding: str, unit: int) -> bool:
    for cut in (sample, sample[:-unit]):  # the sample may end inside a character
        try:
            text = cut.decode(encoding)
        except UnicodeDecodeError:
            continue
        return bool(text) and all(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return False


def unicode_without_bom(sample: bytes) -> str | None:
    """``utf-32-le``/``-be`` or ``utf-16-le``/``-be`` when ``sample`` (holding NUL bytes)
    reads as text in that form: printable characters, line breaks and tabs only. A UTF-32
    BOM is named too (``utf-32``; a UTF-16 BOM never reaches here)."""
    if sample[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return "utf-32"
    n4 = len(sample) // 4 * 4
    quads = n4 // 4
    if quads and sample[2:n4:4].count(0) == quads and sample[3:n4:4].count(0) == quads and \
            _reads_as_text(sample[:n4], "utf-32-le", 4):
        return "utf-32-le"
    if quads and sample[0:n4:4].count(0) == quads and sample[1:n4:4].count(0) == quads and \
            _reads_as_text(sample[:n4], "utf-32-be", 4):
        return "utf-32-be"
    sample = sample[: len(sample) - len(sample) % 2]
    # ASCII characters (delimiters, line breaks, digits) put their NUL byte second in LE
    big_endian_first = sample[0::2].count(0) > sample[1::2].count(0)
    for enc in ("utf-16-be", "utf-16-le") if big_endian_first else ("utf-16-le", "utf-16-be"):
        if _reads_as_text(sample, enc, 2):
            return enc
    return None


# --- OLE files ---------------------------------------------------------------------------------
def check_ole(path: Path, fmt: str, max_cells: int) -> None:
    """Encrypted OOXML and password-protected .xls are refused by name; other OLE files
    (Word, PowerPoint...) are not spreadsheets; an .xls sheet's cells are counted
    (``addin.importing.biff8``)."""
    if fmt == "ooxml-encrypted":
        raise refuse(ErrorCode.IMPORT_FILE_ENCRYPTED, path)
    if fmt == "ole":
        raise unreadable(path, fmt, "no Workbook stream (not an Excel file)")
    import msoffcrypto

    try:
        with path.open("rb") as fh:
            encrypted = bool(msoffcrypto.OfficeFile(fh).is_encrypted())
    except Exception:  # BIFF5 or damaged records: calamine decides (it names a password too)
        encrypted = False
    if encrypted:
        raise refuse(ErrorCode.IMPORT_FILE_ENCRYPTED, path)
    _check_xls_cells(path, CellBudget(max_cells))


def _check_xls_cells(path: Path, budget: CellBudget) -> None:
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            name = next((s for s in ("Workbook", "Book", "WORKBOOK", "BOOK") if ole.exists(s)),
                        None)
            stream = ole.openstream(name).read() if name else b""
    except (OSError, ValueError, TypeError, IndexError, struct.error) as exc:
        raise unreadable(path, "xls", f"{type(exc).__name__}: {exc}") from exc
    for sheet, extent in xls_extents(stream):
        budget.take(path, sheet, extent)


# --- zip packages ------------------------------------------------------------------------------
def check_package(path: Path, fmt: str, max_cells: int,
                  limits: Limits = DEFAULT_LIMITS) -> bool:
    """Refuse a hostile or broken xlsx/xlsm/xlsb/ods before calamine opens it; returns
    whether it is Strict Open XML (calamine reads it; a failure is then told by that name)."""
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise unsafe(path, f"{size} bytes, more than {limits.max_file_bytes}")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > limits.max_members:
                raise unsafe(path, f"{len(infos)} parts, more than {limits.max_members}")
            problem = member_problem(infos, limits)
            if problem is not None:
                raise unsafe(path, problem.detail + (f" (limit {problem.limit})"
                                                     if problem.limit else ""))
            for info in infos:
                _check_size(path, fmt, info)
                if info.filename.lower().endswith((".xml", ".rels", ".vml")):
                    _check_prolog(path, zf, info.filename)
            budget = CellBudget(max_cells)
            if fmt == "ods":
                _check_ods(path, zf, budget)
            elif fmt in ("xlsx", "xlsm"):
                return _check_xlsx(path, zf, budget)
            elif fmt == "xlsb":
                _check_xlsb(path, zf, budget)
            return False
    except AddinError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            NotImplementedError, SafeET.ParseError) as exc:
        raise unreadable(path, fmt, f"{type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # defusedxml's refusals (DTDForbidden...) and zlib errors
        raise unreadable(path, fmt, f"{type(exc).__name__}: {exc}") from exc


def _check_size(path: Path, fmt: str, info: zipfile.ZipInfo) -> None:
    """The member holds what the zip directory declares (``addin.importing.inflate``)."""
    if info.is_dir():
        return
    lie = member_size_lie(path, info)
    if lie is not None and lie.lie:
        raise unsafe(path, str(lie))
    if lie is not None:
        raise unreadable(path, fmt, str(lie))


def _check_prolog(path: Path, zf: zipfile.ZipFile, member: str) -> None:
    """No DOCTYPE/ENTITY before the root element of an XML part (entity expansion, XXE)."""
    with zf.open(member) as fh:
        head = fh.read(PROLOG_BYTES)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:2] in (b"<\x00", b"\x00<"):
        enc = "utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else (
            "utf-16-le" if head[:1] == b"<" else "utf-16-be")
        head = head.decode(enc, errors="ignore").encode("utf-8")
    root = re.search(rb"<[A-Za-z_]", head)
    prolog = head if root is None else head[:root.start()]
    if re.search(rb"<!\s*(DOCTYPE|ENTITY)", prolog, re.IGNORECASE):
        raise unsafe(path, f"{member} declares a DOCTYPE/ENTITY (XML entity attack)")
    if root is None and len(head) >= PROLOG_BYTES:
        raise unsafe(path, f"{member} has no element in its first {PROLOG_BYTES} bytes")


def _sheet_names(zf: zipfile.ZipFile) -> dict[str, str]:
    """``xl/worksheets/sheet1.xml`` -> the sheet's name, from workbook.xml and its rels."""
    try:
        book = SafeET.fromstring(zf.read("xl/workbook.xml"))
        rels = SafeET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, SafeET.ParseError):
        return {}
    targets = {r.get("Id"): r.get("Target") or "" for r in rels.iter() if r.get("Id")}
    out: dict[str, str] = {}
    for el in book.iter():
        if el.tag.endswith("}sheet") and el.get("name"):
            rid = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
            target = targets.get(rid, "").lstrip("/")
            out[target if target.startswith("xl/") else "xl/" + target] = el.get("name", "")
    return out


def _check_xlsx(path: Path, zf: zipfile.ZipFile, budget: CellBudget) -> bool:
    strict = False
    names = _sheet_names(zf)
    for info in zf.infolist():
        part = part_name(info.filename)
        if part.endswith("workbook.xml"):
            with zf.open(info) as fh:
                strict = strict or STRICT_NS in fh.read(PROLOG_BYTES)
        elif "worksheets/" in part and part.endswith(".xml"):
            extent = xlsx_extent(lambda info=info: _chunks(zf, info))  # type: ignore[misc]
            budget.take(path, names.get(part, part.rsplit("/", 1)[-1]), extent)
    return strict


def _check_xlsb(path: Path, zf: zipfile.ZipFile, budget: CellBudget) -> None:
    for info in zf.infolist():
        part = info.filename
        if "worksheets/" in part_name(part) and part.endswith(".bin"):
            budget.take(path, part.rsplit("/", 1)[-1], xlsb_extent(_chunks(zf, info)))


@dataclass(slots=True)
class CellBudget:
    """The cells one file may hold, over all its sheets (each sheet's rectangle too)."""

    max_cells: int
    used: int = 0

    def take(self, path: Path, sheet: str, extent: SheetExtent) -> None:
        """Count ``extent`` in; ``IMPORT_TOO_MANY_CELLS`` naming the sheet when over."""
        self.used += extent.cells
        if self.used > self.max_cells:
            raise refuse(ErrorCode.IMPORT_TOO_MANY_CELLS, path, sheet=sheet,
                         count=f"{extent.cells}" if self.used == extent.cells else
                         f"{extent.cells} ({self.used} with the sheets before it)",
                         max=self.max_cells)
        if extent.area > max(self.max_cells, 1):
            raise refuse(ErrorCode.IMPORT_TOO_MANY_CELLS, path, sheet=sheet,
                         count=f"{extent.area} (its {extent.cells} values reach row "
                               f"{extent.rows}, column {extent.cols})", max=self.max_cells)


def _chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    with zf.open(info) as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def _check_ods(path: Path, zf: zipfile.ZipFile, budget: CellBudget) -> None:
    if "META-INF/manifest.xml" in zf.namelist() and \
            b"encryption-data" in zf.read("META-INF/manifest.xml"):
        raise refuse(ErrorCode.IMPORT_FILE_ENCRYPTED, path)
    with zf.open("content.xml") as fh:
        for sheet, extent in ods_extents(fh):
            budget.take(path, sheet, extent)
