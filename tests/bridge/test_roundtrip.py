"""Round trip (hypothesis): whatever valid values go into a push come back from a pull in
canonical form, identically on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.auth import User, add_user
from bridge.db import Database
from bridge.sync.pull import pull
from bridge.sync.push import push
from schema.dictionary import build_dictionary
from schema.types import Field, FieldType
from schema.values import parse_value
from schema.wire import PushRequest, RowChange
from tests.bridge.helpers import VALID_USCC

D = build_dictionary()
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1,
               max_size=40).filter(lambda s: s.strip() and s.strip().upper() not in ("#N/A",))


def valid(f: Field) -> st.SearchStrategy[Any]:
    t = f.type
    if t is FieldType.ENUM and f.enum:
        return st.sampled_from([x for v in f.enum.values for x in (v.code, v.zh, v.en)])
    if t is FieldType.MULTI_ENUM and f.enum:
        return st.lists(st.sampled_from(f.enum.codes()), min_size=1, unique=True).map(";".join)
    if t is FieldType.MONEY:
        return st.integers(0, 10**11).map(lambda c: c / 100)
    if t is FieldType.INTEGER:
        return st.integers(int(f.min_value or 0), int(f.max_value or 10**6))
    if t is FieldType.DATE:
        return st.dates(date(1990, 1, 1), date(2100, 1, 1))
    if t is FieldType.DATETIME:
        return st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1)).map(
            lambda d: d.replace(microsecond=0))
    if t is FieldType.BOOLEAN:
        return st.booleans()
    if t is FieldType.PHONE:
        return st.sampled_from(["13812345678", "010-62345678转12", "4008001234", "95588"])
    if t is FieldType.EMAIL:
        return st.from_regex(r"[a-z]{1,8}@[a-z]{2,8}\.(com|cn)", fullmatch=True)
    if t is FieldType.URL:
        return st.from_regex(r"www\.[a-z]{2,10}\.com", fullmatch=True)
    if t is FieldType.USCC:
        return st.sampled_from(VALID_USCC)
    return text.map(lambda s: s[: f.max_length or 40])


# a reference (the head office) names a stored record, not a free value
customer_fields = [f for f in D.entity("customer").fields
                   if f.code not in ("owner", "team", "region", "shared")
                   and f.type is not FieldType.REFERENCE]
rows = st.fixed_dictionaries({"name": text}, optional={
    f.code: valid(f) for f in customer_fields if f.code != "name"})


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=rows)
def test_pushed_values_come_back_canonical(db: Database, values: dict[str, Any]) -> None:
    uname = f"u{uuid.uuid4().hex[:8]}"
    with db.write() as conn:
        user: User = add_user(db, conn, uname, "sales", "t", "east")
    values = {**values, "name": f"{values['name']}-{uname}"}
    if "uscc" in values:
        values.pop("uscc")  # unique: covered by the fixed-value tests
    wire = {k: (v.isoformat() if isinstance(v, date | datetime) else v)
            for k, v in values.items()}
    rid = str(uuid.uuid4())
    resp = push(db, D, user, PushRequest(idempotency_key=f"k-{rid}", template_version=D.version,
                                         rows=[RowChange(op="insert", entity="customer", id=rid,
                                                         values=wire)]), max_rows=10)
    assert resp.results[0].status == "applied", resp.results[0].errors
    got = pull(db, D, user, entities=["customer"])["entities"]["customer"]
    i = got["data"]["id"].index(rid)
    ent = D.entity("customer")
    for code, raw in values.items():
        assert got["data"][code][i] == parse_value(raw, ent.field(code)), code
    assert got["data"]["owner"][i] == uname and got["data"]["region"][i] == "east"

