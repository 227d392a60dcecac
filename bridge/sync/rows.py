"""Reading entity rows as canonical values (references shown by display name) and
converting canonical values to and from database values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, Table, select

from bridge.auth import as_utc
from bridge.db import Database
from schema.dictionary import Dictionary
from schema.sql import table_name
from schema.types import Entity, Field, FieldType
from schema.values import DEFAULT_TZ

SYS_READ = ("id", "version", "deleted", "change_seq")


def _date_out(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date) else v


def _datetime_out(v: Any) -> Any:
    if isinstance(v, datetime):
        return as_utc(v).astimezone(DEFAULT_TZ).replace(microsecond=0).isoformat()
    return v


def _money_out(v: Any) -> Any:
    return None if v is None else round(float(v), 2)


def _bool_out(v: Any) -> Any:
    return None if v is None else bool(v)


OUT: dict[FieldType, Callable[[Any], Any]] = {
    FieldType.DATE: _date_out, FieldType.DATETIME: _datetime_out,
    FieldType.MONEY: _money_out, FieldType.BOOLEAN: _bool_out,
}


def to_db(f: Field, value: Any) -> Any:
    """A canonical value as the database column wants it."""
    if value is None:
        return None
    if f.type is FieldType.DATE:
        return date.fromisoformat(value)
    if f.type is FieldType.DATETIME:
        return as_utc(datetime.fromisoformat(value))
    return value


def select_rows(db: Database, dictionary: Dictionary, entity: Entity,
                fields: list[Field] | None = None) -> tuple[Select[Any], Table]:
    """SELECT of system columns and ``fields`` with references joined to display names."""
    t = db.table(table_name(entity.code))
    cols: list[Any] = [t.c[c] for c in SYS_READ]
    joins: list[tuple[Table, ColumnElement[bool]]] = []
    for f in fields if fields is not None else entity.fields:
        if f.type is FieldType.REFERENCE and f.ref is not None:
            ref = dictionary.entity(f.ref)
            rt = db.table(table_name(ref.code)).alias(f"ref_{f.code}")
            cols.append(rt.c[ref.display_field].label(f.code))
            joins.append((rt, rt.c.id == t.c[f.code]))
        else:
            cols.append(t.c[f.code])
    src: Any = t
    for rt, on in joins:
        src = src.outerjoin(rt, on)
    return select(*cols).select_from(src), t


def columns_out(entity: Entity, names: list[str], columns: list[list[Any]]) -> list[list[Any]]:
    """Convert whole result columns to canonical values (one pass per typed column)."""
    out = []
    for name, col in zip(names, columns, strict=True):
        conv = OUT.get(entity.field(name).type) if entity.has_field(name) else None
        out.append([conv(v) for v in col] if conv else col if isinstance(col, list)
                   else list(col))
    return out


def fetch_columns(conn: Connection, q: Select[Any]) -> tuple[list[str], list[list[Any]]]:
    """Run ``q``; its column names and its rows as whole columns.

    Values are what SQLAlchemy's own result rows would hold (each column's result
    processor applied, e.g. SQLite's 0/1 to bool), but no Row object is built per row:
    the DBAPI rows are transposed once and only typed columns are converted, in one pass.
    """
    res = conn.execute(q)
    try:
        names = list(map(str, res.keys()))  # plain str: labels may be quoted_name
        cursor = res.cursor
        desc = cursor.description
        raw = cursor.fetchall()
    finally:
        res.close()
    dialect = conn.dialect
    cols = [list(c) for c in zip(*raw, strict=True)] if raw else [[] for _ in names]
    for i, (c, d) in enumerate(zip(q.selected_columns, desc, strict=True)):
        proc = c.type.dialect_impl(dialect).result_processor(dialect, d[1])
        if proc is not None:
            cols[i] = [proc(v) for v in cols[i]]
    return names, cols


def fetch_existing(conn: Connection, db: Database, entity: Entity, ids: list[str]) -> set[str]:
    """Which of ``ids`` are taken by a record of ``entity`` (live or tombstoned)."""
    t = db.table(table_name(entity.code))
    if not ids:
        return set()
    return set(conn.execute(select(t.c.id).where(db.one_of(t.c.id, ids))).scalars())


def fetch_by_ids(conn: Connection, db: Database, dictionary: Dictionary, entity: Entity,
                 ids: list[str]) -> dict[str, dict[str, Any]]:
    """Canonical rows (incl. tombstones) for ``ids``, keyed by id."""
    if not ids:
        return {}
    q, t = select_rows(db, dictionary, entity)
    names, cols = fetch_columns(conn, q.where(db.one_of(t.c.id, ids)))
    return {row["id"]: row for row in (dict(zip(names, values, strict=True))
                                       for values in zip(*columns_out(entity, names, cols),
                                                         strict=True))}
