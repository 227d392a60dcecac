"""Dialect helpers (date arithmetic, local months) and the JSON table shape of reports."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Date,
    Float,
    Integer,
    MetaData,
    Table,
    and_,
    cast,
    func,
    insert,
    literal,
    literal_column,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ClauseElement, Executable

from bridge.auth import User
from bridge.db import Database
from bridge.permissions import row_scope, scope_filter
from bridge.reports.params import ReportParams
from schema.dictionary import Dictionary
from schema.sql import table_name
from schema.types import Scope
from schema.values import DEFAULT_TZ

_OFFSET_S = int(DEFAULT_TZ.utcoffset(None).total_seconds())


@dataclass(frozen=True, slots=True)
class Sql:
    """Expressions whose spelling differs between SQLite and PostgreSQL."""

    dialect: str

    @property
    def pg(self) -> bool:
        return self.dialect == "postgresql"

    def binary(self, col: Any) -> Any:
        """``col`` compared byte-wise when sorted or partitioned (ids have no linguistic
        order; PostgreSQL sorts byte-wise "C" text several times faster than a locale's)."""
        return col.collate("C") if self.pg else col

    def unindexed(self, col: Any) -> Any:
        """``col`` as an expression SQLite will not serve from an index: for a GROUP BY over
        most of a table, where walking the column's index fetches the rows in random order
        (a full scan and a sort are ~1.5x faster). Same value (text || '')."""
        return col if self.pg else col.concat("")

    def days_before(self, as_of: date, col: Any) -> ColumnElement[Any]:
        """Whole days from the date in ``col`` to ``as_of`` (as_of - col)."""
        if self.pg:
            return literal(as_of, Date) - col
        return cast(func.julianday(literal(as_of.isoformat())) - func.julianday(col), Integer)

    def epoch_days(self, ts: Any) -> ColumnElement[Any]:
        """A timestamp as fractional days since a fixed origin (differences are days)."""
        if self.pg:
            # date_part is double precision (EXTRACT is numeric since PostgreSQL 14: slower)
            return func.date_part("epoch", ts, type_=Float) / 86400.0
        return cast(func.julianday(ts), Float)

    def epoch_days_of(self, instant: Any) -> float:
        """Python twin of :meth:`epoch_days` for a bound instant (aware datetime)."""
        if self.pg:
            return instant.timestamp() / 86400.0
        return instant.timestamp() / 86400.0 + 2440587.5  # Julian day of the Unix epoch

    def local_month(self, ts: Any) -> ColumnElement[Any]:
        """'YYYY-MM' of a UTC timestamp in the CRM time zone (UTC+08:00)."""
        if self.pg:
            return func.to_char(func.timezone("UTC", ts)
                                + literal_column(f"interval '{_OFFSET_S} seconds'"), "YYYY-MM")
        return func.strftime("%Y-%m", ts, f"+{_OFFSET_S} seconds")

    def date_month(self, d: Any) -> ColumnElement[Any]:
        """'YYYY-MM' of a DATE column."""
        if self.pg:
            return func.to_char(d, "YYYY-MM")
        return func.strftime("%Y-%m", d)


def tune(conn: Any) -> None:
    """Settings for one report's read transaction (``SET LOCAL`` ends with it). PostgreSQL:
    no JIT compilation (for these queries compiling costs more than it saves: ~0.3-0.8 s at
    1M rows)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL jit = off")
        conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")


def tab(db: Database, dictionary: Dictionary, entity: str) -> tuple[Table, Any]:
    ent = dictionary.entity(entity)
    return db.table(table_name(ent.code)), ent


def visible(user: User, db: Database, dictionary: Dictionary, entity: str,
            alias: str | None = None) -> tuple[Any, ColumnElement[bool]]:
    """``entity``'s table (optionally aliased) and the condition: live and in scope."""
    table_, ent = tab(db, dictionary, entity)
    t: Any = table_.alias(alias) if alias else table_
    return t, and_(t.c.deleted.is_(False), scope_filter(user, ent, t))


def narrowed(user: User, entity: Any, p: ReportParams) -> bool:
    """Whether filters or the user's row scope select a part of ``entity``'s rows (worth a
    semi-join early) rather than all live ones."""
    return bool(p.owner or p.team or p.region or p.product_line or p.period_from
                or p.period_to) or \
        row_scope(user.role, entity) is not Scope.ALL


def dims(t: Any, p: ReportParams) -> ColumnElement[bool]:
    """The owner/team/region filters of ``p`` on table ``t`` (and the product line, on a
    table that has one: opportunities and orders)."""
    conds: list[ColumnElement[bool]] = []
    if p.product_line and "product_line" in t.c:
        conds.append(t.c.product_line == p.product_line)
    if p.owner:
        conds.append(t.c.owner == p.owner)
    if p.team:
        conds.append(t.c.team == p.team)
    if p.region:
        conds.append(t.c.region == p.region)
    return and_(true(), *conds)


def num(v: Any, nd: int = 2) -> Any:
    """A database number as a JSON number (None stays None)."""
    if v is None:
        return None
    f = float(v)
    return int(f) if nd == 0 else round(f, nd)


def ratio(a: float | int | None, b: float | int | None, nd: int = 4) -> float | None:
    return None if not b else round(float(a or 0) / float(b), nd)


def table(key: str, zh: str, en: str, columns: list[tuple[str, str, str]],
          rows: list[list[Any]], **extra: Any) -> dict[str, Any]:
    """A report table: ``columns`` as (key, zh, en) and ``rows`` as lists in that order."""
    return {"key": key, "title_zh": zh, "title_en": en,
            "columns": [{"key": k, "zh": z, "en": e} for k, z, e in columns],
            "rows": rows, **extra}


def materialize(conn: Any, prefix: str, stmt: Any, columns: list[Column[Any]]) -> Table:
    """Compute ``stmt`` once into a temporary table (dropped when the read transaction
    rolls back), so several small aggregates can read it without recomputing it."""
    t = Table(f"{prefix}_{uuid.uuid4().hex[:10]}", MetaData(), *columns, prefixes=["TEMPORARY"])
    if conn.dialect.name == "postgresql":
        # CREATE TABLE AS may run its query in parallel (INSERT ... SELECT may not); the
        # Table above describes the columns for reading (same names, compatible types)
        sq = stmt.subquery("m")
        conn.execute(_CreateTempAs(t.name, select(*[sq.c[c.name] for c in columns])))
        return t
    t.create(conn)
    conn.execute(insert(t).from_select([c.name for c in columns], stmt))
    return t


class _CreateTempAs(Executable, ClauseElement):
    """``CREATE TEMPORARY TABLE name AS <select>`` (binds kept)."""

    inherit_cache = False

    def __init__(self, name: str, query: Any) -> None:
        self.name = name
        self.query = query


@compiles(_CreateTempAs)
def _compile_create_temp_as(element: _CreateTempAs, compiler: Any, **kw: Any) -> str:
    return (f"CREATE TEMPORARY TABLE {compiler.preparer.quote(element.name)} AS "
            f"{compiler.process(element.query, **kw)}")
