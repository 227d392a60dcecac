"""Engine, transactions and schema creation, for SQLite (WAL) and PostgreSQL alike.

Write transactions are serialised: on SQLite by ``BEGIN IMMEDIATE``, on PostgreSQL by
taking the ``change_seq`` counter row first. Reads run on a consistent snapshot
(``REPEATABLE READ`` on PostgreSQL; a WAL read transaction on SQLite).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Engine,
    MetaData,
    Select,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.engine import make_url

from bridge.settings import Settings
from bridge.tables import full_metadata
from schema.dictionary import Dictionary


@dataclass
class Database:
    engine: Engine
    metadata: MetaData
    dialect: str
    settings: Settings | None = None  # what it was opened with (the audit key, checkpoints)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A serialised write transaction holding the next change sequence number."""
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.begin()
                # every writer (pulls append to the audit chain too) queues on the counter
                # row, so the chain keeps one tail even across bridge processes
                counter = self.metadata.tables["sys_counter"]
                conn.execute(select(counter.c.value).where(counter.c.name == "change_seq")
                             .with_for_update())
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction on one consistent snapshot."""
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN")
            else:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
                conn.begin()
            try:
                yield conn
            finally:
                conn.rollback()

    def next_seq(self, conn: Connection) -> int:
        """Take the counter (serialising writers) and return the next change number."""
        counter = self.metadata.tables["sys_counter"]
        conn.execute(counter.update().where(counter.c.name == "change_seq")
                     .values(value=counter.c.value + 1))
        return int(conn.execute(select(counter.c.value)
                                .where(counter.c.name == "change_seq")).scalar_one())

    def current_seq(self, conn: Connection) -> int:
        counter = self.metadata.tables["sys_counter"]
        return int(conn.execute(select(counter.c.value)
                                .where(counter.c.name == "change_seq")).scalar_one())

    def table(self, name: str) -> Any:
        return self.metadata.tables[name]

    def one_of(self, column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
        """``column IN values`` as one statement with one parameter, however many values:
        ``= ANY(array)`` on PostgreSQL, ``IN (SELECT value FROM json_each(?))`` on SQLite.
        (An expanded IN list of 10,000 binds costs more to build than to run.)"""
        if self.dialect == "postgresql":
            return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
        listed: Select[Any] = select(literal_column("value")).select_from(
            func.json_each(bindparam(None, orjson.dumps(list(values)).decode())))
        return column.in_(listed)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # WAL+NORMAL: commits survive a process crash
    cur.execute("PRAGMA busy_timeout=60000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def connect(settings: Settings, dictionary: Dictionary) -> Database:
    url = make_url(settings.url())
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        # lookups repeat one statement text over lists of any size; once psycopg prepares
        # it, PostgreSQL's generic plan cannot see the list and may scan: plan afresh
        options = "-c plan_cache_mode=force_custom_plan"
        if settings.database_schema:
            options += f" -c search_path={settings.database_schema}"
        args: dict[str, Any] = {"options": options}
        engine = create_engine(url, connect_args=args, pool_size=settings.pool_size,
                               max_overflow=settings.pool_size, pool_pre_ping=True)
    return Database(engine, full_metadata(dictionary), engine.dialect.name, settings)


def migrate(db: Database) -> None:
    """Bring the database to the newest Alembic revision (idempotent)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def create_schema(db: Database, schema: str | None = None) -> None:
    """Migrate to the newest revision and create the counter row (idempotent)."""
    with db.engine.begin() as conn:
        if db.dialect == "postgresql" and schema:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    migrate(db)
    with db.engine.begin() as conn:
        counter = db.metadata.tables["sys_counter"]
        if conn.execute(select(counter.c.value).where(counter.c.name == "change_seq")).first() \
                is None:
            conn.execute(insert(counter).values(name="change_seq", value=0))
