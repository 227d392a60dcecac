"""Cross-check R, F and M against an independent pandas computation on the CDNOW sample
shipped with ``lifetimes`` (6,919 transactions of 2,357 customers, 1997-01 .. 1998-06).

Mapping of definitions: every CDNOW transaction becomes one signed order on its date with
its dollar amount. Our window is the whole observation period (1997-01-01 .. 1998-06-30,
546 days), as of 1998-06-30. Then
- our frequency = number of transactions (orders), while lifetimes' ``frequency`` counts
  *repeat purchase periods*: distinct purchase days − 1 (same-day orders merge);
- our recency = as-of − last purchase, while lifetimes' ``recency`` = last − first purchase
  and ``T`` = as-of − first purchase, so ours = T − recency;
- our monetary = total amount (lifetimes' ``monetary_value`` is a mean over repeat days).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from bridge.auth import User
from bridge.db import Database
from bridge.reports.params import make_params
from bridge.reports.rfm import rfm
from schema.dictionary import build_dictionary

pd = pytest.importorskip("pandas")
datasets = pytest.importorskip("lifetimes.datasets")
AS_OF = "1998-06-30"


def _load() -> object:
    df = datasets.load_dataset("CDNOW_sample.txt", header=None, sep=r"\s+",
                               names=["cust", "cust_b", "date", "cds", "amount"])
    df["date"] = pd.to_datetime(df["date"].astype(str), format="%Y%m%d")
    return df


def test_rfm_matches_pandas_on_cdnow(db: Database) -> None:
    df = _load()
    ids = {c: str(uuid.uuid5(uuid.NAMESPACE_URL, f"cdnow/{c}")) for c in df["cust"].unique()}
    at = datetime(1997, 1, 1, tzinfo=UTC)
    sys = {"version": 1, "created_by": "t", "created_at": at, "updated_by": "t",
           "updated_at": at, "deleted": False, "change_seq": 1, "owner": "admin",
           "shared": False}
    with db.write() as conn:
        conn.execute(insert(db.table("crm_customer")),
                     [{**sys, "id": i, "name": f"CDNOW {c}"} for c, i in ids.items()])
        conn.execute(insert(db.table("crm_order")), [
            {**sys, "id": str(uuid.uuid4()), "order_no": f"cd-{n}", "customer": ids[r.cust],
             "signed_on": r.date.date(), "amount": float(r.amount), "status": "signed"}
            for n, r in enumerate(df.itertuples())])
    rep = rfm(db, build_dictionary(), User("admin", "a", "admin", None, None),
              make_params(AS_OF, window_days=546, limit=100_000))
    cols = [c["key"] for c in rep["tables"]["customers"]["columns"]]
    ours = pd.DataFrame(rep["tables"]["customers"]["rows"], columns=cols)
    ours["cust"] = ours["name"].str.removeprefix("CDNOW ").astype(int)
    ours = ours.set_index("cust").sort_index()

    # independent pandas computation
    as_of = pd.Timestamp(AS_OF)
    g = df.groupby("cust")
    ref = pd.DataFrame({"recency_days": (as_of - g["date"].max()).dt.days,
                        "frequency": g.size(), "monetary": g["amount"].sum().round(2)})
    assert len(ours) == len(ref) == 2357 and rep["summary"]["buyers"] == 2357
    assert (ours["recency_days"] == ref["recency_days"]).all()
    assert (ours["frequency"] == ref["frequency"]).all()
    assert (ours["monetary"] - ref["monetary"]).abs().max() < 0.005
    assert ours["frequency"].sum() == 6919

    # the same numbers through lifetimes' own definitions, mapped explicitly
    from lifetimes.utils import summary_data_from_transaction_data

    lt = summary_data_from_transaction_data(df, "cust", "date", observation_period_end=AS_OF,
                                            freq="D").sort_index()
    assert ((lt["T"] - lt["recency"]).astype(int) == ours["recency_days"]).all()
    distinct_days = df.groupby("cust")["date"].nunique()
    assert ((lt["frequency"] + 1).astype(int) == distinct_days).all()
    assert (ours["frequency"] >= lt["frequency"] + 1).all()
    assert (ours["frequency"] > lt["frequency"] + 1).sum() > 0  # same-day orders exist

    # quintile scores follow the documented rank rule: 1 + floor(5 (rank - 1) / n)
    n = len(ref)
    m_rank = ref["monetary"].rank(method="min")
    assert ((1 + (5 * (m_rank - 1)) // n).astype(int) == ours["m_score"]).all()
    r_rank = (-ref["recency_days"]).rank(method="min")
    assert ((1 + (5 * (r_rank - 1)) // n).astype(int) == ours["r_score"]).all()
