"""Survivorship by recency over HTTP on both backends: the newest verified value wins
without review, an older one leaves the stored value without review, a tie or a row
without a date goes to review, a blank never overwrites; a value edited after the dry run
is compared by its new time at confirm; ``keep_existing`` overrides a newer value; undo."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from schema.clock import TEAM_ZONE
from tests.bridge.helpers import update
from tests.bridge.imports.helpers import customer, dry_run, push, source, staged
from tests.conftest import LiveBridge

NAMES = ["北辰物流有限公司", "东方明珠贸易有限公司", "金山软件有限公司", "青松医药有限公司",
         "蓝海实业有限公司", "红星机械有限公司", "白云食品有限公司"]
OLD_PHONE = "021-55551234"


def _phones(lb: LiveBridge) -> dict[str, Any]:
    with lb.db.read() as conn:
        return {n: (p, notes) for n, p, notes in conn.execute(text(
            "SELECT name, phone, notes FROM crm_customer WHERE deleted = false"))}


def _today() -> str:
    from zoneinfo import ZoneInfo
    return datetime.now(ZoneInfo(TEAM_ZONE)).date().isoformat()


def _row(name: str, phone: str | None, verified: str | None, **more: Any) -> dict[str, Any]:
    values = {"name": name, **({"phone": phone} if phone else {}), **more}
    return {"customer": values}


def _seeded(lb: LiveBridge) -> dict[str, dict[str, Any]]:
    seeds = {n: customer(name=n, phone=OLD_PHONE, notes="原备注") for n in NAMES}
    with lb.client() as c:
        assert [r["status"] for r in push(c, *seeds.values())] == ["applied"] * len(NAMES)
    time.sleep(1.1)  # the verified moments below are strictly after the stored changes
    return seeds


def test_newest_verified_value_wins(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    seeds = _seeded(lb)
    after_seed = datetime.now(UTC).replace(microsecond=0).isoformat()
    dates = [after_seed, "2020-01-01", _today(), None, after_seed, "2020-13-45", after_seed]
    phones = ["13800138000", "13800138001", "13800138002", "13800138003", None,
              "13800138005", "13800138006"]
    rows = source(*(_row(n, p, v) for n, p, v in zip(NAMES, phones, dates, strict=True)),
                  {"customer": {"name": "新星电子有限公司", "phone": "13900139001"}},
                  {"customer": {"name": "新星电子有限公司", "phone": "13900139002"}})
    for r, v in zip(rows, [*dates, "2021-01-01", "2023-06-01"], strict=True):
        if v is not None:
            r["verified_on"] = v
    rows[4]["values"]["customer"]["address"] = "上海市浦东新区"
    with lb.client() as c:
        iid = staged(c, rows)
        d = dry_run(c, iid)
        assert [d[n]["decision"] for n in range(1, 8)] == ["match"] * 7
        why = {n: [(x["field"], x.get("winner"), x.get("why")) for x in d[n]["differences"]]
               for n in d}
        assert why[1] == [("phone", "incoming", "incoming_newer")]
        assert why[2] == [("phone", "existing", "existing_newer")]
        assert why[3] == [("phone", None, "same_time")]
        assert why[4] == [("phone", None, "no_incoming_date")]
        assert why[5] == []  # a blank never differs, never overwrites
        assert why[6] == [("phone", None, "no_incoming_date")]
        assert [w["code"] for w in d[6]["warnings"]] == ["IMPORT_VERIFIED_ON_INVALID"]
        assert why[9] == [("phone", "incoming", "incoming_newer")]  # newer row in the file
        assert d[1]["differences"][0]["incoming_verified"].startswith(after_seed[:19])
        assert d[2]["differences"][0]["existing_changed"][:4] == str(datetime.now(UTC).year)
        # someone edits row 7's record after the dry run: the stored value is newer now
        time.sleep(1.1)
        seed7 = seeds[NAMES[6]]
        [res] = push(c, update("customer", seed7["id"], 1, {"phone": "13700137000"},
                               {"phone": OLD_PHONE}))
        assert res["status"] == "applied", res
        r = c.post(f"/imports/{iid}/confirm")
        assert r.status_code == 200, r.text
        assert r.json()["counts"]["rejected"] == 0, r.json()["errors"]
        got = _phones(lb)
        assert got[NAMES[0]] == ("138 0013 8000", "原备注")  # newer: taken, notes kept
        assert got[NAMES[1]][0] == "021 5555 1234"  # older: stored stays
        assert got[NAMES[2]][0] == "021 5555 1234"  # tie: review, default keeps stored
        assert got[NAMES[3]][0] == "021 5555 1234"  # no date: as before
        assert got[NAMES[4]][0] == "021 5555 1234"  # blank never overwrites
        assert got[NAMES[6]][0] == "137 0013 7000"  # the edit after the dry run stays
        assert got["新星电子有限公司"][0] == "139 0013 9002"  # the newer row of the file
        undone = c.post(f"/imports/{iid}/undo")
        assert undone.status_code == 200, undone.text
    assert _phones(lb)[NAMES[0]][0] == "021 5555 1234"


def test_review_can_keep_the_stored_value_or_take_an_older_one(
        live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    _seeded(lb)
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    rows = source(_row(NAMES[0], "13800138000", None), _row(NAMES[1], "13800138001", None))
    rows[0]["verified_on"], rows[1]["verified_on"] = now, "2019-05-01"
    with lb.client() as c:
        iid = staged(c, rows)
        d = dry_run(c, iid)
        assert d[1]["differences"][0]["winner"] == "incoming"
        assert d[2]["differences"][0]["winner"] == "existing"
        r = c.post(f"/imports/{iid}/choices", json={"choices": [
            {"source_row": 1, "choice": "merge", "keep_existing": ["phone"]},
            {"source_row": 2, "choice": "merge", "keep": ["phone"]}]})
        assert r.status_code == 200, r.text
        r = c.post(f"/imports/{iid}/confirm")
        assert r.status_code == 200, r.text
    got = _phones(lb)
    assert got[NAMES[0]][0] == "021 5555 1234"
    assert got[NAMES[1]][0] == "138 0013 8001"
