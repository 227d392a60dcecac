"""Random permission probes against a live bridge: seeded draws of (user, role, team,
region, record, field, route, verb), each answer checked against ``tests.security.model``.

Counted as violations: ``out_of_scope`` (a row, import or report line outside the caller's
scope in an answer), ``hidden_fields`` (a column the caller's role may not read),
``forbidden_writes`` (a write or an admin-only call the rules refuse, taken), ``silent_writes``
(stored rows that differ from the probes' copy: a change the answers did not admit). Counted
apart, as correctness: ``allowed_refused`` (a write the rules allow, refused),
``missing_rows`` (an in-scope row not in a full pull), ``wrong_values`` and
``wrong_refusals`` (refused, but not with a code the rules name).
"""

from __future__ import annotations

import random
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from schema.dictionary import DICTIONARY_VERSION
from schema.permissions import row_scope
from schema.types import Scope
from tests.security.model import (
    DICT,
    ENTITIES,
    REGIONS,
    ROLES,
    ROW_REGIONS,
    STRANGER,
    SYSTEM,
    TEAMS,
    ProbeUser,
    Store,
    probe_fields,
    random_value,
    readable,
    write_refusals,
)

VIOLATIONS = ("out_of_scope", "hidden_fields", "forbidden_writes", "silent_writes")
NOTED = ("allowed_refused", "missing_rows", "wrong_values", "wrong_refusals")
WEIGHTS = {"pull": 14, "pull_entities": 10, "pull_since": 10, "update": 34, "insert": 6,
           "delete": 6, "admin_route": 10, "import": 8, "me": 2}
MAX_CUSTOMERS = 120  # inserts give way to deletes of probe-made customers beyond this
ADMIN_BODIES: dict[str, Any] = {  # bodies an admin-only call would take (so it is not a 422)
    "POST /users": {"username": "probe_new", "role": "admin"},
    "POST /audit/restore": {"audit_id": 1, "field": "notes"},
    "POST /audit/undo": {"push_key": "k-none"},
    "POST /reports/rules": {"name": "probe", "condition": [
        {"metric": "monetary", "op": ">", "value": 1}], "target": "value_tier", "value": "a"},
    "PUT /reports/rules/{rule_id}": {"name": "probe", "condition": [
        {"metric": "monetary", "op": ">", "value": 1}], "target": "value_tier", "value": "a"},
}


@dataclass
class Tally:
    probes: int = 0
    checks: int = 0  # (row, column) values and refusals compared
    routes: Counter[str] = field(default_factory=Counter)
    route_seconds: Counter[str] = field(default_factory=Counter)
    writes: Counter[str] = field(default_factory=Counter)  # op, the rules' word, the answer
    counts: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def bad(self, kind: str, n: int = 1, what: str = "") -> None:
        if n <= 0:
            return
        self.counts[kind] += n
        if len(self.examples) < 20:
            self.examples.append(f"{kind}: {what}"[:500])

    def violations(self) -> int:
        return sum(self.counts[k] for k in VIOLATIONS)


_IDS = re.compile(r"/(p\d+|[0-9a-f]{8}-[0-9a-f-]{27}|\d+)(?=/|$)")


def route_of(method: str, path: str) -> str:
    """``POST /imports/{id}/dry-run`` for a concrete path (a tally by route, not by id)."""
    return f"{method} {_IDS.sub('/{id}', path.split('?')[0])}"


def _key() -> str:
    return f"probe-{uuid.uuid4().hex}"


class Prober:
    """One world (users, records, imports) on a live bridge, and the probes against it."""

    def __init__(self, url: str, admin_token: str, seed: int) -> None:
        self.rng = random.Random(seed)
        self.url = url
        self.http = httpx.Client(base_url=url + "/api/v1", timeout=120)
        self.admin = ProbeUser("admin", "admin", None, None, admin_token)
        self.users: list[ProbeUser] = []
        self.store = Store()
        self.imports: dict[str, str] = {}  # import id -> creator
        self.made: list[str] = []  # customers the probes inserted (no children)
        self.cursors: list[int] = [0]
        self.tally = Tally()
        self.admin_ops: list[tuple[str, str]] = []

    def close(self) -> None:
        self.http.close()

    def call(self, user: ProbeUser, method: str, path: str, **kw: Any) -> httpx.Response:
        t0 = time.perf_counter()
        try:
            return self.http.request(method, path, headers={
                "Authorization": f"Bearer {user.token}"}, **kw)
        finally:
            self.tally.routes[route_of(method, path)] += 1
            self.tally.route_seconds[route_of(method, path)] += time.perf_counter() - t0

    # --- the world -------------------------------------------------------------------------

    def build(self, n_users: int = 10, n_customers: int = 30, n_children: int = 36) -> None:
        rng = self.rng
        roles = [*ROLES, *rng.choices(ROLES, k=max(0, n_users - len(ROLES)))]
        for i, r in enumerate(roles):
            u = ProbeUser(f"p{i}", r, rng.choice(TEAMS), rng.choice(REGIONS))
            resp = self.call(self.admin, "POST", "/users", json={
                "username": u.username, "role": u.role, "team": u.team, "region": u.region})
            resp.raise_for_status()
            self.users.append(ProbeUser(u.username, u.role, u.team, u.region,
                                        resp.json()["token"]))
        names = [f"探针客户{i}-{uuid.uuid4().hex[:6]}" for i in range(n_customers)]
        rows = [self._insert("customer", {"name": n, "decision_chain": "CEO"}) for n in names]
        for _ in range(n_children):
            entity = rng.choice(ENTITIES[1:])
            rows.append(self._insert(entity, self._child_values(entity, rng.choice(names))))
        answer = self.push(self.admin, rows)
        assert answer["counts"]["applied"] == len(rows), answer
        self.resync()
        for u in self.users:
            resp = self.call(u, "POST", "/imports", json={"entity": "customer"})
            resp.raise_for_status()
            self.imports[resp.json()["id"]] = u.username
        doc = httpx.get(self.url + "/openapi.json", timeout=60).json()
        self.admin_ops = sorted(
            (m.upper(), p.removeprefix("/api/v1")) for p, ops in doc["paths"].items()
            for m, op in ops.items()
            if any("ADMIN_ONLY" in a.get("description", "") for a in op["responses"].values()))

    def _scope(self) -> dict[str, Any]:
        rng = self.rng
        owners = [u.username for u in self.users] + [STRANGER]
        return {"owner": rng.choice(owners), "team": rng.choice(TEAMS),
                "region": rng.choice(ROW_REGIONS), "shared": rng.random() < 0.5}

    def _child_values(self, entity: str, customer: str) -> dict[str, Any]:
        v: dict[str, Any] = {"customer": customer}
        if entity == "contact":
            v.update(name=f"联系人-{uuid.uuid4().hex[:6]}", wechat="wx-secret")
        elif entity == "opportunity":
            v.update(name=f"商机-{uuid.uuid4().hex[:6]}", stage="proposal", amount=1000)
        else:
            v.update(subject=f"工单-{uuid.uuid4().hex[:6]}", status="open",
                     opened_on="2026-01-05")
        return v

    def _insert(self, entity: str, values: dict[str, Any]) -> dict[str, Any]:
        return {"op": "insert", "entity": entity, "id": str(uuid.uuid4()),
                "values": {**values, **self._scope()}}

    def push(self, user: ProbeUser, rows: list[dict[str, Any]]) -> dict[str, Any]:
        resp = self.call(user, "POST", "/push", json={
            "idempotency_key": _key(), "template_version": DICTIONARY_VERSION, "rows": rows})
        assert resp.status_code == 200, (resp.status_code, resp.text[:500])
        out: dict[str, Any] = resp.json()
        return out

    def admin_pull(self) -> dict[str, Any]:
        resp = self.call(self.admin, "GET", "/pull", params={"entities": ",".join(ENTITIES)})
        resp.raise_for_status()
        out: dict[str, Any] = resp.json()
        return out

    def resync(self, written: tuple[str, str] | None = None) -> None:
        """Compare the stored rows with the probes' copy (all but ``written``, the row an
        accepted write just changed), then take them as the copy."""
        fresh = Store()
        fresh.load_pull(self.admin_pull())
        if self.store.rows["customer"]:
            for entity in ENTITIES:
                old, new = self.store.rows[entity], fresh.rows[entity]
                for rid in set(old) | set(new):
                    if written not in ((entity, rid), (entity, "*")) \
                            and old.get(rid) != new.get(rid) and not (
                            old.get(rid, {}).get("deleted") and rid not in new):
                        self.tally.bad("silent_writes", 1, f"{entity} {rid}: "
                                       f"{old.get(rid)} -> {new.get(rid)}")
        self.store = fresh

    # --- probes ----------------------------------------------------------------------------

    def run(self, probes: int, progress: Callable[[Tally], None] | None = None) -> Tally:
        start = time.perf_counter()
        kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
        for n in range(probes):
            kind = self.rng.choices(kinds, weights)[0]
            getattr(self, f"probe_{kind}")(self.rng.choice([*self.users, self.admin]))
            self.tally.probes += 1
            if n % 250 == 249:
                self.resync()
            if progress and n % 5000 == 4999:
                self.tally.seconds = time.perf_counter() - start
                progress(self.tally)
        self.resync()
        self.tally.seconds = time.perf_counter() - start
        return self.tally

    def check_pull(self, user: ProbeUser, body: dict[str, Any], wanted: list[str] | None,
                   full: bool) -> None:
        t = self.tally
        got = body["entities"]
        if full is False or wanted is None:
            self.cursors.append(int(body["cursor"]))
        for e in DICT:
            ent = got.get(e.code)
            if row_scope(user.role, e) is Scope.NONE or (wanted and e.code not in wanted):
                if ent is not None:
                    t.bad("hidden_fields" if row_scope(user.role, e) is Scope.NONE
                          else "wrong_values", len(ent["columns"]), f"{user} got {e.code}")
                    t.bad("out_of_scope", len(ent["data"].get("id", [])), f"{user} {e.code}")
                continue
            if ent is None:
                t.bad("missing_rows", 1, f"{user}: no {e.code} in the pull")
                continue
            cols = readable(user, e)
            extra = (set(ent["columns"]) | set(ent["data"])) - set(cols)
            t.bad("hidden_fields", len(extra), f"{user} {e.code} {sorted(extra)}")
            t.bad("wrong_values", int(ent["columns"] != cols), f"{user} {e.code} columns")
            self._check_rows(user, e.code, ent, cols, full)

    def _check_rows(self, user: ProbeUser, entity: str, ent: dict[str, Any], cols: list[str],
                    full: bool) -> None:
        t = self.tally
        want = self.store.visible_ids(user, entity) if entity in ENTITIES else set()
        ids = ent["data"]["id"]
        t.checks += len(ids) * len(cols) + len(want)
        outside = set(ids) - want
        t.bad("out_of_scope", len(outside), f"{user} {entity} {sorted(outside)[:3]}")
        if full:
            t.bad("missing_rows", len(want - set(ids)), f"{user} {entity}")
        rows = self.store.rows.get(entity, {})
        for i, rid in enumerate(ids):
            if rid in want:
                wrong = [c for c in cols if c in ent["data"]
                         and ent["data"][c][i] != rows[rid].get(c)]
                t.bad("wrong_values", len(wrong), f"{user} {entity} {rid} {wrong}")

    def probe_pull(self, user: ProbeUser) -> None:
        resp = self.call(user, "GET", "/pull")
        assert resp.status_code == 200, resp.text[:300]
        self.check_pull(user, resp.json(), None, True)

    def probe_pull_entities(self, user: ProbeUser) -> None:
        wanted = self.rng.sample([e.code for e in DICT], self.rng.randint(1, 3))
        resp = self.call(user, "GET", "/pull", params={"entities": ",".join(wanted)})
        assert resp.status_code == 200, resp.text[:300]
        self.check_pull(user, resp.json(), wanted, True)

    def probe_pull_since(self, user: ProbeUser) -> None:
        since = self.rng.choice(self.cursors[-50:])
        resp = self.call(user, "GET", "/pull", params={"since": since})
        assert resp.status_code == 200, resp.text[:300]
        self.check_pull(user, resp.json(), None, False)

    def probe_update(self, user: ProbeUser) -> None:
        rng = self.rng
        entity = rng.choice(ENTITIES)
        e = DICT.entity(entity)
        mine = sorted(self.store.visible_ids(user, entity))
        ids = mine if mine and rng.random() < 0.5 else self.store.live(entity)
        rid = rng.choice(ids)
        before = self.store.rows[entity][rid]
        code = rng.choice(probe_fields(e))
        value = random_value(rng, e, code, self.users)
        for _ in range(5):  # a change, not the stored value
            if code in SYSTEM or value != before.get(code):
                break
            value = random_value(rng, e, code, self.users)
        else:
            return
        refusals = write_refusals(user, e, {code: value}, before, {**before, code: value})
        row = {"op": "update", "entity": entity, "id": rid, "base_version": before["version"],
               "values": {code: value}, "base": {code: before.get(code)}}
        self._judge(user, row, refusals, (entity, rid))

    def probe_insert(self, user: ProbeUser) -> None:
        if len(self.store.live("customer")) >= MAX_CUSTOMERS and self.made:
            self.probe_delete(user, self.made)
            return
        e = DICT.entity("customer")
        scope = self._scope()
        values: dict[str, Any] = {"name": f"新客户-{uuid.uuid4().hex[:10]}"}
        values.update({k: v for k, v in scope.items() if self.rng.random() < 0.5})
        after = {"owner": user.username, "team": user.team, "region": user.region,
                 "shared": False}
        after.update({k: v for k, v in values.items() if k in after and v is not None})
        row = {"op": "insert", "entity": "customer", "id": str(uuid.uuid4()), "values": values}
        if self._judge(user, row, write_refusals(user, e, values, None, after),
                       ("customer", row["id"])):
            self.made.append(row["id"])

    def probe_delete(self, user: ProbeUser, pool: list[str] | None = None) -> None:
        entity = "customer" if pool else self.rng.choice(ENTITIES[1:])
        ids = [i for i in (pool or self.store.live(entity))
               if not self.store.rows[entity].get(i, {}).get("deleted")
               and i in self.store.rows[entity]]
        if not pool and len(ids) < 12:  # keep children to probe: the admin adds some
            names = [self.store.rows["customer"][i]["name"] for i in self.store.live("customer")]
            self.push(self.admin, [self._insert(entity, self._child_values(
                entity, self.rng.choice(names))) for _ in range(12)])
            self.resync(written=(entity, "*"))
            return
        rid = self.rng.choice(ids)
        before = self.store.rows[entity][rid]
        refusals = write_refusals(user, DICT.entity(entity), {}, before, None)
        row = {"op": "delete", "entity": entity, "id": rid, "base_version": before["version"]}
        if self._judge(user, row, refusals, (entity, rid)) and pool:
            pool.remove(rid)

    def _judge(self, user: ProbeUser, row: dict[str, Any], refusals: set[str],
               written: tuple[str, str]) -> bool:
        """Push ``row`` as ``user`` and hold the answer to ``refusals``; True if taken."""
        result = self.push(user, [row])["results"][0]
        taken = result["status"] in ("applied", "merged")
        codes = {err["code"] for err in result["errors"]}
        self.tally.checks += 1
        self.tally.writes[f"{row['op']} {'refused' if refusals else 'allowed'} "
                          f"{'taken' if taken else 'refused'}"] += 1
        what = f"{user.username}/{user.role} {row['op']} {row['entity']} {row.get('values')}"
        if refusals and taken:
            self.tally.bad("forbidden_writes", 1, f"{what} taken; rules: {sorted(refusals)}")
        elif refusals and not refusals & codes:
            self.tally.bad("wrong_refusals", 1, f"{what}: {sorted(codes)} not {refusals}")
        elif not refusals and not taken:
            self.tally.bad("allowed_refused", 1, f"{what}: {result['status']} {codes}")
        if taken:
            self.resync(written)
        return taken

    def probe_admin_route(self, user: ProbeUser) -> None:
        if user.admin:
            return self.probe_me(user)
        method, path = self.rng.choice(self.admin_ops)
        body = ADMIN_BODIES.get(f"{method} {path}")
        url = (path.replace("{username}", self.rng.choice(self.users).username)
               .replace("{import_id}", self.rng.choice(list(self.imports)))
               .replace("{rule_id}", "1"))
        resp = self.call(user, method, url, json=body if method != "GET" else None)
        self.tally.checks += 1
        code = resp.json().get("error", {}).get("code") if resp.status_code >= 400 else None
        if resp.status_code < 400:
            self.tally.bad("forbidden_writes", 1, f"{user} {method} {url}: {resp.status_code}")
        elif code != "ADMIN_ONLY":
            self.tally.bad("wrong_refusals", 1, f"{user} {method} {url}: {code}")
        return None

    def probe_import(self, user: ProbeUser) -> None:
        iid = self.rng.choice(list(self.imports))
        allowed = user.admin or self.imports[iid] == user.username
        verb, path = self.rng.choice([("GET", f"/imports/{iid}"), ("GET", "/imports"),
                                      ("GET", f"/imports/{iid}/decisions"),
                                      ("POST", f"/imports/{iid}/dry-run")])
        resp = self.call(user, verb, path)
        self.tally.checks += 1
        if path == "/imports":
            foreign = [i["id"] for i in resp.json() if not user.admin
                       and self.imports.get(i["id"]) != user.username]
            self.tally.bad("out_of_scope", len(foreign), f"{user} listed {foreign}")
        elif not allowed and resp.status_code < 400:
            self.tally.bad("out_of_scope" if verb == "GET" else "forbidden_writes", 1,
                           f"{user} {verb} {path}: {resp.status_code}")
        elif not allowed and resp.json()["error"]["code"] != "IMPORT_NOT_FOUND":
            self.tally.bad("wrong_refusals", 1, f"{user} {verb} {path}: {resp.text[:200]}")

    def probe_me(self, user: ProbeUser) -> None:
        me = self.call(user, "GET", "/me").json()
        for e in DICT:
            cols = readable(user, e)[2:] if row_scope(user.role, e) is not Scope.NONE else []
            self.tally.checks += 1
            extra = set(me["visible_fields"].get(e.code, [])) - set(cols)
            self.tally.bad("hidden_fields", len(extra), f"{user} /me {e.code} {extra}")


def run_probes(url: str, admin_token: str, probes: int, seed: int,
               progress: Callable[[Tally], None] | None = None) -> Tally:
    """Build a world on the bridge at ``url`` and run ``probes`` probes against it."""
    p = Prober(url, admin_token, seed)
    try:
        p.build()
        return p.run(probes, progress)
    finally:
        p.close()
