"""``--clusters-csv``: the dry run's decisions as ``key,cluster``, one line per source row,
for checking the matching from outside (the value of the key column, and the cluster id
shared by the rows that are one legal entity, existing records included)."""

from __future__ import annotations

import csv
from pathlib import Path

from addin.errors import AddinError
from addin.importing.source import Cell, SourceTable
from schema.errors import ErrorCode
from schema.wire_import import RowDecision


def key_values(tables: list[SourceTable], column: str) -> list[Cell]:
    """The value of ``column`` for every source row, in source-row order (1..N over all
    tables); a table without the column gives blanks."""
    if not any(column in t.columns for t in tables):
        allowed = sorted({c for t in tables for c in t.columns})
        raise AddinError(ErrorCode.IMPORT_KEY_COLUMN_UNKNOWN, column=column,
                         allowed=", ".join(allowed)[:500])
    out: list[Cell] = []
    for t in tables:
        i = t.columns.index(column) if column in t.columns else None
        out.extend(None if i is None else row[i] for row in t.rows)
    return out


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_clusters(path: Path, keys: list[Cell], decisions: list[RowDecision]) -> int:
    """Write ``key,cluster`` (UTF-8) for each decision; ``keys[source_row - 1]`` is its key.
    Returns the number of lines written (without the header)."""
    try:
        with path.open("w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["key", "cluster"])
            for d in sorted(decisions, key=lambda d: d.source_row):
                key = keys[d.source_row - 1] if 0 < d.source_row <= len(keys) else None
                out.writerow([_text(key), d.cluster])
    except OSError as exc:
        raise AddinError(ErrorCode.WORKBOOK_LOCKED, path=str(path),
                         detail=f"{type(exc).__name__}: {exc}"[:200]) from exc
    return len(decisions)
