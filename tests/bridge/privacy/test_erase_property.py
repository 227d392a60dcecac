"""Property, on SQLite and PostgreSQL: after erasing random subjects, no personal value of
theirs is readable anywhere in the database (every table and column, the audit trail's
JSON included), ``crm-bridge audit verify`` still passes, and every other subject's values
are still readable (in its record and, opened, in the trail)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from typer.testing import CliRunner

from bridge import audit
from bridge.auth import User
from bridge.cli import app
from bridge.db import Database
from bridge.privacy.erase import erase
from bridge.privacy.subjects import history
from bridge.settings import Settings
from bridge.sync.push import push
from bridge.sync.rows import fetch_by_ids
from schema.dictionary import build_dictionary
from schema.wire import PushRequest
from tests.bridge.helpers import body, insert, update
from tests.bridge.privacy.conftest import leaked, stored_text

ADMIN = User("admin", "Admin", "admin", None, None)
PERSONAL = ("name", "mobile", "email", "wechat")
_MARKS = "姓微號"
_core = st.text(st.characters(categories=["L", "N"], exclude_characters=_MARKS),
                min_size=1, max_size=20)


@dataclass(frozen=True)
class Person:
    name: str
    renamed: str
    mobile: str
    wechat: str


people_st = st.lists(st.builds(
    Person,
    name=st.builds(lambda c, m: f"{m}{c}{m}", _core, st.sampled_from(_MARKS)),
    renamed=st.builds(lambda c: f"號{c}號", _core),
    mobile=st.builds(lambda p, n: f"1{p}{n:09d}", st.sampled_from("38"),
                     st.integers(0, 10**9 - 1)),
    wechat=st.builds(lambda c: f"wx_{c}", st.text("abcdefghijk0123456789", min_size=6,
                                                  max_size=12))),
    min_size=1, max_size=4, unique_by=(lambda p: p.mobile, lambda p: p.wechat,
                                       lambda p: p.name, lambda p: p.renamed))


def _push(db: Database, *rows: dict[str, object]) -> None:
    res = push(db, build_dictionary(), ADMIN, PushRequest.model_validate(body(*rows)), 1000)
    assert res.counts["applied"] == len(rows), res


def _stored(db: Database, ids: list[str]) -> dict[str, dict[str, object]]:
    d = build_dictionary()
    with db.read() as conn:
        return fetch_by_ids(conn, db, d, d.entity("contact"), ids)


@pytest.mark.slow  # ~10-25 s a backend
@examples(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(people=people_st, gone=st.lists(st.booleans(), min_size=4, max_size=4))
def test_erased_subjects_leave_nothing_readable(db: Database, keyed: Settings,
                                                people: list[Person], gone: list[bool]) -> None:
    # the database lives across examples: a tag makes this example's values its own
    tag, shift = uuid.uuid4().hex[:6], uuid.uuid4().int % 10**9
    company = f"公司{tag}"
    people = [Person(f"{p.name[0]}{p.name[1:-1]}{tag}{p.name[-1]}", f"號{p.renamed[1:-1]}{tag}號",
                     f"{p.mobile[:2]}{(int(p.mobile[2:]) + shift) % 10**9:09d}",
                     f"{p.wechat}{tag}") for p in people]
    rows = [insert("contact", customer=company, title="经理", name=p.name, mobile=p.mobile,
                   email=f"m{uuid.uuid4().hex[:10]}@example.cn", wechat=p.wechat)
            for p in people]
    _push(db, insert("customer", name=company, region="east"), *rows)
    ids = [r["id"] for r in rows]
    _push(db, *(update("contact", rid, 1, {"name": p.renamed}, {"name": p.name})
                for rid, p in zip(ids, people, strict=True)))
    before = _stored(db, ids)
    values = {rid: [str(before[rid][c]) for c in PERSONAL] + [p.name, p.mobile]
              for rid, p in zip(ids, people, strict=True)}
    erased = [rid for rid, g in zip(ids, gone, strict=False) if g]
    for rid in erased:
        erase(db, build_dictionary(), ADMIN, f"contact:{rid}")

    text = stored_text(db)
    after = _stored(db, ids)
    for rid in ids:
        if rid in erased:
            assert leaked(text, values[rid]) == [], rid
            assert all(after[rid][c] is None for c in PERSONAL) and after[rid]["deleted"]
        else:
            assert after[rid] == before[rid]
            with db.read() as conn:
                trail = history(db, conn, "contact", rid)
            person = people[ids.index(rid)]
            assert before[rid]["name"] == person.renamed
            assert trail[1]["changes"]["name"] == [person.name, person.renamed]
            assert not any(e.get("erased") for e in trail)
    with db.read() as conn:
        assert audit.verify(db, conn).ok


def test_the_cli_verifies_the_chain_after_erasures(db: Database, keyed: Settings,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [insert("contact", customer="验链公司", name=f"验链{i}号", mobile=f"1390000000{i}")
            for i in range(3)]
    _push(db, insert("customer", name="验链公司"), *rows)
    for r in rows[:2]:
        erase(db, build_dictionary(), ADMIN, f"contact:{r['id']}")
    monkeypatch.setenv("CRM_AUDIT_KEY_FILE", keyed.audit_key_file)
    monkeypatch.setenv("CRM_AUDIT_CHECKPOINT_FILE", keyed.audit_checkpoint_file)
    if keyed.database_schema:
        monkeypatch.setenv("CRM_DATABASE_SCHEMA", keyed.database_schema)
    res = CliRunner().invoke(app, ["audit", "verify", "--db", keyed.url()])
    assert res.exit_code == 0 and "audit chain intact" in res.output, res.output
    assert leaked(stored_text(db), ["验链0号", "验链1号"]) == []
    assert leaked(stored_text(db), ["验链2号"]) == ["验链2号"]
