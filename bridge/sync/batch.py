"""The state of one push while it runs: each row's change, fate and values, and the context
shared by the steps (decide, check, write).

A row's outcome is recorded in one place, the methods of :class:`Row` (``applied``,
``merged``, ``conflict``, ``reject``, ``warn``); every step calls them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection

from bridge.audit import Entry
from bridge.auth import User
from bridge.db import Database
from bridge.errors import item
from schema.dictionary import Dictionary
from schema.errors import ErrorCode
from schema.types import SCOPE_FIELDS, Field
from schema.values import ValueProblem, parse_value
from schema.wire import ErrorItem, FieldConflict, RowChange, RowResult, RowStatus, WarningItem

LIVE: tuple[RowStatus, ...] = ("applied", "merged")  # the outcomes that write the row


@dataclass(slots=True)
class Result:
    """One row's answer (the wire's ``RowResult``, built cheaply: a push has 10,000).

    Its attributes are ``RowResult``'s fields, name for name (checked below), so the wire
    model is the one place to edit.
    """

    entity: str
    id: str
    row: int
    status: RowStatus = "applied"
    version: int | None = None
    errors: list[ErrorItem] = field(default_factory=list)
    warnings: list[WarningItem] = field(default_factory=list)
    conflicts: list[FieldConflict] = field(default_factory=list)
    server: dict[str, Any] | None = None

    def wire(self) -> dict[str, Any]:
        """The ``RowResult`` JSON object."""
        return {k: _plain(getattr(self, k)) for k in RESULT_KEYS}


RESULT_KEYS = tuple(RowResult.model_fields)
if set(RESULT_KEYS) != set(Result.__dataclass_fields__):  # pragma: no cover - import check
    raise TypeError("bridge.sync.batch.Result must hold exactly RowResult's fields")


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [v.model_dump() if isinstance(v, BaseModel) else v for v in value]
    return value


@dataclass(slots=True)
class Row:
    """One pushed row while the push runs."""

    pos: int
    change: RowChange
    result: Result
    stored: dict[str, Any] | None = None  # the record as stored before this push
    new: dict[str, Any] = field(default_factory=dict)  # full canonical row after the change
    ref_ids: dict[str, str] = field(default_factory=dict)  # reference field -> resolved id
    changed: dict[str, list[Any]] = field(default_factory=dict)  # field -> [old, new]
    unparsed: set[str] = field(default_factory=set)  # pushed fields left as sent in ``new``
    # from an admin's history import (``bridge.sync.history``): stored instead of the push time
    created_at: datetime | None = None
    stage_history: list[tuple[str, datetime]] | None = None

    # -- the outcome: recorded here and nowhere else ---------------------------------------
    def applied(self, version: int | None = None) -> None:
        """The change goes through as sent (``version``: the record's, when known)."""
        self.result.status = "applied"
        self.result.version = version

    def merged(self) -> None:
        """The change goes through, merged with others' changes since its base."""
        self.result.status = "merged"

    def conflict(self, version: int, server: dict[str, Any] | None = None,
                 conflicts: list[FieldConflict] | None = None,
                 errors: list[ErrorItem] | None = None) -> None:
        """Someone else changed (or deleted) the record: nothing is written."""
        self.result.status = "conflict"
        self.result.version = version
        self.result.server = server
        self.result.conflicts = conflicts or []
        self.result.errors = errors or []

    def reject(self, errors: list[ErrorItem]) -> None:
        """The row is refused: nothing is written (and advice given on the way is dropped:
        warnings belong to rows that go through)."""
        self.result.status = "rejected"
        self.result.errors = errors
        self.result.warnings = []

    def warn(self, warning: WarningItem) -> None:
        """Advice on a row that still goes through."""
        self.result.warnings.append(warning)

    @property
    def live(self) -> bool:
        """Still on its way to being written."""
        return self.result.status in LIVE

    @property
    def writes_values(self) -> bool:
        """A live insert or update (the rows whose values are checked)."""
        return self.result.status in LIVE and self.change.op != "delete"


@dataclass
class Ctx:
    db: Database
    dictionary: Dictionary
    conn: Connection
    user: User
    key: str
    seq: int
    audit: list[Entry] = field(default_factory=list)  # written with the changes
    refusals: list[Entry] = field(default_factory=list)  # written even on abort
    _canon: dict[tuple[int, type, Any], tuple[Any, bool]] = field(default_factory=dict)

    def canon(self, raw: Any, f: Field) -> tuple[Any, bool]:
        """The canonical form of a pushed value and True, or the value as sent and False
        when it does not parse (validation reports it); remembered per field, since a
        batch repeats its values."""
        try:
            key = (id(f), type(raw), raw)
            return self._canon[key]
        except KeyError:
            pass
        except TypeError:  # unhashable: parse every time
            key = None
        try:
            found = (parse_value(raw, f), True)
        except ValueProblem:
            found = (raw, False)
        if key is not None:
            self._canon[key] = found
        return found


def err(r: Row, code: ErrorCode, f: Field | str | None = None, **params: Any) -> ErrorItem:
    """An error item about row ``r``."""
    return item(code, entity=r.change.entity, row=r.result.row, id=r.change.id, field=f,
                **params)


def scope_default(user: User, code: str) -> Any:
    """What a blank owner/team/region/shared means for ``user``: their own."""
    own = {"owner": user.username, "team": user.team, "region": user.region, "shared": False}
    assert own.keys() == set(SCOPE_FIELDS)
    return own.get(code)
