"""After a push the workbook can show the server's resulting row without a pull (issue 16.2):
an applied or merged insert or update carries ``server`` (visible fields, id, version,
canonical values) exactly when what is stored differs from what was sent; on both
backends through a real bridge."""

from __future__ import annotations

from typing import Any

from tests.bridge.helpers import body, insert, update
from tests.conftest import LiveBridge


def _push(c: Any, *rows: dict[str, Any]) -> list[dict[str, Any]]:
    r = c.post("/push", json=body(*rows))
    assert r.status_code == 200, r.text
    return list(r.json()["results"])


def test_server_copy_only_where_the_stored_row_differs(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    tok = lb.make_user("hu", "sales", "t1", "east")
    own = {"owner": "hu", "team": "t1", "region": "east", "shared": False}
    with lb.client(tok) as c:
        exact = insert("customer", name="胡氏一号", **own)
        loose = insert("customer", name="  胡氏二号 ", phone="021 6123 0456", region="华东")
        res = _push(c, exact, loose)
        assert [r["status"] for r in res] == ["applied", "applied"]
        assert [r["version"] for r in res] == [1, 1]
        assert res[0]["server"] is None  # stored exactly as sent
        server = res[1]["server"]
        assert server["id"] == loose["id"] and server["version"] == 1
        assert server["name"] == "胡氏二号" and server["region"] == "east"
        assert server["owner"] == "hu" and server["team"] == "t1"  # blank: the pusher's
        pulled = c.get("/pull", params={"entities": "customer"}).json()
        data = pulled["entities"]["customer"]
        row = data["data"]["id"].index(loose["id"])
        assert server == {col: data["data"][col][row] for col in data["columns"]}

        # an update stored as sent: no copy; the new version
        res = _push(c, update("customer", exact["id"], 1, {"notes": "一"}, {"notes": None}))
        assert (res[0]["status"], res[0]["version"], res[0]["server"]) == ("applied", 2, None)
        # an update the server writes in its canonical form: the copy
        res = _push(c, update("customer", exact["id"], 2, {"region": "East China"},
                              {"region": "east"}))
        assert res[0]["status"] == "applied" and res[0]["version"] == 2  # nothing changed
        assert res[0]["server"]["region"] == "east"

        # another user's change merged into mine: the copy shows both, at the new version
        assert _push(c, update("customer", exact["id"], 2, {"intent": "high"},
                               {"intent": None}))[0]["version"] == 3
        res = _push(c, update("customer", exact["id"], 2, {"address": "浦东"},
                              {"address": None}))
        assert res[0]["status"] == "merged" and res[0]["version"] == 4
        merged = res[0]["server"]
        assert (merged["address"], merged["intent"], merged["notes"], merged["version"]) == \
            ("浦东", "high", "一", 4)
