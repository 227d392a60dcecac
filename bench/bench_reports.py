"""Benchmark: RFM and the funnel in SQL (bridge.reports) against a pandas baseline.

Synthetic data: ``--customers`` customers, ``--orders`` orders (2 % refunds, 1 % credit
notes), ``--opps`` opportunities with 1-5 stage-history entries each, bulk-loaded (COPY on
PostgreSQL, executemany on SQLite). Each report is timed end to end as the route runs it;
the pandas baseline reads the needed columns with ``read_sql`` and computes the same
figures in process (the load is part of its time).

    python bench/bench_reports.py --backend postgres --customers 100000 --orders 1000000 \\
        --opps 1000000
    python bench/bench_reports.py --backend sqlite --scale 0.1

``--keep NAME`` keeps the loaded data (PostgreSQL schema or SQLite file NAME) and reuses
it on the next run with the same NAME; ``--only rfm|funnel`` times one report.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from fastapi.encoders import jsonable_encoder
from openpyxl import Workbook
from sqlalchemy import insert

from addin.reportbook import build_sheet
from bridge.auth import User
from bridge.db import Database, connect, create_schema
from bridge.reports.funnel import funnel
from bridge.reports.params import make_params
from bridge.reports.rfm import rfm
from bridge.settings import Settings
from schema.dictionary import build_dictionary

CAP_BEFORE = 1000  # the RFM customer list's cap before issue 13 asked for complete lists

AS_OF = date(2026, 3, 31)
PG_URL = os.environ.get("CRM_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
STAGES = ["initial_contact", "needs_analysis", "proposal", "negotiation", "won", "lost"]
ADMIN = User("admin", "admin", "admin", None, None)


def _ids(n: int, prefix: int) -> list[str]:
    return [str(uuid.UUID(int=(prefix << 96) + i)) for i in range(n)]


def generate(nc: int, no: int, nopp: int, seed: int = 7) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    cust = pd.DataFrame({"id": _ids(nc, 1), "name": [f"客户{i}" for i in range(nc)],
                         "owner": [f"u{i}" for i in rng.integers(0, 50, nc)],
                         "region": rng.choice(["north", "east", "south", "central"], nc)})
    cidx = rng.zipf(1.6, no) % nc  # skewed: some customers buy a lot
    days = rng.integers(0, 730, no)
    orders = pd.DataFrame({
        "id": _ids(no, 2), "order_no": [f"HT{i}" for i in range(no)],
        "customer": cust["id"].to_numpy()[cidx],
        "signed_on": [AS_OF - timedelta(days=int(d)) for d in days],
        "amount": np.round(rng.gamma(2.0, 5000.0, no), 2),
        "status": rng.choice(["signed", "fulfilled", "draft", "cancelled"], no,
                             p=[0.5, 0.4, 0.05, 0.05])})
    nref = no // 50
    ref_o = rng.integers(0, no, nref)
    refunds = pd.DataFrame({"id": _ids(nref, 3), "order": orders["id"].to_numpy()[ref_o],
                            "kind": "refund",
                            "paid_on": [AS_OF - timedelta(days=int(d))
                                        for d in rng.integers(0, 730, nref)],
                            "amount": np.round(orders["amount"].to_numpy()[ref_o] * 0.3, 2)})
    ncn = no // 100
    cn_o = rng.integers(0, no, ncn)
    credits = pd.DataFrame({"id": _ids(ncn, 4), "invoice_no": [f"CN{i}" for i in range(ncn)],
                            "order": orders["id"].to_numpy()[cn_o], "kind": "credit_note",
                            "issued_on": [AS_OF - timedelta(days=int(d))
                                          for d in rng.integers(0, 730, ncn)],
                            "amount": np.round(orders["amount"].to_numpy()[cn_o] * 0.2, 2)})
    # opportunities: walk up the stages, end open, won or lost
    steps = rng.integers(1, 6, nopp)
    start = rng.integers(0, 700, nopp)
    opp_ids = _ids(nopp, 5)
    h_opp, h_stage, h_at = [], [], []
    final = []
    base = datetime.combine(AS_OF, datetime.min.time(), UTC)
    for i in range(nopp):
        t = base - timedelta(days=int(start[i]))
        stage_i = 0
        for k in range(int(steps[i])):
            st = STAGES[stage_i] if k < steps[i] - 1 or rng.random() < 0.6 else "lost"
            h_opp.append(opp_ids[i])
            h_stage.append(st)
            h_at.append(t)
            t += timedelta(hours=int(rng.integers(1, 24 * 40)))
            stage_i = min(stage_i + 1, 4)
        final.append(h_stage[-1])
    opps = pd.DataFrame({"id": opp_ids, "name": [f"商机{i}" for i in range(nopp)],
                         "customer": cust["id"].to_numpy()[rng.integers(0, nc, nopp)],
                         "stage": final, "amount": np.round(rng.gamma(2.0, 20000.0, nopp), 2),
                         "owner": [f"u{i}" for i in rng.integers(0, 50, nopp)],
                         "region": rng.choice(["north", "east", "south", "central"], nopp),
                         "created_at": [base - timedelta(days=int(d)) for d in start]})
    opps["lost_reason"] = np.where(opps["stage"] == "lost", "price", None)
    hist = pd.DataFrame({"opportunity_id": h_opp, "stage": h_stage, "entered_at": h_at,
                         "change_seq": 1})
    return {"customer": cust, "order": orders, "refund": refunds, "credit": credits,
            "opportunity": opps, "history": hist}


def _sys(df: pd.DataFrame) -> pd.DataFrame:
    at = datetime(2024, 1, 1, tzinfo=UTC)
    out = df.copy()
    for k, v in {"version": 1, "created_by": "bench", "updated_by": "bench",
                 "updated_at": at, "deleted": False, "change_seq": 1, "shared": False}.items():
        out[k] = v
    if "created_at" not in out:
        out["created_at"] = at
    if "team" not in out:
        out["team"] = None
    if "owner" not in out:
        out["owner"] = "admin"
    if "region" not in out:
        out["region"] = None
    return out


def load(db: Database, data: dict[str, pd.DataFrame]) -> float:
    t0 = time.perf_counter()
    frames = [("crm_customer", _sys(data["customer"])), ("crm_order", _sys(data["order"])),
              ("crm_payment", _sys(data["refund"])), ("crm_invoice", _sys(data["credit"])),
              ("crm_opportunity", _sys(data["opportunity"])),
              ("sys_stage_history", data["history"])]
    for name, df in frames:
        cols = list(df.columns)
        if db.dialect == "postgresql":
            raw = db.engine.raw_connection()
            try:
                with raw.cursor() as cur:  # type: ignore[attr-defined]
                    collist = ", ".join(f'"{c}"' for c in cols)
                    with cur.copy(f"COPY {name} ({collist}) FROM STDIN") as cp:
                        for row in df.itertuples(index=False, name=None):
                            cp.write_row(row)
                raw.commit()
            finally:
                raw.close()
        else:
            recs = df.to_dict("records")
            with db.write() as conn:
                for i in range(0, len(recs), 50_000):
                    conn.execute(insert(db.table(name)), recs[i:i + 50_000])
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - t0


def pandas_rfm(db: Database, window_days: int = 365) -> pd.DataFrame:
    lo = AS_OF - timedelta(days=window_days - 1)
    with db.engine.connect() as conn:
        o = pd.read_sql(f"SELECT customer, signed_on, amount FROM crm_order WHERE NOT deleted "
                        f"AND status IN ('signed','fulfilled') AND signed_on >= '{lo}' "
                        f"AND signed_on <= '{AS_OF}'", conn)
        r = pd.read_sql(f"SELECT o.customer, p.amount FROM crm_payment p JOIN crm_order o "
                        f"ON o.id = p.\"order\" WHERE NOT p.deleted AND p.kind = 'refund' AND "
                        f"p.paid_on >= '{lo}' AND p.paid_on <= '{AS_OF}'", conn)
        cn = pd.read_sql(f"SELECT o.customer, i.amount FROM crm_invoice i JOIN crm_order o "
                         f"ON o.id = i.\"order\" WHERE NOT i.deleted AND i.kind = 'credit_note' "
                         f"AND i.issued_on >= '{lo}' AND i.issued_on <= '{AS_OF}'", conn)
        c = pd.read_sql("SELECT id FROM crm_customer WHERE NOT deleted", conn)
    o["signed_on"] = pd.to_datetime(o["signed_on"])
    g = o.groupby("customer")
    df = pd.DataFrame({"frequency": g.size(), "last": g["signed_on"].max(),
                       "gross": g["amount"].sum()}).reindex(c["id"])
    df["frequency"] = df["frequency"].fillna(0).astype(int)
    df["recency_days"] = (pd.Timestamp(AS_OF) - df["last"]).dt.days
    df["monetary"] = (df["gross"].fillna(0) - r.groupby("customer")["amount"].sum()
                      .reindex(df.index).fillna(0)
                      - cn.groupby("customer")["amount"].sum().reindex(df.index).fillna(0))
    b = df[df["frequency"] > 0]
    n = len(b)
    for k, s in (("r", -b["recency_days"]), ("f", b["frequency"]), ("m", b["monetary"])):
        df.loc[b.index, f"{k}_score"] = 1 + (5 * (s.rank(method="min") - 1)) // n
    rh = b["recency_days"] < b["recency_days"].mean()
    fh = b["frequency"] > b["frequency"].mean()
    mh = b["monetary"] > b["monetary"].mean()
    df.loc[b.index, "seg"] = rh.astype(int) * 4 + fh.astype(int) * 2 + mh.astype(int)
    df.groupby("seg", dropna=False)["monetary"].agg(["size", "sum", "mean"])
    return df


def pandas_funnel(db: Database) -> pd.DataFrame:
    with db.engine.connect() as conn:
        o = pd.read_sql("SELECT id, stage, amount, owner, team, region, lost_reason, created_at "
                        "FROM crm_opportunity WHERE NOT deleted", conn)
        h = pd.read_sql("SELECT id, opportunity_id, stage, entered_at FROM sys_stage_history",
                        conn)
    end = pd.Timestamp(datetime.combine(AS_OF + timedelta(days=1), datetime.min.time()))
    h["entered_at"] = pd.to_datetime(h["entered_at"], utc=True).dt.tz_localize(None)
    h = h[h["entered_at"] < end].sort_values(["opportunity_id", "entered_at", "id"])
    idx = {s: i for i, s in enumerate(STAGES[:5])}
    h["idx"] = h["stage"].map(idx)
    h["next"] = h.groupby("opportunity_id")["entered_at"].shift(-1)
    h["days"] = ((h["next"].fillna(end) - h["entered_at"]).dt.total_seconds() / 86400)
    last = h.groupby("opportunity_id").tail(1).set_index("opportunity_id")["stage"]
    reach = h.groupby("opportunity_id")["idx"].max()
    o = o.set_index("id")
    o["snap"] = last.reindex(o.index).fillna(o["stage"])
    o["max_idx"] = reach.reindex(o.index)
    o["month"] = (pd.to_datetime(o["created_at"], utc=True) + pd.Timedelta(hours=8)) \
        .dt.strftime("%Y-%m")
    o.groupby("snap")["amount"].agg(["size", "sum"])
    [int((o["max_idx"] >= i).sum()) for i in range(5)]
    h[~h["stage"].isin(["won", "lost"])].groupby("stage")["days"].mean()
    for dim in ("owner", "team", "region", "month"):
        o.groupby([dim, "snap"], dropna=False)["amount"].agg(["size", "sum"])
    return o


def timeit(fns: list[Any], repeat: int) -> list[float]:
    """Median seconds of each of ``fns``, run interleaved (a, b, a, b, ...) so that load
    from other jobs on the machine falls on all of them alike."""
    ts: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            ts[i].append(time.perf_counter() - t0)
    return [statistics.median(t) for t in ts]


def _loaded(db: Database, no: int) -> bool:
    """Whether a kept database already holds the data set (same order count)."""
    from sqlalchemy import func, select

    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(db.table("crm_order"))
                            ).scalar_one() == no


def _rfm_capped(db: Database, d: Any, repeat: int) -> None:
    """The RFM report with its customer list capped at 1000 (the default before lists were
    complete) beside the complete list, in the same run: what a complete list costs on the
    bridge, and on the add-in's side (the RFM sheet built with openpyxl and saved)."""
    capped = make_params(AS_OF, window_days=365, limit=CAP_BEFORE)
    full = make_params(AS_OF, window_days=365)
    t_cap, t_full = timeit([lambda: rfm(db, d, ADMIN, capped), lambda: rfm(db, d, ADMIN, full)],
                           repeat)
    reps = [jsonable_encoder(rfm(db, d, ADMIN, p)) for p in (capped, full)]
    rows = [sum(len(t["rows"]) for t in r["tables"].values() if "total" in t) for r in reps]
    print(f"RFM    list of {rows[0]} rows={t_cap:.2f}s of {rows[1]} rows={t_full:.2f}s "
          f"ratio={t_full / t_cap:.1f}", flush=True)
    s_cap, s_full = timeit([lambda: _sheet_seconds(reps[0]), lambda: _sheet_seconds(reps[1])],
                           repeat)
    print(f"RFM    sheet (openpyxl build + save) of {rows[0]} rows={s_cap:.2f}s "
          f"of {rows[1]} rows={s_full:.2f}s", flush=True)


def _sheet_seconds(rep: dict[str, Any]) -> None:
    """Build the RFM report sheet from ``rep`` and save the workbook (the refresh's file
    part for that sheet)."""
    wb = Workbook()
    build_sheet(wb, "rfm", rep, "zh")
    with tempfile.TemporaryDirectory() as tmp:
        wb.save(os.path.join(tmp, "rfm.xlsx"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--opps", type=int, default=1_000_000)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", metavar="NAME", default=None,
                    help="keep the data in this PostgreSQL schema / SQLite file and reuse it "
                         "on the next run with the same NAME (skips generate and load)")
    ap.add_argument("--only", choices=["rfm", "funnel"], default=None)
    a = ap.parse_args()
    nc, no, nopp = (int(x * a.scale) for x in (a.customers, a.orders, a.opps))
    d = build_dictionary()
    if a.backend == "postgres":
        schema: str | None = a.keep or f"bench_{uuid.uuid4().hex[:8]}"
        settings = Settings(database_url=PG_URL, database_schema=schema)
    else:
        schema = None
        path = a.keep or os.path.join(tempfile.mkdtemp(prefix="bench-reports-"), "bench.db")
        settings = Settings(database_url=f"sqlite:///{path}")
    db = connect(settings, d)
    create_schema(db, schema)  # on a kept database: applies newer migrations (indexes)
    try:
        if a.keep and _loaded(db, no):
            print(f"backend={a.backend} reusing {a.keep}", flush=True)
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        else:
            t0 = time.perf_counter()
            data = generate(nc, no, nopp)
            gen = time.perf_counter() - t0
            print(f"backend={a.backend} customers={nc} orders={no} opportunities={nopp} "
                  f"history={len(data['history'])} generate={gen:.1f}s", flush=True)
            print(f"load={load(db, data):.1f}s", flush=True)
            del data
        p = make_params(AS_OF, window_days=365)
        print(f"machine: {platform.machine()} {os.cpu_count()} cores, "
              f"python {platform.python_version()}, load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        if a.only in (None, "rfm"):
            t_rfm, t_prfm = timeit([lambda: rfm(db, d, ADMIN, p), lambda: pandas_rfm(db)],
                                   a.repeat)
            print(f"RFM    sql={t_rfm:.2f}s pandas={t_prfm:.2f}s "
                  f"ratio pandas/sql={t_prfm / t_rfm:.1f}", flush=True)
            _rfm_capped(db, d, a.repeat)
        if a.only in (None, "funnel"):
            t_fun, t_pfun = timeit([lambda: funnel(db, d, ADMIN, p),
                                    lambda: pandas_funnel(db)], a.repeat)
            print(f"funnel sql={t_fun:.2f}s pandas={t_pfun:.2f}s "
                  f"ratio pandas/sql={t_pfun / t_fun:.1f}", flush=True)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        db.engine.dispose()
        if schema and not a.keep:
            import psycopg

            with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test",
                                 autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
