"""Sync benchmarks against a real bridge over HTTP, each beside a bulk baseline from the same run.

    python -m bench.bench_sync --backend sqlite|postgres|both
        [--rows push=10000,pull=100000,incr=1000000,changes=100] [--only push,pull,incr]
        [--repeat 3]

1. push: 10k customer inserts, then 10k updates of those rows (2-3 fields each, with base
   values), POSTed to /push; baseline: COPY (PostgreSQL) / executemany (SQLite) of the same
   10k rows into a plain table with the same columns. Target: within 3x. Also shown: the
   floor, i.e. the same rows loaded the same way into the real customer table (its keys and
   indexes) plus the one audit entry per row that a push must write in the same transaction.
2. pull: full pull of 100k bulk-loaded customers (GET /pull, JSON parsed by the client);
   baseline: a plain SELECT of the same columns into a pandas DataFrame with the same driver.
   Target: within 2x.
3. incr: 1M bulk-loaded customers (change_seq spread), 100 changes pushed, then
   GET /pull?since=<cursor>; baseline: the same SELECT restricted to the change range into
   pandas. Target: under 50 ms.
"""

from __future__ import annotations

import argparse
import hmac
import random
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pandas as pd

from bench.common import (
    COLUMNS,
    CUSTOMER,
    FIELDS,
    Bench,
    Figure,
    bridge,
    bulk_load,
    create_plain_table,
    customers,
    db_rows,
    fmt_s,
    load_tables,
    median,
    push_body,
    timed,
)
from bridge.audit import COLUMNS as AUDIT_COLUMNS
from schema.sql import RECORD_COLUMNS, table_name

IN_THREAD = False  # --in-thread: the bridge shares this interpreter (as before 2026-11-25)
DEFAULT_ROWS = {"push": 10_000, "pull": 100_000, "incr": 1_000_000, "changes": 100}
PULL_COLUMNS = ["id", "version", *CUSTOMER.field_codes()]  # what the admin's pull returns


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _post(b: Bench, c: Any, payload: bytes) -> dict[str, Any]:
    r = c.post("/push", content=payload, headers={"Content-Type": "application/json"})
    r.raise_for_status()
    return dict(orjson.loads(r.content))


def _pull(c: Any, **params: Any) -> dict[str, Any]:
    r = c.get("/pull", params=params)
    r.raise_for_status()
    return dict(orjson.loads(r.content))


def _baseline_copy(b: Bench, rows: list[tuple[Any, ...]], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        create_plain_table(b, "bench_plain")
        times.append(bulk_load(b, rows, table="bench_plain"))
    return median(times)


def _audit_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """One audit entry per inserted row, as a push writes them (chained hashes)."""
    at, prev, out = datetime.now(UTC), "0" * 64, []
    for seq, r in enumerate(rows, 1):
        changes = orjson.dumps({f: [None, v] for f, v in zip(FIELDS, r[len(RECORD_COLUMNS):],
                                                            strict=True) if v is not None})
        digest = hmac.digest(b"bench-floor-key", prev.encode() + changes, "sha256").hex()
        out.append((at, "admin", "insert", "customer", r[0], changes.decode(), "bench-floor",
                    1, seq, "bench", prev, digest))
        prev = digest
    return out


def _floor(backend: str, rows: list[tuple[Any, ...]], repeat: int) -> float:
    """The database work no push can skip: the same rows into the real customer table (its
    keys and indexes) plus one audit entry each, in one transaction, on a fresh store."""
    audit_rows = _audit_rows(rows)
    times = []
    for _ in range(repeat):
        with bridge(backend, serve=False) as b:
            times.append(load_tables(b, [(table_name("customer"), COLUMNS, rows),
                                         ("sys_audit", AUDIT_COLUMNS, audit_rows)]))
    return median(times)


def _change(rnd: random.Random, cur: dict[str, Any], i: int, round_: int,
            ) -> tuple[dict[str, Any], dict[str, Any]]:
    """2-3 changed fields of one customer, and their base values."""
    new: dict[str, Any] = {
        "intent": rnd.choice([v for v in ("high", "medium", "low") if v != cur["intent"]]),
        "notes": f"第{round_}轮回访：客户{i}确认预算",
    }
    if i % 2:
        new["status"] = rnd.choice([v for v in ("prospect", "active", "dormant", "churned")
                                    if v != cur["status"]])
    return new, {k: cur[k] for k in new}


def bench_push(backend: str, n: int, repeat: int) -> list[Figure]:
    figs = []
    with bridge(backend, process=not IN_THREAD) as b, b.client() as c:
        log(f"[{backend}] push: {n} rows, {repeat} rounds")
        rows = db_rows(customers(n, tag="基"))
        base = _baseline_copy(b, rows, repeat)
        floor = _floor(backend, rows, repeat)
        ins_times, ids = [], []
        for k in range(repeat):
            vals = customers(n, start=(k + 1) * n, seed=k + 7)
            ops = [{"op": "insert", "entity": "customer", "id": str(uuid.uuid4()), "values": v,
                    "row": i + 2} for i, v in enumerate(vals)]
            payload = push_body(ops)
            t, res = timed(lambda p=payload: _post(b, c, p))
            assert res["counts"]["applied"] == n, res["counts"]
            ins_times.append(t)
            ids.append({o["id"] for o in ops})
            log(f"  insert round {k}: {fmt_s(t)}")
        upd_times = []
        rnd = random.Random(3)
        mine = ids[0]
        for k in range(repeat):
            data = _pull(c, entities="customer")["entities"]["customer"]["data"]
            cols = list(data)
            ops = []
            for i, values in enumerate(zip(*(data[col] for col in cols), strict=True)):
                cur = dict(zip(cols, values, strict=True))
                if cur["id"] not in mine:
                    continue
                new, old = _change(rnd, cur, i, k)
                ops.append({"op": "update", "entity": "customer", "id": cur["id"],
                            "base_version": cur["version"], "values": new, "base": old,
                            "row": len(ops) + 2})
            assert len(ops) == n
            payload = push_body(ops)
            t, res = timed(lambda p=payload: _post(b, c, p))
            assert res["counts"]["applied"] == n, res["counts"]
            upd_times.append(t)
            log(f"  update round {k}: {fmt_s(t)}")
        bname = "COPY" if backend == "postgres" else "executemany"
        for name, times in ((f"push {n:,} inserts", ins_times),
                            (f"push {n:,} updates (2-3 fields)", upd_times)):
            m = median(times)
            figs.append(Figure(name, backend, m, base, bname, "<= 3x", m <= 3 * base))
        figs.append(Figure(f"floor: {n:,} rows + audit into the real tables", backend, floor,
                           base, bname, "", None))
    return figs


def _select_sql(where: str = "deleted = false") -> str:
    return f"SELECT {', '.join(PULL_COLUMNS)} FROM {table_name('customer')} WHERE {where}"


def _baseline_select(b: Bench, sql: str, params: tuple[Any, ...] = ()) -> tuple[float, int]:
    with b.raw() as conn:
        def run() -> pd.DataFrame:
            cur = conn.cursor()
            cur.execute(sql, params)
            return pd.DataFrame(cur.fetchall(), columns=PULL_COLUMNS)
        t, df = timed(run)
        conn.rollback()
        return t, len(df)


def _load(b: Bench, n: int, per_seq: int) -> None:
    """Bulk-load ``n`` customers (change_seq = 1 + i // per_seq) in chunks; set the cursor."""
    chunk = 100_000
    total = 0.0
    for start in range(0, n, chunk):
        vals = customers(min(chunk, n - start), start=start, seed=start + 11)
        rows = db_rows(vals, seq_of=lambda i, s=start: 1 + (s + i) // per_seq)
        total += bulk_load(b, rows, set_counter=1 + (n - 1) // per_seq)
    with b.raw() as conn:
        conn.execute("ANALYZE")
        conn.commit()
    log(f"  bulk-loaded {n:,} customers in {fmt_s(total)}")


def bench_pull(backend: str, n: int, repeat: int) -> list[Figure]:
    with bridge(backend, process=not IN_THREAD) as b, b.client() as c:
        log(f"[{backend}] full pull: {n:,} rows")
        _load(b, n, per_seq=100)
        sql = _select_sql("deleted = false" if backend == "postgres" else "deleted = 0")
        base_times, http_times = [], []
        for k in range(repeat):
            t, rows = _baseline_select(b, sql)
            assert rows == n
            base_times.append(t)
            t, res = timed(lambda: _pull(c, entities="customer"))
            assert len(res["entities"]["customer"]["data"]["id"]) == n
            assert res["entities"]["customer"]["columns"] == PULL_COLUMNS
            http_times.append(t)
            log(f"  round {k}: select {fmt_s(base_times[-1])}, pull {fmt_s(t)}")
        base, m = median(base_times), median(http_times)
        return [Figure(f"full pull {n:,} rows", backend, m, base, "SELECT→pandas", "<= 2x",
                       m <= 2 * base)]


def _counter(b: Bench) -> int:
    with b.raw() as conn:
        cur = conn.cursor()
        cur.execute("SELECT value FROM sys_counter WHERE name = 'change_seq'")
        value = int(cur.fetchone()[0])
        conn.rollback()
        return value


def bench_incremental(backend: str, n: int, changes: int, repeat: int) -> list[Figure]:
    with bridge(backend, process=not IN_THREAD) as b, b.client() as c:
        log(f"[{backend}] incremental pull: {changes} changes out of {n:,} rows")
        _load(b, n, per_seq=1000)
        with b.raw() as conn:
            cur = conn.cursor()
            cur.execute(f"SELECT id, intent, status, notes FROM {table_name('customer')} "
                        f"ORDER BY id LIMIT {changes * repeat * 2}")
            sample = [dict(zip(("id", "intent", "status", "notes"), r, strict=True))
                      for r in cur.fetchall()]
            conn.rollback()
        rnd = random.Random(5)
        rnd.shuffle(sample)
        base_times, http_times = [], []
        ph = "%s" if backend == "postgres" else "?"
        for k in range(repeat):
            since = _counter(b)  # the cursor before this round's push
            ops = []
            for i, cur_row in enumerate(sample[k * changes:(k + 1) * changes]):
                new, old = _change(rnd, cur_row, i, k)
                ops.append({"op": "update", "entity": "customer", "id": cur_row["id"],
                            "base_version": 1, "values": new, "base": old})
            res = _post(b, c, push_body(ops))
            assert res["counts"]["applied"] == changes, res["counts"]
            assert res["cursor"] == since + 1
            t, pulled = timed(lambda s=since: _pull(c, since=s))
            assert len(pulled["entities"]["customer"]["data"]["id"]) == changes
            http_times.append(t)
            t, rows = _baseline_select(b, _select_sql(f"change_seq > {ph}"), (since,))
            assert rows == changes
            base_times.append(t)
            log(f"  round {k}: select {fmt_s(base_times[-1])}, pull {fmt_s(http_times[-1])}")
        base, m = median(base_times), median(http_times)
        return [Figure(f"incremental pull, {changes} changes of {n:,}", backend, m, base,
                       "SELECT→pandas", "< 50 ms", m < 0.050)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--rows", default="", help="overrides, e.g. push=1000,pull=10000,incr=100000")
    p.add_argument("--only", default="push,pull,incr")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--in-thread", action="store_true",
                   help="serve the bridge from a thread of this process, not its own process")
    a = p.parse_args(argv)
    global IN_THREAD
    IN_THREAD = a.in_thread
    rows = dict(DEFAULT_ROWS)
    for part in filter(None, a.rows.split(",")):
        k, _, v = part.partition("=")
        if k not in rows:
            p.error(f"unknown --rows key {k!r}; keys: {', '.join(rows)}")
        rows[k] = int(v.replace("_", ""))
    only = set(a.only.split(","))
    backends = ["sqlite", "postgres"] if a.backend == "both" else [a.backend]
    figs: list[Figure] = []
    for backend in backends:
        if "push" in only:
            figs += bench_push(backend, rows["push"], a.repeat)
        if "pull" in only:
            figs += bench_pull(backend, rows["pull"], a.repeat)
        if "incr" in only:
            figs += bench_incremental(backend, rows["incr"], rows["changes"],
                                      max(a.repeat, 5))
    print("| backend | benchmark | bridge (median) | baseline (median) | ratio | target | |")
    print("|---|---|---|---|---|---|---|")
    for f in figs:
        print(f.line())
    return 0 if all(f.met is not False for f in figs) else 1


if __name__ == "__main__":
    sys.exit(main())
