"""The push answer is serialised by hand (orjson, no 10,000 models): it must be exactly what
the wire model ``PushResponse`` would produce, for every row status, on both backends."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from bridge.auth import User, add_user
from bridge.db import Database
from bridge.sync.push import push_json
from schema.dictionary import build_dictionary
from schema.wire import PushRequest, PushResponse
from tests.bridge.helpers import VALID_USCC

D = build_dictionary()


def _push(db: Database, user: User, *rows: dict[str, Any]) -> dict[str, Any]:
    req = PushRequest.model_validate({"idempotency_key": f"k-{uuid.uuid4().hex}",
                                      "template_version": D.version, "rows": list(rows)})
    body = push_json(db, D, user, req, max_rows=100)
    answer = orjson.loads(body)
    assert PushResponse.model_validate_json(body).model_dump(mode="json") == answer
    return dict(answer)


def test_answer_matches_the_wire_model_for_every_status(db: Database) -> None:
    with db.write() as conn:
        user = add_user(db, conn, f"u{uuid.uuid4().hex[:6]}", "sales", "t1", "east")
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    first = _push(db, user,
                  {"op": "insert", "entity": "customer", "id": a, "row": 3,
                   "values": {"name": f"甲{a}", "phone": "021-61230456", "uscc": VALID_USCC[0]}},
                  {"op": "insert", "entity": "customer", "id": b, "row": 4,
                   "values": {"name": f"乙{b}", "industry": "not an industry"}},
                  {"op": "insert", "entity": "customer", "id": "not-a-uuid", "values": {}},
                  {"op": "insert", "entity": "customer", "id": str(uuid.uuid4()),
                   "values": {"name": f"丙{a}", "website": "http://[x.com"}})
    assert [r["status"] for r in first["results"]] == ["applied", "rejected", "rejected",
                                                       "rejected"]
    assert [e["code"] for e in first["results"][3]["errors"]] == ["INVALID_URL"]
    # an edit, then a conflicting edit of the same field from the old base
    _push(db, user, {"op": "update", "entity": "customer", "id": a, "base_version": 1,
                     "values": {"notes": "新"}, "base": {"notes": None}})
    clash = _push(db, user, {"op": "update", "entity": "customer", "id": a, "base_version": 1,
                             "values": {"notes": "另一个"}, "base": {"notes": None}},
                  {"op": "update", "entity": "customer", "id": a, "base_version": 1,
                   "values": {"intent": "high"}})
    statuses = [r["status"] for r in clash["results"]]
    assert statuses[0] == "conflict" and clash["results"][0]["conflicts"][0]["field"] == "notes"
    assert clash["results"][0]["server"]["id"] == a
    assert statuses[1] == "rejected"  # the same record twice in one batch
    merged = _push(db, user, {"op": "update", "entity": "customer", "id": a, "base_version": 1,
                              "values": {"intent": "high"}, "base": {"intent": None}})
    assert merged["results"][0]["status"] == "merged" and merged["counts"]["merged"] == 1
