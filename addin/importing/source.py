"""What a foreign file becomes before it is mapped: tables of cells under a found header,
and the mapping of their columns to dictionary fields.

``addin.importing.files.read_tables`` turns a file into ``SourceTable``s;
``addin.importing.mapping`` suggests, edits, saves and applies a ``Mapping``; the import
command sends the mapped rows to the bridge (``schema.wire_import``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

Cell = str | int | float | bool | dt.date | dt.datetime | dt.time | dt.timedelta | None
IGNORED = ""  # a column mapped to nothing


@dataclass(frozen=True)
class SourceTable:
    """One sheet (or a whole text file) below its header row.

    ``rows[i]`` is source row ``row_numbers[i]`` (1-based, as the user sees it in the
    file); blank rows are dropped, every row is as wide as ``columns``.
    """

    file: str
    sheet: str | None
    format: str  # what the file really is: xlsx, xlsm, xls, ods, csv
    header_row: int
    columns: list[str]
    rows: list[list[Cell]]
    row_numbers: list[int]
    encoding: str | None = None  # text files only
    delimiter: str | None = None  # text files only


@dataclass
class Mapping:
    """Source column label -> ``entity.field`` (``customer.name``, ``contact.email``) or
    ``IGNORED``. ``entity`` is the main entity of the import."""

    entity: str
    columns: dict[str, str] = field(default_factory=dict)
    name: str | None = None

    def targets(self) -> dict[str, list[str]]:
        """``entity -> [field, ...]`` of the mapped columns."""
        out: dict[str, list[str]] = {}
        for target in self.columns.values():
            if target != IGNORED:
                ent, _, fld = target.partition(".")
                out.setdefault(ent, []).append(fld)
        return out

    def to_json(self) -> dict[str, object]:
        return {"entity": self.entity, "columns": dict(self.columns), "name": self.name}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Mapping:
        columns = data.get("columns") or {}
        if not isinstance(columns, dict):
            raise ValueError("columns must be an object")
        return cls(entity=str(data["entity"]), columns={str(k): str(v) for k, v in columns.items()},
                   name=None if data.get("name") is None else str(data["name"]))
