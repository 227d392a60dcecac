"""Read a dry run's report workbook back: which import it belongs to and the user's
choices on its Review sheet (merge / new / skip, and the fields whose incoming value wins).

Headers and choices are recognised in either language (``addin.importing.words``), so a
report written in English and edited by a Chinese colleague still reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

from addin.errors import AddinError
from addin.importing.words import CHOICES, REVIEW, SHEETS, choice_of, pick, yes
from schema.errors import ErrorCode, Lang, as_lang
from schema.wire_import import Choice, RowChoice


@dataclass
class ReviewedReport:
    """A report as the user left it."""

    import_id: str
    server_url: str
    entity: str
    lang: Lang
    choices: list[RowChoice] = field(default_factory=list)


@dataclass
class _Pending:
    choice: Choice | None = None
    record_id: str | None = None
    keep: list[str] = field(default_factory=list)
    keep_existing: list[str] = field(default_factory=list)


def _bad(path: Path, detail: str) -> AddinError:
    return AddinError(ErrorCode.IMPORT_REPORT_INVALID, path=str(path), detail=detail)


def _sheet(book: Any, key: str, path: Path) -> Worksheet:
    for name in SHEETS[key]:
        if name in book.sheetnames:
            ws: Worksheet = book[name]
            return ws
    raise _bad(path, f"sheet {' / '.join(SHEETS[key])} missing")


def _summary(ws: Worksheet) -> dict[str, str]:
    out: dict[str, str] = {}
    for row in ws.iter_rows(min_row=1, max_col=3, values_only=True):
        if row and isinstance(row[0], str) and len(row) > 2 and row[2] is not None:
            out[row[0]] = str(row[2])
    return out


def _columns(header: tuple[Any, ...], path: Path) -> dict[str, int]:
    labels = {label: c.key for c in REVIEW for label in (c.zh, c.en)}
    index = {labels[str(v).strip()]: i for i, v in enumerate(header)
             if v is not None and str(v).strip() in labels}
    missing = [c.key for c in REVIEW if c.key in ("source_row", "choice") and c.key not in index]
    if missing:
        raise _bad(path, f"Review columns missing: {', '.join(missing)}")
    return index


def _choices(ws: Worksheet, path: Path, lang: Lang) -> list[RowChoice]:
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        return []
    col = _columns(header, path)
    pending: dict[int, _Pending] = {}

    def cell(row: tuple[Any, ...], key: str) -> Any:
        i = col.get(key)
        return row[i] if i is not None and i < len(row) else None

    for number, row in enumerate(rows, start=2):
        raw = cell(row, "source_row")
        if raw is None or str(raw).strip() == "":
            continue
        try:
            source_row = int(float(str(raw)))
        except ValueError:
            raise _bad(path, f"{ws.title} row {number}: source row “{raw}”") from None
        item = pending.setdefault(source_row, _Pending())
        try:
            choice = choice_of(cell(row, "choice"))
        except KeyError:
            allowed = " / ".join(pick(w, lang) for w in CHOICES.values())
            raise AddinError(ErrorCode.IMPORT_REPORT_BAD_CHOICE, sheet=ws.title, row=number,
                             value=str(cell(row, "choice")), allowed=allowed) from None
        item.choice = item.choice or choice
        item.record_id = item.record_id or _text(cell(row, "record_id"))
        _take(item, _text(cell(row, "field_key")), cell(row, "take_incoming"),
              _text(cell(row, "winner")))
    return [RowChoice(source_row=n, choice=p.choice or "merge",
                      record_id=p.record_id if (p.choice or "merge") == "merge" else None,
                      keep=p.keep, keep_existing=p.keep_existing)
            for n, p in sorted(pending.items())
            if p.choice is not None or p.keep or p.keep_existing]


def _take(item: _Pending, key: str | None, take: Any, winner: str | None) -> None:
    """A difference's “take the incoming value”: yes over a value the dry run did not give
    the win is ``keep``; no over one it did (newer) is ``keep_existing``; the answer the
    report suggested sends nothing, so confirm decides by the times as they are then (a
    value edited since the dry run is newer)."""
    if not key:
        return
    code = key.partition(".")[2] or key
    if yes(take) and winner != "incoming":
        item.keep.append(code)
    elif not yes(take) and winner == "incoming":
        item.keep_existing.append(code)


def _text(value: Any) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def read_report(path: Path) -> ReviewedReport:
    """The import id, server and the Review sheet's choices of the report at ``path``."""
    if not path.is_file():
        raise AddinError(ErrorCode.IMPORT_SOURCE_NOT_FOUND, path=str(path))
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a file that is not a workbook
        raise _bad(path, f"{type(exc).__name__}: {exc}"[:200]) from exc
    try:
        meta = _summary(_sheet(book, "summary", path))
        if not meta.get("import_id"):
            raise _bad(path, "no import id on the summary sheet")
        lang = as_lang(meta.get("lang"))
        choices = _choices(_sheet(book, "review", path), path, lang)
    finally:
        book.close()
    return ReviewedReport(meta["import_id"], meta.get("server_url", ""),
                          meta.get("entity", ""), lang, choices)
