"""Sheets <-> entities: find each entity's sheet, map its columns by the hidden row-1 keys,
convert canonical values to what a cell shows, and hold the ``_base`` merge bases. Nothing
here touches the workbook port: ``addin.book`` reads the tables, these parse them, and
``addin.book`` writes what these build.

:class:`Sheet` is the one home of an entity sheet's state during an action: its cells as
read (and as they will be written), what each row needs (:class:`RowPlan`), the problems
to mark and the Status texts to show.

Columns are found by key, never by position or header text, so users may reorder, rename,
insert and sort. What a user may break is tolerated and reported: a cleared key falls back
to the header label, extra columns are ignored (and kept), a deleted hidden ``_id`` column
is restored at the end (its rows then count as new).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import pandas as pd

from addin.port import AddinError, WorkbookError
from addin.types import FieldCode, FrameLabel, Op, RecordId, SheetRow, Values
from schema.dictionary import Dictionary
from schema.errors import ErrorCode, Lang, render
from schema.layout import (
    BASE_SHEET,
    FIRST_DATA_ROW,
    HEADER_ROW,
    META_SHEET,
    ROW_ID,
    SYSTEM_KEYS,
)
from schema.names import name_key
from schema.types import Entity, Field, FieldType
from schema.values import DEFAULT_TZ, display_value, is_blank

Level = Literal["info", "warning", "error"]
SHEET_PREFIX = "sheet:"
BASE_KEYS = ["entity", "id", "version", "values_json"]
_LABEL_TAIL = re.compile(r"[\s*＊]+$")


@dataclass(frozen=True, slots=True)
class Problem:
    """A message for the user, in both languages, and where it points (``code`` None: a
    plain information line, not a problem)."""

    code: ErrorCode | None
    message_zh: str
    message_en: str
    level: Level = "error"
    sheet: str | None = None
    row: FrameLabel | SheetRow | None = None  # a frame label until written, then a sheet row
    field: str | None = None  # field code or system key

    def message(self, lang: Lang) -> str:
        return self.message_zh if lang == "zh" else self.message_en

    @classmethod
    def of(cls, code: ErrorCode, level: Level = "error", *, sheet: str | None = None,
           row: FrameLabel | SheetRow | None = None,
           field: str | None = None, zh: dict[str, Any] | None = None,
           en: dict[str, Any] | None = None, **params: Any) -> Problem:
        """Rendered from the catalogue; ``{sheet}`` and ``{row}`` are filled in for free."""
        mzh, men = render(code, zh, en, **{"sheet": sheet, "row": row, **params})
        return cls(code, mzh, men, level, sheet, row, field)

    @classmethod
    def from_error(cls, exc: AddinError, level: Level = "error") -> Problem:
        return cls(exc.code, exc.message_zh, exc.message_en, level)


def norm_text(value: Any) -> str:
    """Text folded for matching labels: NFKC, trimmed, case-folded, no trailing ``*``."""
    return _LABEL_TAIL.sub("", unicodedata.normalize("NFKC", str(value)).strip()).casefold()


def entity_sheets(meta: dict[str, str], names: list[str], dictionary: Dictionary) -> dict[str, str]:
    """entity code -> sheet name, in dictionary order (``_meta`` first, then sheet labels)."""
    found: dict[str, str] = {}
    for key, code in meta.items():
        name = key[len(SHEET_PREFIX):]
        if key.startswith(SHEET_PREFIX) and code in dictionary.entities and name in names:
            found.setdefault(code, name)
    for e in dictionary:
        if e.code not in found:
            for label in (e.zh, e.en):
                if label in names:
                    found.setdefault(e.code, label)
    return {e.code: found[e.code] for e in dictionary if e.code in found}


def special_sheet(meta: dict[str, str], names: list[str], code: str) -> str | None:
    """The sheet ``_meta`` maps to ``code`` (``_conflicts``...), else one named ``code``."""
    for key, value in meta.items():
        if key.startswith(SHEET_PREFIX) and value == code and key[len(SHEET_PREFIX):] in names:
            return key[len(SHEET_PREFIX):]
    return code if code in names else None


def require_crm(names: list[str]) -> None:
    for sheet in (META_SHEET, BASE_SHEET):
        if sheet not in names:
            raise WorkbookError(ErrorCode.WORKBOOK_NOT_CRM, sheet=sheet)


@dataclass
class RowPlan:
    """What one row needs: ``op`` None means nothing to send."""

    label: FrameLabel
    op: Op | None
    id: RecordId | None
    current: Values  # canonical values of every field column
    values: Values = field(default_factory=dict)  # what is sent
    base: Values = field(default_factory=dict)
    base_version: int | None = None
    dirty: bool = False  # differs from what was last pulled or pushed
    stale_hash: bool = False  # clean, but ``_hash`` needs rewriting
    cleared: bool = False  # every field blanked by the user (never a delete)
    held: bool = False  # has problems that keep it from being sent (it stays pending)
    unsent: set[FieldCode] = field(default_factory=set)  # edited but read-only: not sent


@dataclass
class Sheet:
    """One entity sheet during an action: its cells (keys, raw cells in positional columns,
    key -> position), what each row needs, and what will be shown on it."""

    sheet: str  # the sheet's name
    entity: Entity
    keys: list[str]
    raw: pd.DataFrame  # data rows only; index = frame label (sheet row when read)
    cols: dict[str, int]
    headers: list[Any] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)  # about the sheet itself, as read
    missing_id: bool = False
    original: pd.DataFrame | None = None
    original_keys: list[str] = field(default_factory=list)
    plans: dict[FrameLabel, RowPlan] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)  # about rows: marked, in Status
    statuses: dict[FrameLabel, str] = field(default_factory=dict)  # Status of rows sent

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    def labels_by_id(self) -> dict[RecordId, FrameLabel]:
        """The row of each record id in the sheet (as planned)."""
        return {p.id: label for label, p in self.plans.items() if p.id}

    def names(self) -> set[str]:
        """Name keys (``schema.names.name_key``) of the records in this sheet, for local
        reference checks: matched as the bridge matches them."""
        display = self.entity.display_field
        return {name_key(str(p.current.get(display))) for p in self.plans.values()
                if p.op not in ("delete", "drop") and p.current.get(display) is not None}

    @property
    def field_codes(self) -> list[str]:
        """Entity fields that have a column, in dictionary order."""
        return [f.code for f in self.entity.fields if f.code in self.cols]

    def fields_frame(self) -> pd.DataFrame:
        """Raw values of the field columns, columns named by field code."""
        codes = self.field_codes
        out = self.raw[[self.cols[c] for c in codes]].copy()
        out.columns = pd.Index(codes)
        return out

    def column(self, key: str) -> pd.Series:
        if key in self.cols:
            return self.raw[self.cols[key]]
        return pd.Series([None] * len(self.raw), index=self.raw.index, dtype=object)

    def get(self, label: FrameLabel, key: str) -> Any:
        return self.raw.at[label, self.cols[key]] if key in self.cols else None

    def set(self, label: FrameLabel, key: str, value: Any) -> None:
        if key in self.cols:
            self.raw.at[label, self.cols[key]] = value

    def assign(self, labels: list[FrameLabel], key: str, values: list[Any]) -> None:
        """Set one column for many rows at once."""
        if labels and key in self.cols:
            self.raw.loc[labels, self.cols[key]] = pd.Series(values, index=labels, dtype=object)

    def update_rows(self, cells: dict[FrameLabel, dict[str, Any]]) -> None:
        """Set many rows' cells (key -> cell value), one column at a time."""
        by_key: dict[str, dict[FrameLabel, Any]] = {}
        for label, row in cells.items():
            for key, value in row.items():
                by_key.setdefault(key, {})[label] = value
        for key, column in by_key.items():
            self.assign(list(column), key, list(column.values()))

    def append_rows(self, rows: list[dict[str, Any]]) -> list[FrameLabel]:
        """Add rows (key -> cell value) at the bottom in one step; returns their labels."""
        if not rows:
            return []
        start = int(self.raw.index.max()) + 1 if len(self.raw) else FIRST_DATA_ROW
        labels = list(range(start, start + len(rows)))
        block = [[None] * self.raw.shape[1] for _ in rows]
        for line, row in zip(block, rows, strict=True):
            for key, value in row.items():
                if key in self.cols:
                    line[self.cols[key]] = value
        extra = pd.DataFrame(block, index=labels, columns=self.raw.columns, dtype=object)
        self.raw = pd.concat([self.raw, extra]) if len(self.raw) else extra
        return labels

    def drop(self, labels: list[FrameLabel]) -> None:
        if labels:
            self.raw = self.raw.drop(index=labels)
            for label in labels:
                self.plans.pop(label, None)

    def sheet_row(self, label: FrameLabel) -> SheetRow:
        """The row ``label`` lands on when the table is written."""
        loc: Any = self.raw.index.get_loc(label)  # unique index: an int position
        return FIRST_DATA_ROW + int(loc)

    def col_number(self, key: str) -> int | None:
        return self.cols[key] + 1 if key in self.cols else None

    def changed(self) -> bool:
        """Whether anything differs from what was read (else writing can be skipped)."""
        if self.original is None or self.keys != self.original_keys:
            return True
        return not (self.raw.shape == self.original.shape and
                    self.raw.index.equals(self.original.index) and self.raw.equals(self.original))


SheetTable = Sheet  # its former name, still imported by modules of parallel branches

def parse_sheet(sheet: str, entity: Entity, keys: list[str], frame: pd.DataFrame) -> Sheet:
    """Map one entity sheet as the port read it (row-1 keys and rows 2.. by sheet row)."""
    width = max(len(keys), frame.shape[1])
    keys = keys + [""] * (width - len(keys))
    raw_keys = list(keys)
    frame = frame.reindex(columns=range(width))
    headers = list(frame.loc[HEADER_ROW]) if HEADER_ROW in frame.index else [None] * width
    data = frame.loc[frame.index >= FIRST_DATA_ROW]
    cols, problems = _map_columns(sheet, entity, keys, headers, data)
    if not any(f.code in cols for f in entity.fields):
        raise WorkbookError(ErrorCode.SHEET_KEYS_MISSING, sheet=sheet)
    missing_id = ROW_ID not in cols
    if missing_id:
        problems.append(Problem.of(ErrorCode.SHEET_ID_COLUMN_MISSING, "warning", sheet=sheet,
                                   column=ROW_ID))
    for key in SYSTEM_KEYS:
        if key not in cols:
            cols[key] = len(keys)
            keys.append(key)
            data = data.copy()
            data[cols[key]] = None
    blank = data.map(is_blank).all(axis=1)
    last = blank[~blank].index.max() if (~blank).any() else FIRST_DATA_ROW - 1
    data = data.loc[data.index <= last].astype(object)
    headers += keys[len(headers):]
    return Sheet(sheet, entity, keys, data, cols, headers, problems, missing_id,
                 data.copy(), list(raw_keys))


def _map_columns(sheet: str, entity: Entity, keys: list[str], headers: list[Any],
                 data: pd.DataFrame) -> tuple[dict[str, int], list[Problem]]:
    """Key -> column position; a cleared key is found again by its header (and repaired in
    ``keys``); duplicate and unknown columns are reported."""
    known = {f.code for f in entity.fields} | set(SYSTEM_KEYS)
    by_label = {norm_text(lbl): f.code for f in entity.fields for lbl in (f.zh, f.en, f.code)}
    cols: dict[str, int] = {}
    problems: list[Problem] = []
    for i, (key, header) in enumerate(zip(keys, headers, strict=True)):
        code = key if key in known else ""
        if not key and not is_blank(header):
            code = by_label.get(norm_text(header), "")
            if code:
                keys[i] = code  # repaired when the sheet is written
        shown = header if not is_blank(header) else key
        if code and code in cols:
            problems.append(Problem.of(ErrorCode.SHEET_DUPLICATE_COLUMN, "warning", sheet=sheet,
                                       column=i + 1, header=shown))
        elif code:
            cols[code] = i
        elif not (is_blank(header) and not key and data[i].map(is_blank).all()):
            problems.append(Problem.of(ErrorCode.SHEET_EXTRA_COLUMN, "warning", sheet=sheet,
                                       column=i + 1, header=shown or ""))
    return cols, problems


# values <-> cells -----------------------------------------------------------------------------
_BOOL = {"zh": ("是", "否"), "en": ("Yes", "No")}


def to_cell(value: Any, f: Field, lang: Lang) -> Any:
    """What a cell shows for canonical ``value``: labels for enums, real dates, 是/否."""
    if value is None:
        return None
    if f.type is FieldType.BOOLEAN:
        return _BOOL[lang][0] if value else _BOOL[lang][1]
    if f.type is FieldType.DATE:
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            return value
    if f.type is FieldType.DATETIME:
        try:
            dt = datetime.fromisoformat(str(value))
        except ValueError:
            return value
        return dt.astimezone(DEFAULT_TZ).replace(tzinfo=None) if dt.tzinfo else dt
    return display_value(value, f, lang)


def to_text(value: Any, f: Field, lang: Lang) -> Any:
    """A canonical value as readable text (for the Conflicts sheet)."""
    shown = to_cell(value, f, lang)
    if isinstance(shown, datetime):
        return shown.strftime("%Y-%m-%d %H:%M")
    if isinstance(shown, date):
        return shown.isoformat()
    return shown


def display_cells(sheet: Sheet, values: Values, lang: Lang) -> dict[str, Any]:
    """What the field cells of a row show for canonical ``values`` (those given only)."""
    return {code: to_cell(values[code], sheet.entity.field(code), lang)
            for code in sheet.field_codes if code in values}


def put_values(sheet: Sheet, label: FrameLabel, values: Values, lang: Lang) -> None:
    """Write canonical ``values`` into a row's field cells (display form)."""
    for code, cell in display_cells(sheet, values, lang).items():
        sheet.set(label, code, cell)


# _base: the last pulled canonical values of every record ---------------------------------------
@dataclass
class BaseRow:
    version: int
    values: Values


@dataclass
class BaseStore:
    rows: dict[tuple[str, RecordId], BaseRow] = field(default_factory=dict)

    def get(self, entity: str, rid: RecordId) -> BaseRow | None:
        return self.rows.get((entity, rid))

    def put(self, entity: str, rid: RecordId, version: int, values: Values) -> None:
        self.rows[(entity, rid)] = BaseRow(version, dict(values))

    def drop(self, entity: str, rid: RecordId) -> None:
        self.rows.pop((entity, rid), None)


def as_int(value: Any) -> int | None:
    if is_blank(value):
        return None
    try:
        return int(float(str(value).strip()))
    except ValueError:
        return None


def parse_base(frame: pd.DataFrame) -> BaseStore:
    """``_base`` as read (entity, id, version, values JSON per row); bad rows are skipped."""
    store = BaseStore()
    for rec in frame.reindex(columns=range(4)).itertuples(index=False, name=None):
        entity, rid, version, values = rec
        if is_blank(entity) or is_blank(rid):
            continue
        try:
            parsed = json.loads(str(values)) if not is_blank(values) else {}
        except ValueError:
            parsed = {}
        store.put(str(entity), str(rid), as_int(version) or 1,
                  parsed if isinstance(parsed, dict) else {})
    return store


def base_frame(store: BaseStore) -> pd.DataFrame:
    """The ``_base`` rows to write (columns :data:`BASE_KEYS`, from sheet row 2)."""
    rows = [[e, i, b.version, json.dumps(b.values, ensure_ascii=False, separators=(",", ":"))]
            for (e, i), b in store.rows.items()]
    return pd.DataFrame(rows, columns=range(4), dtype=object)


# the Conflicts sheet ------------------------------------------------------------------------------
CONFLICT_KEYS = ["entity", "id", "row", "field", "base", "theirs", "mine", "choice"]
CHOICES = {"mine": ("保留我的", "mine"), "theirs": ("采用服务器", "theirs")}


@dataclass
class Conflict:
    """One field both sides changed: values are shown as text; ``choice`` mine/theirs/None."""

    entity: str
    id: RecordId
    row: SheetRow | None
    field: FieldCode
    base: Any
    theirs: Any
    mine: Any
    choice: str | None = None


def _choice(value: Any) -> str | None:
    text = norm_text(value) if not is_blank(value) else ""
    for code, labels in CHOICES.items():
        if text in {code, *(norm_text(lbl) for lbl in labels)}:
            return code
    return None


def parse_conflicts(keys: list[str], frame: pd.DataFrame,
                    dictionary: Dictionary) -> list[Conflict]:
    """The Conflicts sheet as read; rows naming no known entity or field are skipped."""
    cols = {k: i for i, k in enumerate(keys) if k in CONFLICT_KEYS}
    if "id" not in cols or "field" not in cols:
        return []
    entity_by = {norm_text(x): e.code for e in dictionary for x in (e.code, e.zh, e.en)}
    out: list[Conflict] = []
    for rec in frame.loc[frame.index >= FIRST_DATA_ROW].itertuples(index=False, name=None):
        def cell(key: str, rec: tuple[Any, ...] = rec) -> Any:
            return rec[cols[key]] if key in cols and cols[key] < len(rec) else None
        ent = entity_by.get(norm_text(cell("entity") or ""))
        rid, fld = cell("id"), cell("field")
        if ent is None or is_blank(rid) or is_blank(fld):
            continue
        e = dictionary.entity(ent)
        codes = {norm_text(x): f.code for f in e.fields for x in (f.code, f.zh, f.en)}
        code = codes.get(norm_text(fld))
        if code is None:
            continue
        out.append(Conflict(ent, str(rid).strip(), as_int(cell("row")), code, cell("base"),
                            cell("theirs"), cell("mine"), _choice(cell("choice"))))
    return out


def conflicts_frame(conflicts: list[Conflict], dictionary: Dictionary,
                    lang: Lang) -> pd.DataFrame:
    """The Conflicts sheet rows to write (columns :data:`CONFLICT_KEYS`)."""
    idx = 0 if lang == "zh" else 1
    rows = []
    for c in conflicts:
        e = dictionary.entity(c.entity)
        rows.append([e.label(lang), c.id, c.row, e.field(c.field).label(lang), c.base,
                     c.theirs, c.mine, CHOICES[c.choice][idx] if c.choice else None])
    return pd.DataFrame(rows, columns=range(len(CONFLICT_KEYS)), dtype=object)
