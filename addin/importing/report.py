"""The dry run's report workbook (XlsxWriter): a summary, one Preview row per source row,
the Review sheet of uncertain rows and field differences with their dropdowns, and the
mapping used; in zh-CN or English.

Words and columns come from ``addin.importing.words``; ``addin.importing.review`` reads the
Review sheet back. Text is written as text (never a formula, never a number it looks like).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter
import xlsxwriter.exceptions
from xlsxwriter.worksheet import Worksheet

from addin.errors import AddinError
from addin.importing.source import IGNORED, Mapping
from addin.importing.words import (
    CHOICES,
    DECISIONS,
    MAPPING,
    PREVIEW,
    REVIEW,
    SHEETS,
    SUMMARY,
    SUMMARY_HOWTO,
    SUMMARY_TITLE,
    YES_NO,
    pick,
    reason_words,
    why_words,
)
from schema.dictionary import Dictionary
from schema.errors import ErrorCode, Lang
from schema.wire import Scalar
from schema.wire_import import FieldDifference, ImportRow, RowDecision

REPORT_SUFFIX = ".import-report.xlsx"  # a report is written beside its source as NAME + this
MAX_CELL = 32_767  # characters a cell holds
DECISION_COLOURS = {"new": "#E2EFDA", "match": "#DDEBF7", "duplicate": "#FFF2CC",
                    "branch": "#EDE7F6", "uncertain": "#FCE4D6", "invalid": "#F8CBAD"}


@dataclass
class ReportData:
    """What the report shows: the import, its decisions and the rows as mapped."""

    import_id: str
    server_url: str
    entity: str
    files: list[str]
    counts: dict[str, int]
    decisions: list[RowDecision]
    rows: list[ImportRow]
    mapping: Mapping
    lang: Lang


def sheet_name(key: str, lang: Lang) -> str:
    return pick(SHEETS[key], lang)


def field_label(dictionary: Dictionary, target: str, lang: Lang) -> str:
    """``客户 › 公司名称`` for ``customer.name`` (the code itself when unknown)."""
    ent, _, fld = target.partition(".")
    try:
        entity = dictionary.entity(ent)
        f = entity.field(fld)
    except KeyError:
        return target
    return f"{entity.label(lang)} › {f.zh if lang == 'zh' else f.en}"


class _Writer:
    """One report workbook being written, sheet by sheet, row by row."""

    def __init__(self, path: Path, data: ReportData, dictionary: Dictionary) -> None:
        self.data, self.dictionary, self.lang = data, dictionary, data.lang
        self.book = xlsxwriter.Workbook(str(path), {
            "constant_memory": True, "strings_to_formulas": False,
            "strings_to_numbers": False, "strings_to_urls": False})
        self.head = self.book.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1,
                                          "text_wrap": True, "valign": "top"})
        self.wrap = self.book.add_format({"text_wrap": True, "valign": "top"})
        self.score = self.book.add_format({"num_format": "0.00"})
        self.decision = {k: self.book.add_format({"bg_color": c})
                         for k, c in DECISION_COLOURS.items()}
        self.targets = [(col, t) for col, t in data.mapping.columns.items() if t != IGNORED]
        self.column_of = {t: col for col, t in self.targets}

    def put(self, ws: Worksheet, r: int, c: int, value: Any, fmt: Any = None) -> None:
        if value is None or value == "":
            return
        if isinstance(value, bool | int | float):
            ws.write(r, c, value, fmt)
        else:
            ws.write_string(r, c, str(value)[:MAX_CELL], fmt)

    def header(self, ws: Worksheet, columns: list[tuple[str, float]]) -> None:
        for c, (label, width) in enumerate(columns):
            ws.set_column(c, c, width)
            ws.write_string(0, c, label, self.head)
        ws.freeze_panes(1, 0)

    # -- sheets ---------------------------------------------------------------------------

    def summary(self) -> None:
        d, lang = self.data, self.lang
        ws = self.book.add_worksheet(sheet_name("summary", lang))
        ws.set_column(0, 0, 12, None, {"hidden": True})
        ws.set_column(1, 1, 22)
        ws.set_column(2, 2, 70)
        ws.write_string(0, 1, pick(SUMMARY_TITLE, lang), self.head)
        values = {"import_id": d.import_id, "server_url": d.server_url, "entity": d.entity,
                  "files": "\n".join(d.files), "rows": len(d.rows), "lang": lang}
        r = 2
        for key, words in SUMMARY:
            ws.write_string(r, 0, key)
            ws.write_string(r, 1, pick(words, lang))
            self.put(ws, r, 2, values[key], self.wrap)
            r += 1
        r += 1
        for code, words in DECISIONS.items():
            ws.write_string(r, 0, f"count.{code}")
            ws.write_string(r, 1, pick(words, lang), self.decision[code])
            ws.write_number(r, 2, d.counts.get(code, 0))
            r += 1
        ws.write_string(r + 1, 2, pick(SUMMARY_HOWTO, lang), self.wrap)

    def preview(self) -> None:
        lang = self.lang
        ws = self.book.add_worksheet(sheet_name("preview", lang))
        cols = [(c.label(lang), c.width) for c in PREVIEW]
        cols += [(f"{col} → {field_label(self.dictionary, t, lang)}", 18)
                 for col, t in self.targets]
        self.header(ws, cols)
        ws.freeze_panes(1, 4)
        by_row = {row.source_row: row for row in self.data.rows}
        keys = [c.key for c in PREVIEW]
        at_decision, at_score = keys.index("decision"), keys.index("score")
        split = [(c, *t.partition(".")[::2]) for c, (_col, t) in
                 enumerate(self.targets, start=len(PREVIEW))]
        put, r = self.put, 0
        for r, dec in enumerate(self.data.decisions, start=1):
            for c, value in enumerate(self.preview_cells(dec)):
                if value is not None and value != "":
                    fmt = (self.decision.get(dec.decision) if c == at_decision
                           else self.score if c == at_score else None)
                    put(ws, r, c, value, fmt)
            row = by_row.get(dec.source_row)
            if row is not None:
                for c, ent, fld in split:
                    put(ws, r, c, row.values.get(ent, {}).get(fld))
        ws.autofilter(0, 0, max(r, 1), len(cols) - 1)

    def preview_cells(self, d: RowDecision) -> list[Scalar]:
        lang, zh = self.lang, self.lang == "zh"
        branch_of: str | None = None
        if d.decision == "branch":
            branch_of = (f"{d.record_name or ''} ({d.record_id})" if d.record_id
                         else (f"源行 {d.parent_row}" if zh else f"row {d.parent_row}"))
        cells = [self.column_of.get(f"{e.entity}.{e.field}") or e.field or "" for e in d.errors]
        values: dict[str, Scalar] = {
            "source_row": d.source_row, "where": d.sheet, "line": d.line,
            "decision": pick(DECISIONS[d.decision], lang), "record_id": d.record_id,
            "record_name": d.record_name, "score": d.score,
            "reasons": reason_words(d.reasons, lang), "duplicate_of": d.duplicate_of,
            "uncertain_of": d.uncertain_of, "branch_of": branch_of,
            "invalid_cell": "\n".join(c for c in cells if c),
            "reason_zh": "\n".join(e.message_zh for e in d.errors),
            "reason_en": "\n".join(e.message_en for e in d.errors),
            "warnings": "\n".join(w.message_zh if zh else w.message_en for w in d.warnings),
            "survivors": "\n".join(
                f"{field_label(self.dictionary, f'{x.entity}.{x.field}', lang)}: "
                f"{why_words(x, lang)}" for x in d.differences)}
        return [values[c.key] for c in PREVIEW]

    def review(self) -> None:
        lang = self.lang
        ws = self.book.add_worksheet(sheet_name("review", lang))
        self.header(ws, [(c.label(lang), c.width) for c in REVIEW])
        last = 0
        for last, cells in enumerate(self.review_lines(), start=1):
            for c, value in enumerate(cells):
                self.put(ws, last, c, value, self.score if REVIEW[c].key == "score" else None)
        keys = [c.key for c in REVIEW]
        if last:
            choice, take = keys.index("choice"), keys.index("take_incoming")
            words = ",".join(pick(w, lang) for w in CHOICES.values())
            ws.data_validation(1, choice, last, choice, {"validate": "list", "source": words})
            yes_no = ",".join(pick(w, lang) for w in YES_NO)
            ws.data_validation(1, take, last, take, {"validate": "list", "source": yes_no})
        ws.autofilter(0, 0, max(last, 1), len(REVIEW) - 1)

    def review_lines(self) -> Iterator[list[Scalar]]:
        lang = self.lang
        merge, no = pick(CHOICES["merge"], lang), pick(YES_NO[1], lang)
        self.yes = pick(YES_NO[0], lang)
        by_row = {row.source_row: row for row in self.data.rows}
        entity = self.data.entity
        try:
            display = self.dictionary.entity(entity).display_field
        except KeyError:
            display = "name"
        for d in self.data.decisions:
            if d.decision != "uncertain" and not d.differences:
                continue
            row = by_row.get(d.source_row)
            base: dict[str, Scalar] = {
                "source_row": d.source_row, "where": d.sheet, "line": d.line,
                "source_name": None if row is None else row.values.get(entity, {}).get(display),
                "decision": pick(DECISIONS[d.decision], lang), "record_id": d.record_id,
                "record_name": d.record_name, "uncertain_of": d.uncertain_of,
                "score": d.score, "reasons": reason_words(d.reasons, lang)}
            default = None if d.decision == "uncertain" else merge
            if d.decision == "uncertain":
                yield [base.get(c.key, default if c.key == "choice" else None) for c in REVIEW]
            for diff in d.differences:
                yield [self.review_cell(c.key, base, diff, default, no) for c in REVIEW]

    def review_cell(self, key: str, base: dict[str, Scalar], diff: FieldDifference,
                    default: str | None, no: str) -> Scalar:
        target = f"{diff.entity}.{diff.field}"
        extra: dict[str, Scalar] = {
            "field": field_label(self.dictionary, target, self.lang), "existing": diff.existing,
            "incoming": diff.incoming, "choice": default,
            "take_incoming": self.yes if diff.winner == "incoming" else no,
            "field_key": target, "why": why_words(diff, self.lang), "winner": diff.winner}
        return extra[key] if key in extra else base.get(key)

    def mapping(self) -> None:
        lang = self.lang
        ws = self.book.add_worksheet(sheet_name("mapping", lang))
        self.header(ws, [(c.label(lang), c.width) for c in MAPPING])
        ignored = "（不导入）" if lang == "zh" else "(not imported)"
        for r, (col, target) in enumerate(self.data.mapping.columns.items(), start=1):
            ws.write_string(r, 0, col)
            ws.write_string(r, 1, field_label(self.dictionary, target, lang)
                            if target != IGNORED else ignored)
            self.put(ws, r, 2, target)

    def close(self) -> None:
        self.book.close()


def write_report(path: Path, data: ReportData, dictionary: Dictionary) -> Path:
    """Write the report workbook to ``path`` (replaced if it exists)."""
    writer = _Writer(path, data, dictionary)
    writer.summary()
    writer.preview()
    writer.review()
    writer.mapping()
    try:
        writer.close()
    except (OSError, xlsxwriter.exceptions.XlsxWriterException) as exc:
        raise AddinError(ErrorCode.WORKBOOK_LOCKED, path=str(path),
                         detail=f"{type(exc).__name__}: {exc}"[:200]) from exc
    return path
