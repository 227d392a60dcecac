"""The state of one push while it runs: each row's change, fate and values, and the context
shared by the steps (prepare, checks, write)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from bridge import audit
from bridge.auth import User
from bridge.db import Database
from bridge.errors import item
from schema.dictionary import Dictionary
from schema.types import Field
from schema.values import ValueProblem, parse_value
from schema.wire import ErrorItem, FieldConflict, RowChange, RowStatus

SCOPE_DEFAULTS = ("owner", "team", "region", "shared")


@dataclass(slots=True)
class Result:
    """One row's answer (the wire's ``RowResult``, built cheaply: a push has 10,000)."""

    entity: str
    id: str
    row: int
    status: RowStatus = "applied"
    version: int | None = None
    errors: list[ErrorItem] = field(default_factory=list)
    conflicts: list[FieldConflict] = field(default_factory=list)
    server: dict[str, Any] | None = None

    def wire(self) -> dict[str, Any]:
        """The ``RowResult`` JSON object."""
        return {"entity": self.entity, "id": self.id, "row": self.row, "status": self.status,
                "version": self.version, "errors": [e.model_dump() for e in self.errors],
                "conflicts": [c.model_dump() for c in self.conflicts], "server": self.server}


@dataclass(slots=True)
class Row:
    pos: int
    rc: RowChange
    result: Result
    current: dict[str, Any] | None = None
    new: dict[str, Any] = field(default_factory=dict)  # full canonical row after the change
    changed: dict[str, list[Any]] = field(default_factory=dict)  # field -> [old, new]
    unparsed: set[str] = field(default_factory=set)  # pushed fields left as sent in ``new``

    def reject(self, errors: list[ErrorItem]) -> None:
        self.result.status = "rejected"
        self.result.errors = errors

    @property
    def live(self) -> bool:
        return self.result.status in ("applied", "merged")


@dataclass
class Ctx:
    db: Database
    dictionary: Dictionary
    conn: Connection
    user: User
    key: str
    seq: int
    audit: list[audit.Entry] = field(default_factory=list)
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


def err(r: Row, code: str, f: Field | str | None = None, **params: Any) -> ErrorItem:
    """An error item about row ``r``."""
    return item(code, entity=r.rc.entity, row=r.result.row, id=r.rc.id, field=f, **params)


def scope_default(user: User, code: str) -> Any:
    """What a blank owner/team/region/shared means for ``user``: their own."""
    return {"owner": user.username, "team": user.team, "region": user.region,
            "shared": False}.get(code)
