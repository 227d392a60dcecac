"""Staged imports in the database: the import, its source rows, their decisions and the
user's choices, and the team's saved mappings.

An import is staged in the bridge's tables, so any bridge process sharing the database can
carry it on. Only its creator or an admin may touch it; anyone else is told it does not
exist (``IMPORT_NOT_FOUND``), so import ids reveal nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from bridge import bulk
from bridge.auth import User, now
from bridge.db import Database
from bridge.errors import ApiError
from schema.dictionary import Dictionary
from schema.errors import ErrorCode
from schema.wire import RowHistory
from schema.wire_import import (
    DRY_RUN_PHASES,
    VERIFIED_ON,
    DryRunProgress,
    ImportCreate,
    ImportMapping,
    ImportMappingOut,
    ImportOut,
    ImportRow,
    ImportState,
    RowChoice,
    RowDecision,
)

# the main entities an import may carry, each with the related entities a row may add
IMPORTABLE: dict[str, tuple[str, ...]] = {"customer": ("contact",)}
MAX_IMPORT_ROWS = 1_000_000
MAX_FIELDS = 200  # per entity in one source row
ROW_COLUMNS = ("import_id", "source_row", "sheet", "line", "values", "history")
VERIFIED_KEY = "$verified_on"  # a row's verified date, kept in its ``values`` JSON


@dataclass(slots=True)
class Staged:
    """One staged source row, with its decision and choice once there are any."""

    source_row: int
    sheet: str | None
    line: int | None
    values: dict[str, dict[str, Any]]
    history: dict[str, RowHistory] = field(default_factory=dict)
    decision: RowDecision | None = None
    choice: RowChoice | None = None
    raw_values: str | None = None  # the stored JSON, written back as it was
    raw_history: str | None = None
    decided: str | None = None  # a new decision as JSON (200,000 models weigh 1 KB each)
    kind: str | None = None  # ... and its ``decision``
    verified_on: str | None = None  # when the row's values were verified, as sent

    def set_decision(self, d: RowDecision) -> None:
        """Record a new decision compactly (its JSON and its kind)."""
        self.decided, self.kind = d.model_dump_json(exclude_defaults=True), d.decision


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def loads(text: str) -> Any:
    """A JSON column's value."""
    return orjson.loads(text)


PROGRESS = "$progress"  # the key of a running dry run's progress in ``counts``


def out(rec: Any) -> ImportOut:
    """The ``ImportOut`` of a ``sys_import`` row."""
    counts = orjson.loads(rec.counts)
    progress = counts.pop(PROGRESS, None)
    return ImportOut(id=rec.id, entity=rec.entity, file_name=rec.file_name, state=rec.state,
                     created_by=rec.created_by, created_at=rec.created_at.isoformat(),
                     history=bool(rec.history), rows=rec.rows, counts=counts,
                     push_keys=orjson.loads(rec.push_keys),
                     progress=DryRunProgress.model_validate(progress) if progress else None)


def set_progress(db: Database, import_id: str, phase: str | None, done: int = 0,
                 total: int = 0) -> None:
    """Record a running dry run's progress in its own short transaction (the dry run
    itself reads a snapshot); the final ``set_state`` replaces it, ``phase=None`` clears
    it (a dry run that failed)."""
    t = db.table("sys_import")
    with db.write() as conn:
        counts = conn.execute(select(t.c.counts).where(t.c.id == import_id)).scalar()
        if counts is None:
            return
        kept = {k: v for k, v in orjson.loads(counts).items() if k != PROGRESS}
        if phase is not None:
            kept[PROGRESS] = {"phase": phase, "step": list(DRY_RUN_PHASES).index(phase) + 1,
                              "done": done, "total": total}
        conn.execute(update(t).where(t.c.id == import_id).values(counts=_json(kept)))


def create(db: Database, dictionary: Dictionary, user: User, body: ImportCreate) -> ImportOut:
    """Start an import (``history`` is for admins only)."""
    if body.entity not in IMPORTABLE or body.entity not in dictionary.entities:
        raise ApiError(ErrorCode.IMPORT_ENTITY_UNSUPPORTED, name=body.entity,
                       supported=", ".join(IMPORTABLE), field="entity")
    if body.history and not user.is_admin:
        raise ApiError(ErrorCode.IMPORT_HISTORY_FOR_ADMINS, field="history")
    t = db.table("sys_import")
    values = {"id": str(uuid.uuid4()), "entity": body.entity, "file_name": body.file_name,
              "mapping_name": body.mapping_name, "created_by": user.username,
              "created_at": now(), "state": "staged", "history": body.history, "rows": 0,
              "counts": "{}", "push_keys": "[]"}
    with db.write() as conn:
        conn.execute(insert(t).values(**values))
        return out(fetch(conn, db, user, str(values["id"])))


def fetch(conn: Connection, db: Database, user: User, import_id: str,
          lock: bool = False) -> Any:
    """The ``sys_import`` row of ``import_id`` if the user may touch it."""
    t = db.table("sys_import")
    q = select(t).where(t.c.id == import_id)
    rec = conn.execute(q.with_for_update() if lock and db.dialect == "postgresql" else q).first()
    if rec is None or not (user.is_admin or rec.created_by == user.username):
        raise ApiError(ErrorCode.IMPORT_NOT_FOUND, import_id=import_id)
    return rec


def require_state(rec: Any, code: ErrorCode, *states: ImportState) -> None:
    """Refuse an operation the import's state does not allow (a clear 409 ``code``)."""
    if rec.state not in states:
        raise ApiError(code, import_id=rec.id, state=rec.state)


def listing(db: Database, user: User) -> list[ImportOut]:
    """The caller's imports (an admin's: everyone's), newest first."""
    t = db.table("sys_import")
    q = select(t).order_by(t.c.created_at.desc(), t.c.id)
    if not user.is_admin:
        q = q.where(t.c.created_by == user.username)
    with db.read() as conn:
        return [out(rec) for rec in conn.execute(q.limit(1000))]


def _check_row(entity: str, r: ImportRow) -> None:
    allowed = (entity, *IMPORTABLE[entity])
    for name, values in r.values.items():
        if name not in allowed:
            raise ApiError(ErrorCode.IMPORT_ENTITY_UNSUPPORTED, name=name,
                           supported=", ".join(allowed), row=r.source_row, entity=name)
        if len(values) > MAX_FIELDS:
            raise ApiError(ErrorCode.IMPORT_ROW_OVERSIZED, row=r.source_row, name=name,
                           count=len(values), max=MAX_FIELDS, entity=name)


def add_rows(db: Database, user: User, import_id: str, rows: list[ImportRow]) -> ImportOut:
    """Append source rows to a staged import (each ``source_row`` once in the import)."""
    t, rt = db.table("sys_import"), db.table("sys_import_row")
    with db.write() as conn:
        rec = fetch(conn, db, user, import_id, lock=True)
        require_state(rec, ErrorCode.IMPORT_NOT_STAGED, "staged")
        for r in rows:
            _check_row(rec.entity, r)
        total = rec.rows + len(rows)
        if total > MAX_IMPORT_ROWS:
            raise ApiError(ErrorCode.IMPORT_TOO_MANY_ROWS, max=MAX_IMPORT_ROWS, count=total)
        numbers = [r.source_row for r in rows]
        seen: set[int] = set()
        repeated = [n for n in numbers if n in seen or seen.add(n)]  # type: ignore[func-returns-value]
        if not repeated and numbers:
            repeated = list(conn.execute(select(rt.c.source_row).where(
                rt.c.import_id == import_id, db.one_of(rt.c.source_row, numbers)).limit(1))
                .scalars())
        if repeated:
            raise ApiError(ErrorCode.IMPORT_ROW_REPEATED, row=repeated[0])
        bulk.insert_rows(conn, rt, ROW_COLUMNS, [
            (import_id, r.source_row, r.sheet, r.line, _json(
                {**r.values, VERIFIED_KEY: r.verified_on} if r.verified_on else r.values),
             _json({k: v.model_dump() for k, v in r.history.items()}) if r.history else None)
            for r in rows])
        conn.execute(update(t).where(t.c.id == import_id).values(rows=total))
        return out(fetch(conn, db, user, import_id))


def _select_rows(db: Database, import_id: str) -> Any:
    rt = db.table("sys_import_row")
    return (select(rt.c.source_row, rt.c.sheet, rt.c.line, rt.c["values"], rt.c.history,
                   rt.c.decision)
            .where(rt.c.import_id == import_id).order_by(rt.c.source_row)), rt


def _staged(result: Any) -> list[Staged]:
    found = []
    for n, sheet, line, values, history, decided in result:
        vals = orjson.loads(values)
        s = Staged(n, sheet, line, vals, raw_values=values, raw_history=history,
                   verified_on=vals.pop(VERIFIED_KEY, None))
        if history:
            s.history = {k: RowHistory.model_validate(v)
                         for k, v in orjson.loads(history).items()}
        if decided:
            d = orjson.loads(decided)
            s.decision = RowDecision.model_validate(d["decision"]) if d["decision"] else None
            s.choice = RowChoice.model_validate(d["choice"]) if d.get("choice") else None
        found.append(s)
    return found


def load_rows(conn: Connection, db: Database, import_id: str, after: int = 0,
              limit: int | None = None) -> list[Staged]:
    """The staged rows in source order (``after`` a source row, at most ``limit``)."""
    q, rt = _select_rows(db, import_id)
    q = q.where(rt.c.source_row > after)
    return _staged(conn.execute(q if limit is None else q.limit(limit)))


def load_some(conn: Connection, db: Database, import_id: str, numbers: list[int]
              ) -> list[Staged]:
    """The staged rows of the source rows ``numbers``."""
    q, rt = _select_rows(db, import_id)
    return _staged(conn.execute(q.where(db.one_of(rt.c.source_row, numbers)))) if numbers else []


def _decided(s: Staged) -> str:
    """The stored ``{"decision": ..., "choice": ...}`` (pydantic writes the JSON itself,
    several times faster than dumping to dicts first)."""
    decision = s.decided if s.decided is not None else \
        s.decision.model_dump_json(exclude_defaults=True) if s.decision else "null"
    choice = s.choice.model_dump_json() if s.choice else "null"
    return f'{{"decision":{decision},"choice":{choice}}}'


def save_decisions(conn: Connection, db: Database, import_id: str,
                   rows: list[Staged]) -> None:
    """Store every row's decision: the rows are written again whole, in bulk (``COPY`` on
    PostgreSQL), which is far cheaper than 200,000 single-row updates."""
    rt = db.table("sys_import_row")
    conn.execute(delete(rt).where(rt.c.import_id == import_id))
    for start in range(0, len(rows), 20_000):  # a chunk at a time: the JSON stays small
        bulk.insert_rows(conn, rt, (*ROW_COLUMNS, "decision"), [
            (import_id, s.source_row, s.sheet, s.line, *_raw(s), _decided(s))
            for s in rows[start:start + 20_000]])


def _raw(s: Staged) -> tuple[str, str | None]:
    """A row's values and history as stored (as loaded, else serialised)."""
    if s.raw_values is not None:
        return s.raw_values, s.raw_history
    values = {**s.values, VERIFIED_KEY: s.verified_on} if s.verified_on else s.values
    return _json(values), (_json({k: v.model_dump() for k, v in s.history.items()})
                             if s.history else None)


def save_choices(conn: Connection, db: Database, import_id: str, rows: list[Staged]) -> None:
    """Store the decision and choice of a few rows (the review sheet's)."""
    rt = db.table("sys_import_row")
    stmt = update(rt).where(rt.c.import_id == import_id,
                            rt.c.source_row == bindparam("n")).values(decision=bindparam("d"))
    if rows:
        conn.execute(stmt, [{"n": s.source_row, "d": _decided(s)} for s in rows])


def set_state(conn: Connection, db: Database, import_id: str, state: ImportState,
              **more: Any) -> None:
    """Move the import to ``state`` (``counts``/``push_keys`` given as Python values)."""
    t = db.table("sys_import")
    values: dict[str, Any] = {"state": state}
    values.update({k: _json(v) for k, v in more.items()})
    conn.execute(update(t).where(t.c.id == import_id).values(**values))


def row_count(conn: Connection, db: Database, import_id: str) -> int:
    rt = db.table("sys_import_row")
    return int(conn.execute(select(func.count()).where(rt.c.import_id == import_id))
               .scalar_one())


# -- saved mappings --------------------------------------------------------------------------


def _mapping_out(rec: Any) -> ImportMappingOut:
    return ImportMappingOut(name=rec.name, entity=rec.entity, columns=orjson.loads(rec.columns),
                            updated_by=rec.updated_by, updated_at=rec.updated_at.isoformat())


def get_mapping(db: Database, name: str) -> ImportMappingOut:
    t = db.table("sys_import_mapping")
    with db.read() as conn:
        rec = conn.execute(select(t).where(t.c.name == name)).first()
    if rec is None:
        raise ApiError(ErrorCode.IMPORT_MAPPING_NOT_FOUND, name=name)
    return _mapping_out(rec)


def list_mappings(db: Database) -> list[ImportMappingOut]:
    t = db.table("sys_import_mapping")
    with db.read() as conn:
        return [_mapping_out(rec) for rec in conn.execute(select(t).order_by(t.c.name))]


def put_mapping(db: Database, dictionary: Dictionary, user: User, name: str,
                body: ImportMapping) -> ImportMappingOut:
    """Save (or replace) the mapping ``name``; every target must be a known field."""
    if body.entity not in IMPORTABLE or body.entity not in dictionary.entities:
        raise ApiError(ErrorCode.IMPORT_ENTITY_UNSUPPORTED, name=body.entity,
                       supported=", ".join(IMPORTABLE), field="entity")
    allowed = (body.entity, *IMPORTABLE[body.entity])
    for column, target in body.columns.items():
        ent, _, fld = target.partition(".")
        if target and (ent not in allowed or not (dictionary.entity(ent).has_field(fld) or (
                ent == body.entity and fld == VERIFIED_ON))):
            raise ApiError(ErrorCode.IMPORT_MAPPING_INVALID, column=column, value=target,
                           field="columns")
    t = db.table("sys_import_mapping")
    values = {"entity": body.entity, "columns": _json(body.columns), "updated_by": user.username,
              "updated_at": now()}
    with db.write() as conn:
        done = conn.execute(update(t).where(t.c.name == name).values(**values)).rowcount
        if not done:
            conn.execute(insert(t).values(name=name, **values))
        return _mapping_out(conn.execute(select(t).where(t.c.name == name)).one())
