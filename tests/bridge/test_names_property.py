"""Property: a reference typed in any variant of a customer's name that the name key folds
(full-width forms, case, bracket styles, spaces) finds that customer, on both backends."""

from __future__ import annotations

import unicodedata
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.auth import User, add_user
from bridge.db import Database
from bridge.sync.push import push
from schema.dictionary import build_dictionary
from schema.wire import PushRequest

D = build_dictionary()
NAMES = ["ACME Trading (Shanghai) Co", "星辰科技（上海）有限公司", "Blue Sky [HK] Ltd",
         "北京 长城 贸易 公司"]
FULL = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}  # ASCII -> full-width
BRACKETS = {"(": "（", ")": "）", "（": "【", "）": "】", "[": "〔", "]": "〕"}


@st.composite
def variant(draw: st.DrawFn) -> tuple[int, str]:
    """One of NAMES, and a way a person might type it."""
    i = draw(st.integers(0, len(NAMES) - 1))
    out = []
    for ch in NAMES[i]:
        ch = BRACKETS.get(ch, ch) if draw(st.booleans()) else ch
        if ch.isascii() and ch.isalpha() and draw(st.booleans()):
            ch = ch.swapcase()
        if ch in FULL and draw(st.booleans()):
            ch = FULL[ch]
        if ch == " ":
            ch = draw(st.sampled_from([" ", "  ", "\u3000", ""]))
        out.append(ch)
    pad = draw(st.sampled_from(["", " ", "\u3000"]))
    return i, unicodedata.normalize("NFC", pad + "".join(out))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(typed=variant())
def test_any_folded_variant_of_a_name_resolves(db: Database, typed: tuple[int, str]) -> None:
    user = _admin(db)
    ids = _customers(db, user)
    i, text = typed
    res = push(db, D, user, PushRequest.model_validate({
        "idempotency_key": f"k-{uuid.uuid4().hex}", "template_version": D.version,
        "rows": [{"op": "insert", "entity": "contact", "id": str(uuid.uuid4()),
                  "values": {"customer": text, "name": "联系人"}}]}), max_rows=10)
    [r] = res.results
    assert r.status == "applied", (text, r.errors)
    assert r.server is not None and r.server["customer"] == NAMES[i]
    with db.read() as conn:
        stored = conn.execute(db.table("crm_contact").select()
                              .where(db.table("crm_contact").c.id == r.id)).one()
    assert stored.customer == ids[i]


def _admin(db: Database) -> User:
    """One admin per database (the fixture's database lives across the examples)."""
    if not hasattr(db, "_names_admin"):
        with db.write() as conn:
            db._names_admin = add_user(  # type: ignore[attr-defined]
                db, conn, f"a{uuid.uuid4().hex[:6]}", "admin", None, None)
    return db._names_admin  # type: ignore[attr-defined, no-any-return]


def _customers(db: Database, user: User) -> list[str]:
    """The ids of NAMES' customers, made on first use."""
    if not hasattr(db, "_names_ids"):
        ids = [str(uuid.uuid4()) for _ in NAMES]
        res = push(db, D, user, PushRequest.model_validate({
            "idempotency_key": f"k-{uuid.uuid4().hex}", "template_version": D.version,
            "rows": [{"op": "insert", "entity": "customer", "id": rid, "values": {"name": n}}
                     for rid, n in zip(ids, NAMES, strict=True)]}), max_rows=10)
        assert res.counts["applied"] == len(NAMES)
        db._names_ids = ids  # type: ignore[attr-defined]
    return db._names_ids  # type: ignore[attr-defined, no-any-return]
