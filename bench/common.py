"""Shared benchmark parts: a private database per run (SQLite file or PostgreSQL schema), a
real bridge on a loopback port, realistic customer rows, direct bulk loading, timing."""

from __future__ import annotations

import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from stdnum.cn import uscc as stdnum_uscc

from bridge.db import Database
from bridge.server import app_with_admin, serve_in_thread
from bridge.settings import Settings
from schema.dictionary import DICTIONARY_VERSION, build_dictionary
from schema.enums import (
    COMPANY_SIZE,
    CUSTOMER_STATUS,
    INDUSTRY,
    INTENT,
    PRODUCT_LINE,
    REGION,
    SOURCE_CHANNEL,
    VALUE_TIER,
)
from schema.sql import RECORD_COLUMNS, table_name

PG_URL = os.environ.get("CRM_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_DSN = os.environ.get("CRM_BENCH_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=test")

CUSTOMER = build_dictionary().entity("customer")
FIELDS = CUSTOMER.field_codes()
COLUMNS = [*RECORD_COLUMNS, *FIELDS]  # the crm_customer columns, in table order


# --- a private bridge -----------------------------------------------------------------------


@dataclass
class Bench:
    backend: str
    url: str
    token: str
    settings: Settings
    db: Database
    sqlite_path: str | None

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url + "/api/v1", timeout=600,
                            headers={"Authorization": f"Bearer {self.token}"})

    @contextmanager
    def raw(self) -> Iterator[Any]:
        """A DB-API connection with the bridge's own driver (sqlite3 or psycopg 3)."""
        if self.backend == "sqlite":
            import sqlite3

            assert self.sqlite_path is not None
            conn = sqlite3.connect(self.sqlite_path)
            try:
                yield conn
            finally:
                conn.close()
        else:
            import psycopg

            with psycopg.connect(PG_DSN, options=f"-csearch_path={self.settings.database_schema}"
                                 ) as conn:
                yield conn


@contextmanager
def bridge(backend: str, process: bool = True, serve: bool = True) -> Iterator[Bench]:
    """A fresh database on ``backend`` and a uvicorn bridge serving it; removed afterwards.

    ``process``: the bridge runs as its own process (``uvicorn --factory``), as deployed, so
    the benchmark client does not share its interpreter; otherwise in a thread of this one.
    ``serve=False``: only the store (tables and admin), for direct loads; ``url`` is empty.
    """
    tmp = tempfile.mkdtemp(prefix="crm-bench-")
    schema = None
    if backend == "postgres":
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        settings = Settings(database_url=PG_URL, database_schema=schema)
        path = None
    else:
        path = os.path.join(tmp, "crm.db")
        settings = Settings(database_url=f"sqlite:///{path}")
    settings.max_batch_rows = 1_000_000
    settings.max_body_bytes = 1 << 30
    app, db, token = app_with_admin(settings)
    try:
        if not serve:
            yield Bench(backend, "", token, settings, db, path)
        elif process:
            from tests.bridge.procs import start_bridge_proc

            proc = start_bridge_proc(settings, Path(tmp) / "logs")
            try:
                yield Bench(backend, proc.url, token, settings, db, path)
            finally:
                proc.kill()
        else:
            with serve_in_thread(app) as url:
                yield Bench(backend, url, token, settings, db, path)
    finally:
        db.engine.dispose()
        if schema:
            import psycopg

            with psycopg.connect(PG_DSN, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        shutil.rmtree(tmp, ignore_errors=True)


# --- realistic customer rows (canonical values) ---------------------------------------------

_CITIES = [("上海", "021", "east"), ("北京", "010", "north"), ("广州", "020", "south"),
           ("武汉", "027", "central"), ("成都", "028", "southwest"), ("西安", "029", "northwest"),
           ("沈阳", "024", "northeast"), ("杭州", "0571", "east")]
_WORDS = ["星辰", "华信", "远航", "恒通", "博雅", "鼎盛", "云帆", "金桥", "新锐", "瑞丰"]
_KINDS = ["科技有限公司", "制造有限公司", "贸易有限公司", "信息技术股份有限公司", "物流有限公司"]
_STREETS = ["张江路", "长安街", "天河路", "中山大道", "人民南路", "科技路", "青年大街", "文三路"]


def _uscc(i: int) -> str:
    body = f"91{310000 + i % 90000:06d}MA{i:07d}"
    return body + stdnum_uscc.calc_check_digit(body + "0")


def _codes(enum: Any) -> list[str]:
    return list(enum.codes())


_E = {"industry": _codes(INDUSTRY), "company_size": _codes(COMPANY_SIZE),
      "source_channel": _codes(SOURCE_CHANNEL), "value_tier": _codes(VALUE_TIER),
      "intent": _codes(INTENT), "status": _codes(CUSTOMER_STATUS), "region": _codes(REGION)}
_PL = _codes(PRODUCT_LINE)


def customer(i: int, rnd: random.Random, tag: str = "") -> dict[str, Any]:
    """Customer ``i`` as canonical field values (every field of the entity)."""
    city, area, region = _CITIES[i % len(_CITIES)]
    pls = [p for p in _PL if rnd.random() < 0.4]
    return {
        "name": f"{city}{_WORDS[i % 10]}{tag}{i}{_KINDS[i % 5]}",
        "uscc": _uscc(i) if i % 10 else None,
        "industry": rnd.choice(_E["industry"]),
        "company_size": rnd.choice(_E["company_size"]),
        "address": f"{city}市{_STREETS[i % 8]}{rnd.randint(1, 2999)}号",
        "website": f"https://www.c{i}.com.cn" if i % 3 else None,
        "phone": (f"{area} {rnd.randint(6100, 6999)} {rnd.randint(0, 9999):04d}" if len(area) == 3
                  else f"{area} {rnd.randint(8000, 8999)} {rnd.randint(0, 9999):04d}"),
        "source_channel": rnd.choice(_E["source_channel"]),
        "value_tier": rnd.choice(_E["value_tier"]),
        "intent": rnd.choice(_E["intent"]),
        "status": rnd.choice(_E["status"]),
        "product_lines": ";".join(pls) or None,
        "decision_chain": "采购部王经理 → 财务总监 → 总经理" if i % 4 == 0 else None,
        "notes": f"第{i}号客户，{2020 + i % 6}年展会结识" if i % 2 else None,
        "owner": "admin",
        "team": f"t{i % 5}",
        "region": region,
        "shared": bool(i % 2),
    }


def customers(n: int, start: int = 0, seed: int = 1, tag: str = "") -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    return [customer(i, rnd, tag) for i in range(start, start + n)]


def db_rows(values: list[dict[str, Any]], seq_of: Callable[[int], int] = lambda i: 1,
            ) -> list[tuple[Any, ...]]:
    """Full ``crm_customer`` rows (system columns first), as a bulk load would write them (a
    field the values leave out, such as a head office, is NULL)."""
    at0 = datetime(2024, 1, 1, tzinfo=UTC)
    out = []
    for i, v in enumerate(values):
        at = at0 + timedelta(minutes=i)
        out.append((str(uuid.UUID(int=random.getrandbits(128), version=4)), 1, "admin", at,
                    "admin", at, False, seq_of(i), *(v.get(f) for f in FIELDS)))
    return out


def bulk_load(b: Bench, rows: list[tuple[Any, ...]], table: str | None = None,
              set_counter: int | None = None) -> float:
    """Write ``rows`` straight into ``table`` (COPY / executemany); returns seconds taken."""
    return load_tables(b, [(table or table_name("customer"), COLUMNS, rows)], set_counter)


def load_tables(b: Bench, loads: list[tuple[str, Sequence[str], list[tuple[Any, ...]]]],
                set_counter: int | None = None) -> float:
    """Write each (table, columns, rows) with COPY / executemany, all in one transaction;
    returns seconds taken."""
    with b.raw() as conn:
        t0 = time.perf_counter()
        for name, columns, rows in loads:
            cols = ", ".join(columns)
            if b.backend == "postgres":
                with conn.cursor() as cur, cur.copy(f"COPY {name} ({cols}) FROM STDIN") as cp:
                    for r in rows:
                        cp.write_row(r)
            else:
                conn.executemany(f"INSERT INTO {name} ({cols}) VALUES "
                                 f"({', '.join('?' * len(columns))})",
                                 [_sqlite_row(r) for r in rows])
        if set_counter is not None:
            ph = "%s" if b.backend == "postgres" else "?"
            conn.execute(f"UPDATE sys_counter SET value = {ph} WHERE name = 'change_seq'",
                         (set_counter,))
        conn.commit()
        return time.perf_counter() - t0


def _sqlite_row(r: tuple[Any, ...]) -> tuple[Any, ...]:
    # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' text
    return tuple(v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v
                 for v in r)


def create_plain_table(b: Bench, name: str) -> None:
    """A table with ``crm_customer``'s columns and types, and no keys or indexes."""
    with b.raw() as conn:
        conn.execute(f"DROP TABLE IF EXISTS {name}")
        conn.execute(f"CREATE TABLE {name} AS SELECT * FROM {table_name('customer')} WHERE 1=0")
        conn.commit()


# --- requests and timing ---------------------------------------------------------------------


def push_body(rows: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"idempotency_key": f"bench-{uuid.uuid4().hex}",
                         "template_version": DICTIONARY_VERSION, "rows": rows})


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def fmt_s(s: float) -> str:
    return f"{s * 1000:,.1f} ms" if s < 10 else f"{s:,.2f} s"


_VERDICT = {True: "met", False: "MISSED", None: ""}


@dataclass
class Figure:
    name: str
    backend: str
    measured: float
    baseline: float | None
    baseline_name: str
    target: str
    met: bool | None  # None: a figure for information, with no target

    @property
    def ratio(self) -> float | None:
        return self.measured / self.baseline if self.baseline else None

    def line(self) -> str:
        ratio = f"{self.ratio:.2f}x" if self.ratio is not None else "-"
        base = fmt_s(self.baseline) if self.baseline is not None else "-"
        return (f"| {self.backend} | {self.name} | {fmt_s(self.measured)} | {self.baseline_name}"
                f" {base} | {ratio} | {self.target} | {_VERDICT[self.met]} |")
