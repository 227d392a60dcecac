"""History on a pushed insert (``RowChange.history``), on both backends: an admin's import
keeps the old record's creation time and stage history; anyone else, or an update, is
refused naming the row; bad moments are refused naming the history field; a lost deal
without a reason is stored as ``unknown`` with a warning."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select

from bridge import audit
from bridge.auth import User, add_user
from bridge.db import Database
from bridge.sync.push import push_json
from schema.dictionary import build_dictionary
from schema.sql import table_name
from schema.wire import PushRequest
from tests.conftest import LiveBridge

D = build_dictionary()
ADMIN = User("admin", "Admin", "admin", None, None)


def _push(db: Database, user: User, *rows: dict[str, Any]) -> list[dict[str, Any]]:
    req = PushRequest.model_validate({"idempotency_key": f"k-{uuid.uuid4().hex}",
                                      "template_version": D.version, "rows": list(rows)})
    return list(orjson.loads(push_json(db, D, user, req, max_rows=100))["results"])


def _row(entity: str, values: dict[str, Any], history: dict[str, Any] | None = None,
         row: int = 7) -> dict[str, Any]:
    out: dict[str, Any] = {"op": "insert", "entity": entity, "id": str(uuid.uuid4()),
                           "values": values, "row": row}
    if history is not None:
        out["history"] = history
    return out


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _created(db: Database, entity: str, rid: str) -> datetime:
    t = db.table(table_name(entity))
    with db.read() as conn:
        value = conn.execute(select(t.c.created_at).where(t.c.id == rid)).scalar_one()
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _stages(db: Database, rid: str) -> list[tuple[str, datetime]]:
    h = db.table("sys_stage_history")
    with db.read() as conn:
        rows = conn.execute(select(h.c.stage, h.c.entered_at).where(h.c.opportunity_id == rid)
                            .order_by(h.c.entered_at, h.c.id)).all()
    return [(s, at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC))
            for s, at in rows]


def _customer(db: Database, name: str = "历史客户") -> None:
    assert _push(db, ADMIN, _row("customer", {"name": name}))[0]["status"] == "applied"


def test_stage_history_is_stored_as_given(db: Database) -> None:
    _customer(db)
    deal = _row("opportunity", {"name": "旧商机", "customer": "历史客户", "stage": "won"},
                {"created_at": "2021-02-20",
                 "stages": {"initial_contact": "2021-03-02", "proposal": "2021-04-01 10:30",
                            "won": "2021-06-30T09:00:00+00:00"}})
    res = _push(db, ADMIN, deal)[0]
    assert res["status"] == "applied" and res["warnings"] == [], res
    # a day is its midnight in the team's zone (Asia/Shanghai); a time without an offset too
    assert _created(db, "opportunity", deal["id"]) == _utc("2021-02-20T00:00:00+08:00")
    assert _stages(db, deal["id"]) == [
        ("initial_contact", _utc("2021-03-02T00:00:00+08:00")),
        ("proposal", _utc("2021-04-01T10:30:00+08:00")),
        ("won", _utc("2021-06-30T09:00:00+00:00"))]
    # the audit entry records the push; its changes hold the values and the history
    with db.read() as conn:
        [entry] = audit.query(db, conn, record_id=deal["id"])
    assert entry["at"] > "2026" and entry["changes"]["stage"] == [None, "won"]
    assert entry["changes"]["$history"] == [None, {
        "created_at": "2021-02-19T16:00:00+00:00",
        "stages": [["initial_contact", "2021-03-01T16:00:00+00:00"],
                   ["proposal", "2021-04-01T02:30:00+00:00"],
                   ["won", "2021-06-30T09:00:00+00:00"]]}]


def test_history_built_from_created_and_closed(db: Database) -> None:
    _customer(db)
    won = _row("opportunity", {"name": "赢单", "customer": "历史客户", "stage": "won"},
               {"created_at": "2022-01-10", "closed_at": "2022-03-01 15:00"})
    open_ = _row("opportunity", {"name": "在谈", "customer": "历史客户", "stage": "proposal"},
                 {"created_at": "2022-05-05"})
    first = _row("opportunity", {"name": "只有阶段", "customer": "历史客户", "stage": "lost",
                                 "lost_reason": "price"},
                 {"stages": {"initial_contact": "2020-01-01", "lost": "2020-02-01"}})
    assert [r["status"] for r in _push(db, ADMIN, won, open_, first)] == ["applied"] * 3
    assert _stages(db, won["id"]) == [("initial_contact", _utc("2022-01-10T00:00:00+08:00")),
                                      ("won", _utc("2022-03-01T15:00:00+08:00"))]
    assert _stages(db, open_["id"]) == [("proposal", _utc("2022-05-05T00:00:00+08:00"))]
    # without created_at the record was created when its first stage was entered
    assert _created(db, "opportunity", first["id"]) == _utc("2020-01-01T00:00:00+08:00")


def test_customer_created_at_and_a_plain_push_unchanged(db: Database) -> None:
    old = _row("customer", {"name": "老客户"}, {"created_at": "2019-07-01T08:00:00+08:00"})
    new = _row("customer", {"name": "新客户"})
    assert [r["status"] for r in _push(db, ADMIN, old, new)] == ["applied"] * 2
    assert _created(db, "customer", old["id"]) == _utc("2019-07-01T00:00:00+00:00")
    assert _created(db, "customer", new["id"]).year >= 2026
    deal = _row("opportunity", {"name": "现在", "customer": "新客户", "stage": "needs_analysis"})
    assert _push(db, ADMIN, deal)[0]["status"] == "applied"
    assert [s for s, _ in _stages(db, deal["id"])] == ["needs_analysis"]


def test_a_lost_deal_without_reason_is_stored_as_unknown(db: Database) -> None:
    _customer(db)
    deal = _row("opportunity", {"name": "多年前输单", "customer": "历史客户", "stage": "lost"},
                {"created_at": "2020-01-01", "closed_at": "2020-03-01"}, row=12)
    res = _push(db, ADMIN, deal)[0]
    assert res["status"] == "applied", res
    [w] = res["warnings"]
    assert (w["code"], w["field"], w["row"], w["params"]) == (
        "HISTORY_FILLED", "lost_reason", 12, {"value": "unknown"})
    assert "未知（历史导入）" in w["message_zh"] and "Row 12" in w["message_en"]
    assert "Unknown (imported history)" in w["message_en"]
    t = db.table(table_name("opportunity"))
    with db.read() as conn:
        assert conn.execute(select(t.c.lost_reason).where(t.c.id == deal["id"])
                            ).scalar_one() == "unknown"
    # a refused row keeps no advice
    orphan = _row("opportunity", {"name": "无主", "customer": "无此客户", "stage": "lost"},
                  {"created_at": "2020-01-01"})
    res = _push(db, ADMIN, orphan)[0]
    assert res["status"] == "rejected" and res["warnings"] == [], res
    assert [e["code"] for e in res["errors"]] == ["REFERENCE_NOT_FOUND"]
    # without history the rule still holds
    plain = _row("opportunity", {"name": "今天输单", "customer": "历史客户", "stage": "lost"})
    res = _push(db, ADMIN, plain)[0]
    assert [e["code"] for e in res["errors"]] == ["REQUIRED_WHEN"]


def test_only_an_admins_insert_may_carry_history(db: Database) -> None:
    with db.write() as conn:
        sales = add_user(db, conn, f"s{uuid.uuid4().hex[:6]}", "sales", "t1", "east")
        manager = add_user(db, conn, f"m{uuid.uuid4().hex[:6]}", "manager", "t1", "east")
    for user in (sales, manager):
        res = _push(db, user, _row("customer", {"name": "甲", "region": "east"},
                                   {"created_at": "2020-01-01"}, row=5))[0]
        assert res["status"] == "rejected"
        [e] = res["errors"]
        assert (e["code"], e["row"], e["field"]) == ("HISTORY_ADMIN_ONLY", 5, "history")
        assert "第 5 行" in e["message_zh"] and "Row 5" in e["message_en"]
    ins = _row("customer", {"name": "乙"})
    assert _push(db, ADMIN, ins)[0]["status"] == "applied"
    upd = {"op": "update", "entity": "customer", "id": ins["id"], "base_version": 1,
           "values": {"notes": "x"}, "history": {"created_at": "2020-01-01"}, "row": 9}
    res = _push(db, ADMIN, upd)[0]
    assert [(e["code"], e["row"]) for e in res["errors"]] == [("HISTORY_INSERT_ONLY", 9)]
    assert _created(db, "customer", ins["id"]).year >= 2026


def test_bad_history_is_refused_naming_the_field(db: Database) -> None:
    _customer(db)
    opp = {"name": "坏历史", "customer": "历史客户", "stage": "won"}
    cases: list[tuple[str, dict[str, Any], dict[str, Any], str, str | None]] = [
        ("customer", {"name": "丙"}, {"created_at": "去年"}, "HISTORY_BAD_MOMENT",
         "history.created_at"),
        ("customer", {"name": "丙"}, {"created_at": "2999-01-01"}, "HISTORY_IN_FUTURE",
         "history.created_at"),
        ("customer", {"name": "丙"}, {"created_at": "2021-02-30"}, "HISTORY_BAD_MOMENT",
         "history.created_at"),
        ("customer", {"name": "丙"}, {"stages": {"won": "2021-01-01"}},
         "HISTORY_NOT_APPLICABLE", "history.stages"),
        ("opportunity", opp, {"stages": {"signed": "2021-01-01", "won": "2021-02-01"}},
         "HISTORY_UNKNOWN_STAGE", "history.stages.signed"),
        ("opportunity", opp, {"stages": {"initial_contact": "2021-03-01",
                                         "won": "2021-02-01"}},
         "HISTORY_OUT_OF_ORDER", "history.stages.won"),
        ("opportunity", opp, {"created_at": "2021-04-01",
                              "stages": {"initial_contact": "2021-03-01",
                                         "won": "2021-05-01"}},
         "HISTORY_OUT_OF_ORDER", "history.stages.initial_contact"),
        ("opportunity", opp, {"stages": {"initial_contact": "2021-03-01",
                                         "proposal": "2021-05-01"}},
         "HISTORY_STAGE_MISMATCH", "history.stages"),
        ("opportunity", {**opp, "stage": "proposal"}, {"closed_at": "2021-05-01"},
         "HISTORY_CLOSED_OPEN", "history.closed_at"),
        ("opportunity", opp, {"created_at": "2021-05-01", "closed_at": "2021-04-01"},
         "HISTORY_OUT_OF_ORDER", "history.closed_at"),
    ]
    for entity, values, history, code, where in cases:
        res = _push(db, ADMIN, _row(entity, values, history, row=3))[0]
        assert res["status"] == "rejected", (history, res)
        [e] = res["errors"]
        assert (e["code"], e["field"], e["row"]) == (code, where, 3), (history, e)
        assert "Row 3" in e["message_en"] and "第 3 行" in e["message_zh"]
        assert "?" not in e["message_en"], e
    assert _stages_count(db) == 0


def _stages_count(db: Database) -> int:
    h = db.table("sys_stage_history")
    with db.read() as conn:
        return len(conn.execute(select(h.c.id)).all())


def test_a_history_push_over_http(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    cust = _row("customer", {"name": "华东老客户"}, {"created_at": "2018-05-01"})
    deal = _row("opportunity", {"name": "老项目", "customer": "华东老客户", "stage": "lost"},
                {"stages": {"initial_contact": "2018-06-01", "negotiation": "2018-07-01",
                            "lost": "2018-09-01"}})
    body = {"idempotency_key": f"k-{uuid.uuid4().hex}", "template_version": D.version,
            "rows": [cust, deal]}
    with lb.client() as c:
        r = c.post("/push", json=body)
        assert r.status_code == 200, r.text
        results = r.json()["results"]
        assert [x["status"] for x in results] == ["applied", "applied"]
        assert results[1]["server"]["lost_reason"] == "unknown"
        assert [w["code"] for w in results[1]["warnings"]] == ["HISTORY_FILLED"]
        # text the store cannot hold is refused with the request, never echoed
        bad = _row("customer", {"name": "坏"}, {"stages": {"won": "2021-01-01\u0000"}})
        r = c.post("/push", json={**body, "idempotency_key": f"k-{uuid.uuid4().hex}",
                                  "rows": [bad]})
        assert r.status_code == 422 and r.json()["error"]["code"] == "REQUEST_INVALID", r.text
        token = lb.make_user("zhao", "sales", "t1", "east")
    with lb.client(token) as c:
        r = c.post("/push", json={**body, "idempotency_key": f"k-{uuid.uuid4().hex}",
                                  "rows": [_row("customer", {"name": "赵", "region": "east"},
                                                {"created_at": "2018-05-01"}, row=2)]})
        assert r.status_code == 200
        assert [e["code"] for e in r.json()["results"][0]["errors"]] == ["HISTORY_ADMIN_ONLY"]
    assert _stages(lb.db, deal["id"]) == [
        ("initial_contact", _utc("2018-06-01T00:00:00+08:00")),
        ("negotiation", _utc("2018-07-01T00:00:00+08:00")),
        ("lost", _utc("2018-09-01T00:00:00+08:00"))]
    assert _created(lb.db, "customer", cust["id"]) == _utc("2018-05-01T00:00:00+08:00")
