"""Benchmark: the import dry run against a large store (issue 10).

Seeds ``--existing`` customers straight into the store (bulk, with their name keys, match
keys and stored profiles, as migrations 0005 and 0007 and the push engine keep them),
stages ``--rows`` source rows (nine in ten new companies, one in ten a stored customer
re-typed: legal form shortened, phone spaced differently, no USCC), then runs the dry run
(``bridge.imports.dryrun.run``) in a child process, so its wall time, CPU time and peak
RSS are its own. Baseline in the same run: the same matching without blocking (every
source row compared with every stored record, each stored record parsed), measured on a
small sample and extrapolated.

    python -m bench.bench_import --existing 100000 --rows 20000
    python -m bench.bench_import --existing 1000000 --rows 200000 --backend postgres
    python -m bench.bench_import --existing 1000000 --rows 200000 --db ../crm-1m.db

``--db FILE`` (SQLite) keeps the seeded store and its staged import in ``FILE`` (seeding a
million customers takes minutes): the first run seeds and stages, later runs with the same
sizes reuse them (the import's decisions are cleared first, so each run is a first dry
run); ``--code DIR`` runs the dry run with another checkout's code (the child starts in
DIR, for a before/after in one session on the same data; copy this file into DIR's
``bench/`` for the decisions' digest). The child prints a digest of every row's decision.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from itertools import islice
from typing import Any

import orjson

from bench.common import CUSTOMER, FIELDS, Bench, bridge, db_rows, load_tables
from bridge.auth import User
from bridge.db import connect
from bridge.imports import dryrun, store
from bridge.matching import profiles
from bridge.matching.keys import COLUMNS as KEY_COLUMNS
from bridge.matching.keys import cached_profile, company_record, match_keys
from bridge.server import app_with_admin
from bridge.settings import Settings
from schema.dictionary import build_dictionary
from schema.matching import CompanyRecord, compare, profile
from schema.sql import NAME_KEY, RECORD_COLUMNS, display_key, table_name
from schema.values import ValueProblem, parse_value
from schema.wire_import import ImportCreate, ImportRow
from tests.schema.labelled_companies import existing_records

ADMIN = User("admin", "Administrator", "admin", None, None)
PHONE = CUSTOMER.field("phone")
CHUNK = 50_000


def _phone(raw: str) -> str | None:
    """A generated phone in its canonical form (None when it is not a valid number)."""
    try:
        return str(parse_value(raw, PHONE)) if raw else None
    except ValueProblem:
        return None


def _values(records: Iterator[CompanyRecord], seen: set[str]) -> list[dict[str, Any]]:
    """Customer values (canonical) of generated records; a name or USCC seen is skipped
    (both are unique in the store)."""
    out = []
    for r in records:
        if r.name in seen or (r.uscc and r.uscc in seen):
            continue
        seen.update(x for x in (r.name, r.uscc) if x)
        domain = r.email.partition("@")[2]
        out.append({"name": r.name, "uscc": r.uscc or None, "phone": _phone(r.phone),
                    "website": f"https://www.{domain}" if domain else None,
                    "owner": "admin", "shared": False})
    return out


def _load(b: Bench, existing: int) -> tuple[float, list[dict[str, Any]]]:
    """Write about ``existing`` customers with name keys and match keys; seconds taken and
    the values written."""
    cols = [*RECORD_COLUMNS, *FIELDS, NAME_KEY]
    spent, seen, written = 0.0, set[str](), []
    records = existing_records(existing)
    for _ in range(0, existing, CHUNK):
        values = _values(islice(records, CHUNK), seen)
        full = [{**dict.fromkeys(FIELDS), **v} for v in values]
        rows = [(*r, display_key(v["name"])) for r, v in zip(db_rows(full), values,
                                                               strict=True)]
        keys = [("customer", r[0], k) for r, v in zip(rows, values, strict=True)
                for k in match_keys("customer", v)]
        stored = [("customer", r[0], profiles.encode(cached_profile(company_record(
            "customer", v)))) for r, v in zip(rows, values, strict=True)]
        spent += load_tables(b, [(table_name("customer"), cols, rows),
                                 ("sys_match_key", KEY_COLUMNS, keys),
                                 ("sys_match_profile", profiles.COLUMNS, stored)])
        written += values
    return spent, written


def source_rows(count: int, stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Source rows: nine in ten new companies, one in ten a stored one re-typed (legal
    form shortened, phone written another way, no USCC nor website)."""
    rng = random.Random(11)
    rows = [{k: v for k, v in r.items() if v is not None and k not in ("owner", "shared")}
            for r in _values(existing_records(count - count // 10, seed=99), set())]
    for v in rng.sample(stored, min(count // 10, len(stored))):
        rows.append({"name": v["name"].replace("有限公司", "公司"),
                     **({"phone": v["phone"].replace(" ", "-")} if v["phone"] else {})})
    rng.shuffle(rows)
    return rows


def _stage(b: Bench, rows: list[dict[str, Any]]) -> tuple[str, float]:
    dictionary = build_dictionary()
    t0 = time.perf_counter()
    imp = store.create(b.db, dictionary, ADMIN, ImportCreate(entity="customer",
                                                             file_name="bench.xlsx"))
    for start in range(0, len(rows), 5000):
        batch = [ImportRow(source_row=start + i + 1, values={"customer": v})
                 for i, v in enumerate(rows[start:start + 5000])]
        store.add_rows(b.db, ADMIN, imp.id, batch)
    return imp.id, time.perf_counter() - t0


def _child(args: argparse.Namespace) -> None:
    """Run one dry run in this process and print its figures as JSON."""
    settings = Settings(database_url=args.url, database_schema=args.schema or None)
    db = connect(settings, build_dictionary())
    dryrun.warm(build_dictionary())
    before = _hwm_mib()
    t0, c0 = time.perf_counter(), time.process_time()
    if args.profile:
        import cProfile

        with cProfile.Profile(time.process_time) as prof:  # CPU: the load does not count
            out = dryrun.run(db, build_dictionary(), ADMIN, args.child)
        prof.dump_stats(args.profile)
    else:
        out = dryrun.run(db, build_dictionary(), ADMIN, args.child)
    wall, cpu, peak = time.perf_counter() - t0, time.process_time() - c0, _hwm_mib()
    print(json.dumps({"wall": wall, "cpu": cpu, "counts": out.counts, "rss_before": before,
                      "rss_peak": peak, "digest": _digest(db, args.child)}))


def _digest(db: Any, import_id: str) -> str:
    """A digest of every row's decision (kind, record, source row it names, cluster, score,
    reasons), to tell two runs' decisions equal or not."""
    h = hashlib.sha256()
    with db.read() as conn:
        for s in store.load_rows(conn, db, import_id):
            d = s.decision
            if d is not None:
                h.update(orjson.dumps([s.source_row, d.decision, d.record_id, d.duplicate_of,
                                       d.parent_row, d.uncertain_of, d.cluster, d.score,
                                       d.reasons]))
    return h.hexdigest()[:16]


def _hwm_mib() -> float:
    """This process's peak RSS (``VmHWM``: unlike ``ru_maxrss`` it does not carry the
    parent's peak over ``fork``/``exec``)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def baseline(rows: list[dict[str, Any]], stored: list[dict[str, Any]], sample: int = 50,
             stored_sample: int = 5_000) -> tuple[float, float]:
    """Without blocking: seconds to parse one stored record and to compare one pair."""
    part = stored[:stored_sample]
    c0 = time.process_time()
    profiles = [profile(company_record("customer", v)) for v in part]
    per_parse = (time.process_time() - c0) / len(part)
    sources = [profile(company_record("customer", v)) for v in rows[:sample]]
    c0 = time.process_time()
    for p in sources:
        for q in profiles:
            compare(p, q)
    per_pair = (time.process_time() - c0) / (len(sources) * len(profiles))
    return per_parse, per_pair


def _seed(b: Bench, existing: int, count: int
          ) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    """Seed ``existing`` customers and stage ``count`` source rows: the import id, the
    source rows and the stored values."""
    t0 = time.perf_counter()
    seconds, stored = _load(b, existing)
    print(f"seed: {len(stored):,} customers with match keys in "
          f"{time.perf_counter() - t0:.1f} s ({seconds:.1f} s writing)")
    rows = source_rows(count, stored)
    iid, staged = _stage(b, rows)
    print(f"stage: {len(rows):,} rows in {staged:.1f} s")
    return iid, rows, stored


def _kept(path: str, existing: int, count: int) -> tuple[Settings, str, bool]:
    """The settings and import id of a store kept in the SQLite file ``path``, seeded and
    staged if it is new (or holds other sizes); whether it was reused."""
    meta = path + ".json"
    settings = Settings(database_url=f"sqlite:///{path}")
    if os.path.exists(path) and os.path.exists(meta):
        with open(meta, encoding="utf-8") as f:
            kept = json.load(f)
        if (kept["existing"], kept["rows"]) == (existing, count):
            _reset(path, kept["import_id"])
            return settings, kept["import_id"], True
    for stale in (path, meta, path + "-wal", path + "-shm"):
        if os.path.exists(stale):
            os.remove(stale)
    _app, db, token = app_with_admin(settings)
    b = Bench("sqlite", "", token, settings, db, path)
    iid, _rows, _stored = _seed(b, existing, count)
    db.engine.dispose()
    with open(meta, "w", encoding="utf-8") as f:
        json.dump({"existing": existing, "rows": count, "import_id": iid}, f)
    return settings, iid, False


def _reset(path: str, import_id: str) -> None:
    """The kept import back to ``staged`` with no decisions (a first dry run again)."""
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        conn.execute("UPDATE sys_import_row SET decision = NULL WHERE import_id = ?",
                     (import_id,))
        conn.execute("UPDATE sys_import SET state = 'staged', counts = '{}' WHERE id = ?",
                     (import_id,))
        conn.commit()
    finally:
        conn.close()


def _run_child(settings: Settings, iid: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run the dry run in a child process; its figures."""
    env = dict(os.environ)
    if args.code:
        env["PYTHONPATH"] = os.pathsep.join(
            [args.code, *filter(None, [env.get("PYTHONPATH")])])
    child = subprocess.run(
        [sys.executable, "-m", "bench.bench_import", "--child", iid,
         "--url", settings.url(), "--schema", settings.database_schema or "",
         *(["--profile", args.profile] if args.profile else [])],
        capture_output=True, text=True, check=True, env=env,
        cwd=args.code or None)
    figures: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"dry run{' (code of ' + args.code + ')' if args.code else ''}: "
          f"{figures['wall']:.1f} s wall, {figures['cpu']:.1f} s CPU, "
          f"peak RSS {figures['rss_peak']:,.0f} MiB ({figures['rss_before']:,.0f} MiB "
          f"before it); decisions {figures['counts']} (digest {figures.get('digest')})")
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--existing", type=int, default=100_000)
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--profile", metavar="OUT",
                    help="run the dry run under cProfile and write its stats to OUT")
    ap.add_argument("--db", metavar="FILE",
                    help="SQLite file keeping the seeded store and staged import between runs")
    ap.add_argument("--code", metavar="DIR",
                    help="run the dry run with the code of the checkout DIR (before/after)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--schema", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args)
        return
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start; "
          f"{args.backend}, {args.existing:,} stored customers, {args.rows:,} source rows")
    if args.db:
        settings, iid, reused = _kept(args.db, args.existing, args.rows)
        print(f"store kept in {args.db}{' (reused)' if reused else ''}")
        _run_child(settings, iid, args)
        print(f"load average {os.getloadavg()[0]:.1f} at the end (no baseline with --db)")
        return
    with bridge(args.backend, serve=False) as b:
        iid, rows, stored = _seed(b, args.existing, args.rows)
        figures = _run_child(b.settings, iid, args)
    per_parse, per_pair = baseline(rows, stored)
    full = len(stored) * per_parse + len(rows) * len(stored) * per_pair
    print(f"baseline without blocking: {per_parse * 1e6:.0f} µs to parse a stored record, "
          f"{per_pair * 1e6:.1f} µs a pair; for this size {full:,.0f} s CPU "
          f"({full / max(figures['cpu'], 1e-9):,.0f}× the dry run)")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
