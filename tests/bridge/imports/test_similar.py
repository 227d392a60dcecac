"""SIMILAR_RECORD on push of a new customer comes from the company matcher: a typo with a
shared phone, a branch, an uncertain pair; never a record the pusher cannot see."""

from __future__ import annotations

from tests.bridge.imports.helpers import customer, push
from tests.conftest import LiveBridge


def test_a_new_customer_like_a_stored_one_is_warned_about(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    star = customer(name="星辰贸易有限公司", phone="021-55551234")
    ma = lb.make_user("ma", "sales", "t1", "east")
    with lb.client() as c:
        push(c, star)
        typo, branch, vague, other = push(
            c, customer(name="星晨贸易有限公司", phone="021 5555 1234"),
            customer(name="星辰贸易有限公司上海分公司"), customer(name="星晨贸易公司"),
            customer(name="月光物流有限公司"))
    assert [(w["params"]["match_id"], w["params"]["decision"]) for w in typo["warnings"]] == [
        (star["id"], "same")]
    assert typo["warnings"][0]["params"]["score"] == 0.9
    assert branch["warnings"][0]["params"]["decision"] == "branch_of"
    assert vague["warnings"][0]["params"]["decision"] == "uncertain"
    assert other["warnings"] == []
    assert all(r["status"] == "applied" for r in (typo, branch, vague, other))
    with lb.client(ma) as c:  # out of a sales user's sight: no warning, nothing named
        [mine] = push(c, customer(name="星辰贸易股份有限公司", phone="021-55551234"))
    assert mine["status"] == "applied" and mine["warnings"] == [], mine["errors"]
