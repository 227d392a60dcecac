"""Bulk writes inside the current transaction, at the speed of the driver.

SQLAlchemy's executemany builds and processes one parameter dict per row; a 10,000-row push
spent more time there than in the database. These helpers take whole rows as tuples,
convert each typed column once with the column type's own bind processor (so the stored
values are exactly what SQLAlchemy would write), and hand them to the driver:
``executemany`` on SQLite, ``COPY`` on PostgreSQL (updates via a temporary table and one
``UPDATE … FROM``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table


def _processed(conn: Connection, table: Table, columns: Sequence[str],
               rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """``rows`` with each column's bind processor applied (one pass per typed column)."""
    dialect = conn.dialect
    procs = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    if not any(procs):
        return rows
    cols = [list(c) for c in zip(*rows, strict=True)]
    for i, proc in enumerate(procs):
        if proc is not None:
            cols[i] = _mapped(proc, cols[i])
    return list(zip(*cols, strict=True))


def _mapped(proc: Any, values: list[Any]) -> list[Any]:
    """``proc`` of each value, each distinct value converted once (a push stamps every row
    with the same time)."""
    done: dict[Any, Any] = {None: None}
    try:
        return [done[v] if v in done else done.setdefault(v, proc(v)) for v in values]
    except TypeError:  # unhashable
        return [None if v is None else proc(v) for v in values]


def _quoted(conn: Connection, name: str) -> str:
    return str(conn.dialect.identifier_preparer.quote(name))


def _qualified(conn: Connection, table: Table) -> str:
    return str(conn.dialect.identifier_preparer.format_table(table))


def insert_rows(conn: Connection, table: Table, columns: Sequence[str],
                rows: list[tuple[Any, ...]]) -> None:
    """INSERT ``rows`` (tuples in ``columns`` order) into ``table``."""
    if not rows:
        return
    names = ", ".join(_quoted(conn, c) for c in columns)
    driver = conn.connection.driver_connection
    assert driver is not None
    if conn.dialect.name == "postgresql":
        with driver.cursor() as cur, cur.copy(
                f"COPY {_qualified(conn, table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" * len(columns))
    driver.executemany(f"INSERT INTO {_qualified(conn, table)} ({names}) VALUES ({marks})",
                       _processed(conn, table, columns, rows))


def update_rows(conn: Connection, table: Table, key: str, columns: Sequence[str],
                rows: list[tuple[Any, ...]]) -> None:
    """UPDATE ``table`` SET ``columns`` for each row, matched on ``key``.

    Each tuple holds the key first, then the new values in ``columns`` order.
    """
    if not rows:
        return
    driver = conn.connection.driver_connection
    assert driver is not None
    target, k = _qualified(conn, table), _quoted(conn, key)
    if conn.dialect.name == "postgresql":
        names = ", ".join(_quoted(conn, c) for c in (key, *columns))
        tmp = f"_bulk_{table.name}"
        sets = ", ".join(f"{_quoted(conn, c)} = s.{_quoted(conn, c)}" for c in columns)
        with driver.cursor() as cur:
            # the columns' own types, without their NOT NULL constraints
            cur.execute(f"CREATE TEMP TABLE {tmp} ON COMMIT DROP AS "
                        f"SELECT {names} FROM {target} WITH NO DATA")
            with cur.copy(f"COPY {tmp} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(f"UPDATE {target} AS t SET {sets} FROM {tmp} AS s WHERE t.{k} = s.{k}")
            cur.execute(f"DROP TABLE {tmp}")
        return
    sets = ", ".join(f"{_quoted(conn, c)} = ?" for c in columns)
    processed = _processed(conn, table, [key, *columns], rows)
    driver.executemany(f"UPDATE {target} SET {sets} WHERE {k} = ?",
                       [(*r[1:], r[0]) for r in processed])
