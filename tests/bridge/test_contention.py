"""Contention: two bridge processes on one database (SQLite file or PostgreSQL schema),
16 concurrent clients pushing field edits over 200 shared customer records.

Default counts here: ``CRM_CONTENTION_PUSHES`` pushes per client (default 30, i.e. 480
pushes per backend) to keep the suite fast; the full 500 per client (8,000 pushes) runs
with ``CRM_CONTENTION_PUSHES=500`` or ``python bench/stress_sync.py contention``.

Checked: zero 5xx; every accepted change is in the final state and has exactly one audit
entry; the audit log, replayed field by field, gives the final state and each entry's old
value is the previous entry's new value (no lost update); each accepted field change had
the pusher's base value as its old value (no clash overwritten silently); each conflict
names a field that really changed since the pusher's base; ``/audit/verify`` is ok.
"""

from __future__ import annotations

import os
import random
import threading
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bridge.settings import Settings
from schema.dictionary import DICTIONARY_VERSION
from schema.sql import table_name
from tests.bridge.procs import BridgeProc, open_db, prepare_database, start_bridge_proc

PUSHES = int(os.environ.get("CRM_CONTENTION_PUSHES", "30"))
CLIENTS = 16
RECORDS = 200
FIELDS = {"address": None, "notes": None, "industry": ["it", "finance", "retail", "energy"],
          "company_size": ["micro", "small", "medium", "large"]}


def new_value(rng: random.Random, f: str, tag: str) -> Any:
    choices = FIELDS[f]
    if choices is None:
        return rng.choice([None, f"{tag}"])
    return rng.choice([None, *choices])


@dataclass
class Worker:
    api: str
    token: str
    name: str
    pushes: int
    seed: int
    local: dict[str, dict[str, Any]] = field(default_factory=dict)
    cursor: int = 0
    accepted: list[tuple[str, str, int, dict[str, Any], dict[str, Any]]] = \
        field(default_factory=list)  # (key, id, base_version, values, base)
    statuses: Counter[str] = field(default_factory=Counter)
    http: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def pull(self, c: httpx.Client, full: bool) -> None:
        params = {"entities": "customer"} | ({} if full else {"since": self.cursor})
        r = c.get("/pull", params=params)
        self.http[r.status_code] += 1
        assert r.status_code == 200, r.text
        p = r.json()
        d = p["entities"]["customer"]["data"]
        for i, rid in enumerate(d["id"]):
            self.local[rid] = {"version": d["version"][i], **{f: d[f][i] for f in FIELDS}}
        self.cursor = p["cursor"]

    def run(self) -> None:
        rng = random.Random(self.seed)
        try:
            with httpx.Client(base_url=self.api, timeout=120,
                              headers={"Authorization": f"Bearer {self.token}"}) as c:
                self.pull(c, full=True)
                ids = sorted(self.local)
                for n in range(self.pushes):
                    rid = rng.choice(ids)
                    rec = self.local[rid]
                    fields = rng.sample(sorted(FIELDS), rng.randint(1, 2))
                    values = {f: new_value(rng, f, f"{self.name}-{n}") for f in fields}
                    base = {f: rec[f] for f in fields}
                    b = {"idempotency_key": f"{self.name}-{n}-{uuid.uuid4().hex[:8]}",
                         "template_version": DICTIONARY_VERSION, "rows": [
                             {"op": "update", "entity": "customer", "id": rid,
                              "base_version": rec["version"], "values": values,
                              "base": base}]}
                    r = c.post("/push", json=b)
                    self.http[r.status_code] += 1
                    if r.status_code != 200:
                        self.errors.append(r.text)
                        continue
                    res = r.json()["results"][0]
                    self.statuses[res["status"]] += 1
                    if res["status"] in ("applied", "merged"):
                        self.accepted.append((b["idempotency_key"], rid, rec["version"],
                                              values, base))
                        if res["status"] == "applied":
                            rec.update(values, version=res["version"])
                        else:
                            self.pull(c, full=False)  # learn what was merged in
                    elif res["status"] == "conflict":
                        for cf in res["conflicts"]:
                            if not (cf["base"] != cf["theirs"] and cf["mine"] != cf["theirs"]):
                                self.errors.append(f"not a real clash: {cf}")
                            if cf["base"] != base[cf["field"]]:
                                self.errors.append(f"conflict base is not mine: {cf}")
                        srv = res["server"]
                        self.local[rid] = {"version": srv["version"],
                                           **{f: srv[f] for f in FIELDS}}
                    else:
                        self.errors.append(f"rejected: {res}")
                    if n % 25 == 24:
                        self.pull(c, full=False)
        except BaseException as exc:  # reported by the test
            self.errors.append(repr(exc))


def seed_records(api: str, token: str) -> None:
    rows = [{"op": "insert", "entity": "customer", "id": str(uuid.uuid4()),
             "values": {"name": f"共享客户{i:03d}", "region": "east"}} for i in range(RECORDS)]
    with httpx.Client(base_url=api, timeout=120,
                      headers={"Authorization": f"Bearer {token}"}) as c:
        r = c.post("/push", json={"idempotency_key": f"seed-{uuid.uuid4().hex}",
                                  "template_version": DICTIONARY_VERSION, "rows": rows})
        assert r.status_code == 200 and r.json()["counts"]["applied"] == RECORDS, r.text


def make_users(api: str, token: str, n: int) -> list[str]:
    tokens = []
    with httpx.Client(base_url=api, timeout=60,
                      headers={"Authorization": f"Bearer {token}"}) as c:
        for i in range(n):
            role = "admin" if i % 2 else "manager"
            r = c.post("/users", json={"username": f"w{i}", "role": role, "team": "t1",
                                       "region": "east"})
            assert r.status_code == 201, r.text
            tokens.append(r.json()["token"])
    return tokens


def run_contention(settings: Settings, log_dir: Path, pushes: int, clients: int = CLIENTS,
                   seed: int = 3) -> dict[str, Any]:
    token = prepare_database(settings)
    procs: list[BridgeProc] = [start_bridge_proc(settings, log_dir, wait=False)
                               for _ in range(2)]
    try:
        for p in procs:
            p.wait_healthy()
        seed_records(procs[0].api, token)
        tokens = make_users(procs[1].api, token, clients)
        workers = [Worker(procs[i % 2].api, tokens[i], f"w{i}", pushes, seed * 1000 + i)
                   for i in range(clients)]
        threads = [threading.Thread(target=w.run) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for p in procs:
            assert p.alive(), p.log()
        errors = [e for w in workers for e in w.errors]
        assert not errors, errors[:5]
        http = sum((w.http for w in workers), Counter())
        assert all(code < 500 for code in http), http
        assert set(http) == {200}, http
        statuses = sum((w.statuses for w in workers), Counter())
        assert sum(statuses.values()) == pushes * clients
        check_final(settings, workers)
        with httpx.Client(base_url=procs[0].api, timeout=120,
                          headers={"Authorization": f"Bearer {token}"}) as c:
            v = c.get("/audit/verify").json()
            assert v["ok"] is True, v
        return {"statuses": dict(statuses), "http": dict(http), "audit_entries": v["entries"]}
    finally:
        for p in procs:
            p.kill()


def check_final(settings: Settings, workers: list[Worker]) -> None:
    db = open_db(settings)
    try:
        t, a = db.table(table_name("customer")), db.table("sys_audit")
        with db.read() as conn:
            final = {r.id: dict(r._mapping) for r in conn.execute(select(t))}
            entries = conn.execute(
                select(a.c.id, a.c.push_key, a.c.record_id, a.c.action, a.c.changes)
                .where(a.c.entity == "customer", a.c.action == "update")
                .order_by(a.c.id)).all()
    finally:
        db.engine.dispose()
    import json

    by_key: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    state: dict[str, dict[str, Any]] = {rid: {f: None for f in FIELDS} for rid in final}
    versions: Counter[str] = Counter()
    for _, key, rid, _, changes in entries:
        ch = json.loads(changes)
        by_key[(key, rid)].append(ch)
        for f, (old, new) in ch.items():
            if f in FIELDS:
                assert state[rid][f] == old, f"lost update on {rid}.{f}: {old} after " \
                                             f"{state[rid][f]}"
                state[rid][f] = new
        versions[rid] += 1
    for rid, row in final.items():
        assert {f: row[f] for f in FIELDS} == state[rid], rid
        assert row["version"] == 1 + versions[rid], rid
    accepted = [a for w in workers for a in w.accepted]
    for key, rid, _base_version, values, base in accepted:
        got = by_key.get((key, rid), [])
        changed = {f for f, v in values.items()}
        if not got:
            # accepted without a change: every pushed value already was the server's
            continue
        assert len(got) == 1, (key, got)
        ch = got[0]
        assert set(ch) <= changed, (key, ch)
        for f, (old, new) in ch.items():
            assert new == values[f], (key, f)
            assert old == base[f], f"silent overwrite by {key}: {f} was {old}, base {base[f]}"
    keys = {k for k, _ in by_key}
    assert keys <= {a[0] for a in accepted}, "an audit entry for a push nobody saw accepted"


@pytest.mark.stress  # ~50-90 s a backend on 2 loaded cores
def test_two_processes_sixteen_clients(settings: Settings, tmp_path: Path) -> None:
    stats = run_contention(settings, tmp_path / "logs", PUSHES)
    assert stats["statuses"].get("conflict", 0) > 0, stats  # clashes really happened
    assert stats["statuses"].get("merged", 0) > 0, stats
    print(f"\n{settings.url().split(':')[0]}: {PUSHES}x{CLIENTS} pushes {stats}")
