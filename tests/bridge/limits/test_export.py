"""Export control: caps per role per pull and per day, entities pulled in full, the pull
log (audit entry, sys_pull, GET /admin/pulls) and the flag on unusual pulls."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge import audit
from bridge.settings import Settings
from schema.wire import ErrorResponse, PullResponse
from tests.bridge.helpers import body, insert
from tests.bridge.limits.conftest import Bridges, bridges
from tests.conftest import make_settings


def capped(backend: str, tmp_path: Path, **kw: object) -> Settings:
    s = make_settings(backend, tmp_path)
    s.export_rows_per_pull, s.export_rows_per_day = {}, {}
    s.export_flag_min_rows = 10**6
    for k, v in kw.items():
        setattr(s, k, v)
    return s


def seed(b: Bridges, token: str, n: int, name: str = "客户") -> None:
    with b.client(0, token) as c:
        r = c.post("/push", json=body(*(insert("customer", name=f"{name}{i}", region="east")
                                        for i in range(n))))
        assert r.status_code == 200 and r.json()["counts"]["applied"] == n, r.text


def refused(resp: object, code: str) -> tuple[str, str]:
    import httpx

    assert isinstance(resp, httpx.Response)
    assert resp.status_code == 403, resp.text
    err = ErrorResponse.model_validate(resp.json()).error
    assert err.code == code
    return err.message_en, err.message_zh


def test_a_pull_over_the_roles_cap_is_refused_naming_the_cap(tmp_path: Path) -> None:
    s = capped("sqlite", tmp_path, export_rows_per_pull={"sales": 3})
    with bridges(s) as b:
        amy, admin = b.user("amy"), b.user("root", "admin", None)
        seed(b, amy, 2)  # change 1
        seed(b, amy, 3, "新")  # change 2
        with b.client(0, amy) as c:
            en, zh = refused(c.get("/pull"), "EXPORT_PULL_CAP")
            assert "at most 3 rows" in en and "role “Sales”" in en and "has 5" in en
            assert "最多 3 行" in zh and "“销售”" in zh and "5 行" in zh
            # an incremental pull with fewer rows is under the cap
            ok = PullResponse.model_validate(c.get("/pull", params={"since": 1}).json())
            assert len(ok.entities["customer"].data["id"]) == 3
        with b.client(0, admin) as c:  # no cap for admins
            assert len(c.get("/pull").json()["entities"]["customer"]["data"]["id"]) == 5
        s.export_full_entities = {"sales": ["customer"]}  # customers: pulled in full
        with b.client(0, amy) as c:
            assert len(c.get("/pull").json()["entities"]["customer"]["data"]["id"]) == 5
        with b.client(0, admin) as c:
            log = c.get("/admin/pulls", params={"username": "amy"}).json()
        assert [(p["refused"], p["rows"], p["counted"]) for p in log] == [
            (None, 5, 0), (None, 3, 3), ("EXPORT_PULL_CAP", 5, 5)]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_day_cap_counts_every_pull_of_24_hours(backend: str, tmp_path: Path) -> None:
    s = capped(backend, tmp_path, export_rows_per_day={"sales": 6})
    with bridges(s, 2) as b:
        amy = b.user("amy")
        seed(b, amy, 4)
        with b.client(0, amy) as c0, b.client(1, amy) as c1:
            first = c0.get("/pull")
            assert first.status_code == 200
            en, zh = refused(c1.get("/pull"), "EXPORT_DAY_CAP")  # the other bridge knows
            assert "At most 6 rows" in en and "4 were pulled already" in en
            assert "has 4" in en and "try again in 24 h" in en
            assert "最多拉取 6 行" in zh and "已拉取 4 行" in zh
            cursor = first.json()["cursor"]
            assert c1.get("/pull", params={"since": cursor}).status_code == 200  # 0 rows
        with b.client(0, b.user("bob")) as c:  # the cap is per user
            assert c.get("/pull").status_code == 200


def test_every_pull_is_logged_audited_and_listed_for_admins(tmp_path: Path) -> None:
    s = capped("sqlite", tmp_path)
    with bridges(s) as b:
        amy, admin = b.user("amy"), b.user("root", "admin", None)
        seed(b, amy, 2)
        with b.client(0, amy) as c:
            answer = PullResponse.model_validate(c.get("/pull").json())
            assert c.get("/admin/pulls").status_code == 403
        assert answer.pull_id and answer.pulled_by == "amy" and answer.pulled_at
        with b.client(0, admin) as c:
            log = c.get("/admin/pulls").json()
            assert c.get("/admin/pulls", params={"limit": 0}).status_code == 422
            page = c.get("/admin/pulls", params={"before": log[0]["at"]}).json()
        assert [p["id"] for p in log] == [answer.pull_id] and page == []
        entry = log[0]
        assert entry["username"] == "amy" and entry["role"] == "sales" and entry["full"]
        assert entry["entities"]["customer"] == 2 and entry["rows"] == 2
        assert entry["at"].startswith(answer.pulled_at[:19])
        with b.db.read() as conn:
            pulls = [e for e in audit.query(b.db, conn, action="pull")]
            assert audit.verify(b.db, conn).ok
        changes = pulls[-1]["changes"]
        assert changes["pull_id"] == answer.pull_id and changes["rows"]["customer"] == 2
        assert changes["total"] == 2 and changes["flagged"] is False


def test_a_pull_far_above_the_users_usual_is_flagged(tmp_path: Path) -> None:
    s = capped("sqlite", tmp_path, export_flag_min_rows=4, export_flag_factor=3.0)
    with bridges(s) as b:
        amy, admin = b.user("amy"), b.user("root", "admin", None)
        seed(b, amy, 2)
        with b.client(0, amy) as c:
            for _ in range(3):
                c.get("/pull")  # 2 rows each: under the minimum, never flagged
            seed(b, amy, 10, "新")
            c.get("/pull")  # 12 rows > 3 x mean 2
            c.get("/pull")  # 12 rows, mean (2+2+2+12)/4 = 4.5: 12 < 13.5, usual now
        with b.client(0, admin) as c:
            log = c.get("/admin/pulls", params={"username": "amy"}).json()
            flagged = c.get("/admin/pulls", params={"flagged": True}).json()
        assert [(p["rows"], p["flagged"]) for p in log] == [
            (12, False), (12, True), (2, False), (2, False), (2, False)]
        assert [p["id"] for p in flagged] == [log[1]["id"]]
