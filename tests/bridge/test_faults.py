"""Faults: connections cut mid-request and mid-response by a proxy, and the bridge process
SIGKILLed in the middle of pushes.

* ``test_cut_connections_apply_exactly_once``: ``CRM_FAULT_PUSHES`` pushes (default 1,000
  on SQLite) and ``CRM_FAULT_PUSHES_PG`` (default 200 on PostgreSQL) through
  :mod:`tests.bridge.proxy`, each retried with the same idempotency key until
  answered; every push is applied exactly once (audit entries per key, record versions).
* ``test_sigkill_mid_push``: ``CRM_KILL_RUNS`` kills per backend (default 25 on SQLite and
  25 on PostgreSQL: 50 in the suite) of a real bridge subprocess while two clients push
  three-row batches; nothing acknowledged is lost, every batch is all or nothing, a retry
  of the batch in flight is applied once, and the audit chain verifies.

``bench/stress_sync.py faults`` / ``kills`` run the same with larger counts.
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bridge import audit
from bridge.db import Database
from bridge.settings import Settings
from schema.sql import table_name
from tests.bridge.helpers import body, insert, update
from tests.bridge.procs import BridgeProc, open_db, prepare_database, start_bridge_proc
from tests.bridge.proxy import CuttingProxy, random_policy
from tests.conftest import LiveBridge

FAULT_PUSHES = int(os.environ.get("CRM_FAULT_PUSHES", "1000"))  # on SQLite
FAULT_PUSHES_PG = int(os.environ.get("CRM_FAULT_PUSHES_PG", "200"))
KILL_RUNS = int(os.environ.get("CRM_KILL_RUNS", "25"))


def push_until_answered(client: httpx.Client, b: dict[str, Any], max_tries: int = 60
                        ) -> tuple[dict[str, Any], int]:
    """POST the same body (same idempotency key) until an HTTP answer arrives."""
    last: Exception | None = None
    for attempt in range(1, max_tries + 1):
        try:
            r = client.post("/push", json=b)
        except httpx.TransportError as exc:
            last = exc
            continue
        assert r.status_code == 200, r.text
        return r.json(), attempt
    raise AssertionError(f"no answer after {max_tries} tries: {last!r}")


def audit_per_key(db: Database) -> dict[str, Counter[tuple[str, str, str]]]:
    t = db.table("sys_audit")
    out: dict[str, Counter[tuple[str, str, str]]] = defaultdict(Counter)
    with db.read() as conn:
        for key, action, entity, rid in conn.execute(
                select(t.c.push_key, t.c.action, t.c.entity, t.c.record_id)
                .where(t.c.push_key.is_not(None))):
            out[key][(action, entity, rid)] += 1
    return out


def run_cut_connections(upstream_port: int, api_token: str, db: Database, n: int,
                        seed: int = 1) -> dict[str, Any]:
    """``n`` pushes through a cutting proxy, then check exactly-once. Returns stats."""
    rng = random.Random(seed)
    expected: dict[str, Counter[tuple[str, str, str]]] = {}
    versions: dict[str, int] = {}
    notes: dict[str, str] = {}
    contacts: set[str] = set()
    attempts_total, replayed = 0, 0
    with CuttingProxy(upstream_port, random_policy(rng)) as proxy, httpx.Client(
            base_url=proxy.url + "/api/v1", headers={"Authorization": f"Bearer {api_token}"},
            limits=httpx.Limits(max_keepalive_connections=0), timeout=30) as c:
        for i in range(n):
            kind = i % 3 if versions else 0
            if kind == 0:  # customer + contact in one push
                name = f"客户-{uuid.uuid4().hex[:10]}"
                cu = insert("customer", name=name, region="east")
                co = insert("contact", customer=name, name="联系人")
                b = body(cu, co)
                exp = Counter({("insert", "customer", cu["id"]): 1,
                               ("insert", "contact", co["id"]): 1})
                versions[cu["id"]] = 1
                contacts.add(co["id"])
            elif kind == 1:
                cu = insert("customer", name=f"客户-{uuid.uuid4().hex[:10]}", region="north")
                b = body(cu)
                exp = Counter({("insert", "customer", cu["id"]): 1})
                versions[cu["id"]] = 1
            else:
                cid = rng.choice(sorted(versions))
                note = f"n{i}"
                b = body(update("customer", cid, versions[cid], {"notes": note},
                                {"notes": notes.get(cid)}))
                exp = Counter({("update", "customer", cid): 1})
                versions[cid] += 1
                notes[cid] = note
            res, attempts = push_until_answered(c, b)
            attempts_total += attempts
            replayed += bool(res["replayed"])
            assert all(r["status"] == "applied" for r in res["results"]), res
            assert res["counts"]["applied"] == len(b["rows"]), res
            expected[b["idempotency_key"]] = exp
        stats = dict(proxy.stats)
    got = audit_per_key(db)
    assert set(got) == set(expected)
    for k, exp in expected.items():
        assert got[k] == exp, (k, got[k], exp)
    cust, cont = db.table(table_name("customer")), db.table(table_name("contact"))
    with db.read() as conn:
        rows = {r.id: (r.version, r.notes) for r in conn.execute(
            select(cust.c.id, cust.c.version, cust.c.notes))}
        n_contacts = conn.execute(select(func.count()).select_from(cont)).scalar_one()
        assert audit.verify(db, conn).ok
    assert {k: v[0] for k, v in rows.items()} == versions
    assert {k: v[1] for k, v in rows.items() if v[1] is not None} == notes
    assert n_contacts == len(contacts)
    stats.update(pushes=n, attempts=attempts_total, replayed=replayed)
    return stats


@pytest.mark.stress  # minutes: cut connections on both backends
def test_cut_connections_apply_exactly_once(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    port = int(lb.url.rsplit(":", 1)[1])
    n = FAULT_PUSHES if lb.db.dialect == "sqlite" else FAULT_PUSHES_PG
    stats = run_cut_connections(port, lb.admin_token, lb.db, n)
    # the faults really happened, and lost answers were recovered by replay
    assert stats["cut_request_done"] > n // 10, stats
    assert stats["cut_response_done"] > n // 10, stats
    assert stats["replayed"] > 0, stats
    print(f"\n{lb.db.dialect}: {stats}")
    with lb.client() as c:
        assert c.get("/audit/verify").json()["ok"] is True


# ---------------------------------------------------------------------------- SIGKILL


class Pusher(threading.Thread):
    """Pushes three-row batches (customer + two contacts) until stopped or cut off."""

    def __init__(self, api: str, token: str, tag: str) -> None:
        super().__init__(daemon=True)
        self.api, self.token, self.tag = api, token, tag
        self.acked: list[dict[str, Any]] = []
        self.in_flight: dict[str, Any] | None = None
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with httpx.Client(base_url=self.api, timeout=30,
                              headers={"Authorization": f"Bearer {self.token}"}) as c:
                while not self.stop.is_set():
                    name = f"{self.tag}-{uuid.uuid4().hex[:12]}"
                    b = body(insert("customer", name=name, region="east"),
                             insert("contact", customer=name, name="甲"),
                             insert("contact", customer=name, name="乙"))
                    self.in_flight = b
                    try:
                        r = c.post("/push", json=b)
                    except httpx.TransportError:
                        return  # the bridge died with this batch in flight
                    assert r.status_code == 200, r.text
                    assert r.json()["counts"]["applied"] == 3, r.text
                    self.acked.append(b)
                    self.in_flight = None
        except BaseException as exc:  # surfaced by the test
            self.error = exc


def _present(db: Database, batches: list[dict[str, Any]]) -> dict[str, int]:
    """Per push key: how many of its rows exist (all three or none is the rule)."""
    ids = {row["id"]: b["idempotency_key"] for b in batches for row in b["rows"]}
    count: Counter[str] = Counter({b["idempotency_key"]: 0 for b in batches})
    with db.read() as conn:
        for entity in ("customer", "contact"):
            t = db.table(table_name(entity))
            id_list = list(ids)
            for i in range(0, len(id_list), 500):
                for (rid,) in conn.execute(select(t.c.id).where(t.c.id.in_(id_list[i:i + 500]))):
                    count[ids[rid]] += 1
    return dict(count)


def _warm(bp: BridgeProc, token: str) -> None:
    """One push so the process has loaded everything before the timed window."""
    with httpx.Client(base_url=bp.api, timeout=30,
                      headers={"Authorization": f"Bearer {token}"}) as c:
        r = c.post("/push", json=body(insert("customer", name=f"warm-{uuid.uuid4().hex}")))
        assert r.status_code == 200, r.text


def run_kills(settings: Settings, log_dir: Path, runs: int, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    token = prepare_database(settings)
    db = open_db(settings)
    all_batches: list[dict[str, Any]] = []
    acked_keys: set[str] = set()
    stats: Counter[str] = Counter()
    cur: BridgeProc = start_bridge_proc(settings, log_dir)
    nxt: BridgeProc | None = start_bridge_proc(settings, log_dir, wait=False)
    try:
        _warm(cur, token)
        for run in range(runs):
            assert nxt is not None
            nxt.wait_healthy()  # the standby is up before the pushes begin
            pushers = [Pusher(cur.api, token, f"r{run}p{i}") for i in range(2)]
            for p in pushers:
                p.start()
            deadline = time.monotonic() + 10  # let a push be acknowledged, then kill soon
            while not any(p.acked for p in pushers) and time.monotonic() < deadline \
                    and all(p.is_alive() for p in pushers):
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.15))
            cur.kill()
            for p in pushers:
                p.join(30)
                assert not p.is_alive()
                if p.error is not None:
                    raise p.error
            cur, nxt = nxt, (start_bridge_proc(settings, log_dir, wait=False)
                             if run < runs - 1 else None)
            in_flight = [p.in_flight for p in pushers if p.in_flight is not None]
            for p in pushers:
                all_batches.extend(p.acked)
                acked_keys.update(b["idempotency_key"] for b in p.acked)
                stats["acked"] += len(p.acked)
            all_batches.extend(in_flight)
            present = _present(db, all_batches)
            for k, n in present.items():
                assert n in (0, 3), f"run {run}: push {k} half applied ({n} of 3 rows)"
                if k in acked_keys:
                    assert n == 3, f"run {run}: acknowledged push {k} lost"
            # the client retries what was in flight: applied exactly once either way
            with httpx.Client(base_url=cur.api, timeout=30,
                              headers={"Authorization": f"Bearer {token}"}) as c:
                for b in in_flight:
                    was = present[b["idempotency_key"]]
                    stats["in_flight_committed" if was else "in_flight_lost"] += 1
                    res, _ = push_until_answered(c, b, max_tries=3)
                    assert res["counts"]["applied"] == 3, res
                    if settings.url().startswith("sqlite"):
                        # (PostgreSQL may still commit a COMMIT sent just before the kill
                        # after we looked: then the retry is a replay, which is fine)
                        assert res["replayed"] is bool(was), (was, res)
                    acked_keys.add(b["idempotency_key"])
            per_key = audit_per_key(db)
            for b in all_batches:
                k = b["idempotency_key"]
                want = 1 if k in acked_keys else 0
                assert all(per_key[k][("insert", row["entity"], row["id"])] == want
                           for row in b["rows"]), (k, per_key[k])
            with db.read() as conn:
                v = audit.verify(db, conn)
                assert v.ok, v
            _warm(cur, token)
            stats["kills"] += 1
        return dict(stats)
    finally:
        cur.kill()
        if nxt is not None:
            nxt.kill()
        db.engine.dispose()


@pytest.mark.stress  # kills and restarts bridge processes
def test_sigkill_mid_push(settings: Settings, tmp_path: Path) -> None:
    stats = run_kills(settings, tmp_path / "logs", KILL_RUNS)
    assert stats["kills"] == KILL_RUNS
    assert stats["acked"] >= KILL_RUNS, stats
    print(f"\n{settings.url().split(':')[0]}: {stats}")


@pytest.mark.parametrize("fraction", [0.0, 0.5, 0.99])
def test_proxy_cuts_where_asked(live_bridge: LiveBridge, fraction: float) -> None:
    """The proxy itself: a cut response never reaches the client whole."""
    port = int(live_bridge.url.rsplit(":", 1)[1])
    with CuttingProxy(port, lambda: ("cut_response", fraction)) as proxy, pytest.raises(
            httpx.TransportError):
        httpx.get(proxy.url + "/api/v1/health", timeout=5)
    with CuttingProxy(port, lambda: ("cut_request", max(fraction, 0.01))) as proxy, \
            pytest.raises(httpx.TransportError):
        httpx.post(proxy.url + "/api/v1/push", json=body(insert("customer", name="x")),
                   headers={"Authorization": f"Bearer {live_bridge.admin_token}"}, timeout=5)
    with live_bridge.client() as c:
        assert c.get("/pull").json()["entities"]["customer"]["data"]["id"] == []
