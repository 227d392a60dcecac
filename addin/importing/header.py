"""Find the header row of a foreign sheet, below title rows and merged banners.

A banner or title is a row with one filled cell (a merged banner keeps its text in its first
cell only). A header of two rows, merged banners over sub-headers ("联系人" over "姓名 /
手机", and "公司名称" merged down both rows), reads as combined labels ("联系人 姓名") when
the sheet's merged ranges show it (:func:`two_row_header`). A header row is mostly short,
distinct texts, and scores higher for each cell that is a known label: a dictionary field's
own label (zh or en) or one of its synonyms (``schema.synonyms``), compared after
``schema.names.name_key`` folding. Numbers and dates count against a row: that is data.
Among equal scores the earliest row wins.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from addin.importing.source import Cell
from schema.dictionary import build_dictionary
from schema.names import name_key
from schema.synonyms import FIELD_SYNONYMS

SCAN_ROWS = 30  # the header is looked for in the first rows that hold anything
MAX_LABEL_CHARS = 40
_CJK = re.compile(r"[\u3400-\u9fff]")
_QUALIFIER = re.compile(r"\((?:必填|选填|必须|可选|required|optional)\)|[*＊]")


@dataclass(frozen=True, slots=True)
class Header:
    index: int  # position of the header row in the rows given
    columns: list[str]


def fold_label(text: str) -> str:
    """A label as compared: name-key folding, a trailing ``(必填)``/``*`` dropped."""
    return _QUALIFIER.sub("", name_key(text))


@lru_cache(maxsize=1)
def known_labels() -> frozenset[str]:
    """Every label a header cell may be recognised by (folded)."""
    labels = {fold_label(s) for syns in FIELD_SYNONYMS.values() for s in syns}
    for ent in build_dictionary():
        labels |= {fold_label(f.zh) for f in ent.fields} | {fold_label(f.en) for f in ent.fields}
    labels.discard("")
    return frozenset(labels)


def cell_text(value: Cell) -> str:
    """A header cell as text: integral numbers without ``.0``, blanks as ``""``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _is_label(value: Cell) -> bool:
    if isinstance(value, bool | int | float | dt.date | dt.time | dt.timedelta):
        return False
    text = str(value).strip()
    if not text or len(text) > MAX_LABEL_CHARS:
        return False
    try:
        float(text.replace(",", ""))
        return False
    except ValueError:
        return True


def score_row(row: Sequence[Cell], labels: frozenset[str]) -> float:
    """How much ``row`` looks like a header (0: a banner, a blank or a data row)."""
    filled = [c for c in row if c is not None and cell_text(c) != ""]
    if len(filled) < 2:
        return 0.0
    texts = [cell_text(c) for c in filled if _is_label(c)]
    distinct = len(set(texts))
    others = len(filled) - len(texts)
    known = sum(1 for t in set(texts) if fold_label(t) in labels)
    score = distinct - 2.0 * others - (len(texts) - distinct) + 2.0 * known
    return max(score, 0.0)


def find_header(rows: Sequence[Sequence[Cell]], labels: frozenset[str] | None = None,
                scan: int = SCAN_ROWS) -> Header | None:
    """The header among the first ``scan`` rows, or None when no row looks like one; its
    columns are as many as the header row's cells (the caller widens them to the data).
    A table one column wide has its first filled cell as header."""
    labels = known_labels() if labels is None else labels
    width = max((len(trimmed(r)) for r in rows[:scan]), default=0)
    best, best_score = -1, 0.0
    for i, row in enumerate(rows[:scan]):
        s = score_row(row, labels)
        if s > best_score:
            best, best_score = i, s
    if best < 0 and width == 1:
        best = next((i for i, r in enumerate(rows[:scan]) if trimmed(r)), -1)
        if best >= 0 and not _is_label(rows[best][0]):
            best = -1
    if best < 0:
        return None
    return Header(best, column_names(rows[best], len(trimmed(rows[best]))))


def trimmed(row: Sequence[Cell]) -> Sequence[Cell]:
    """``row`` without its trailing blank cells."""
    end = len(row)
    while end and (row[end - 1] is None or cell_text(row[end - 1]) == ""):
        end -= 1
    return row[:end]


def column_names(header: Iterable[Cell], width: int) -> list[str]:
    """Header cells as unique column names, ``width`` of them: a blank gets ``列N`` (or
    ``Column N`` when the header has no Chinese), a repeated name ``name (2)``, ``(3)``..."""
    cells = [cell_text(c) for c in header]
    cells += [""] * (width - len(cells))
    zh = any(_CJK.search(c) for c in cells)
    out: list[str] = []
    seen: set[str] = set()
    for n, text in enumerate(cells[:max(width, len(trimmed(cells)))], start=1):
        name = text or (f"列{n}" if zh else f"Column {n}")
        candidate, k = name, 2
        while candidate in seen:
            candidate, k = f"{name} ({k})", k + 1
        seen.add(candidate)
        out.append(candidate)
    return out


Merge = tuple[int, int, int, int]  # first row, first col, last row, last col (0-based, the rows')


def _covering(merges: Sequence[Merge], r: int, c: int) -> Merge | None:
    return next((m for m in merges if m[0] <= r <= m[2] and m[1] <= c <= m[3]), None)


def _is_two_rows(rows: Sequence[Sequence[Cell]], up: int, low: int, width: int,
                 merges: Sequence[Merge]) -> bool:
    """Whether rows ``up`` and ``low`` are one header: a cell merged down both, or a banner
    merged across two columns or more of ``up`` (not the whole table: that is a title) with
    labels under it in ``low``."""
    for m in merges:
        if m[0] == up and m[2] >= low and m[1] < width:
            return True
        if m[0] == m[2] == up and m[3] > m[1] and not (m[1] == 0 and m[3] >= width - 1):
            under = [c for c in range(m[1], m[3] + 1)
                     if c < len(rows[low]) and _is_label(rows[low][c])]
            if len(under) >= 2:
                return True
    return False


def two_row_header(rows: Sequence[Sequence[Cell]], index: int, merges: Sequence[Merge]
                   ) -> tuple[int, list[str]] | None:
    """The lower row and the combined labels of a two-row header around row ``index`` (the
    row ``find_header`` chose, the upper or the lower one), or None: a banner's text comes
    before each label under it (``联系人 姓名``), a cell merged down both rows keeps its own."""
    if not merges:
        return None
    for up, low in ((index, index + 1), (index - 1, index)):
        if up < 0 or low >= len(rows):
            continue
        width = max(len(trimmed(rows[up])), len(trimmed(rows[low])))
        if not _is_two_rows(rows, up, low, width, merges):
            continue
        labels = []
        for c in range(width):
            m = _covering(merges, up, c)
            top = cell_text(rows[m[0]][m[1]] if m else (rows[up][c] if c < len(rows[up])
                                                         else None))
            down = _covering(merges, low, c)
            below = "" if down is not None and down[0] <= up else cell_text(
                rows[low][c] if c < len(rows[low]) else None)
            labels.append(f"{top} {below}" if top and below and top != below
                          else top or below)
        return low, column_names(labels, width)
    return None
