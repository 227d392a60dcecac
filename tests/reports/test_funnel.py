"""The funnel on a hand-worked set of five opportunities (see fixtures.seed_funnel).

At the end of 2026-03-31 (Beijing): A won (100), B lost (50, price), C in negotiation (200),
D and E in initial contact (10 + 30; E's win on 04-05 is after the as-of date).
Reached (ever entered the stage or a later one, lost excluded): initial 5 (A-E), needs
analysis 3 (A, B, C), proposal 2 (A, C), negotiation 2 (A, C), won 1 (A).
Days in stage: initial A 10, B 5, D 11 (03-21 -> 04-01 00:00), E 31 -> 57/4 = 14.25;
needs analysis A 10, B 10 -> 10; proposal A 20 (01-21 -> 02-10), C 28 (02-01 -> 03-01) -> 24;
negotiation C 31 (03-01 -> 04-01 00:00).
"""

from __future__ import annotations

import dataclasses

from bridge.auth import User
from bridge.db import Database
from bridge.reports.funnel import funnel
from bridge.reports.params import make_params
from schema.dictionary import build_dictionary
from schema.types import EnumType, EnumValue
from tests.reports.fixtures import seed_funnel

ADMIN = User("admin", "admin", "admin", None, None)


def _rows(rep: dict, key: str) -> dict:
    return {r[0]: r for r in rep["tables"][key]["rows"]}


def test_funnel_hand_worked(db: Database) -> None:
    seed_funnel(db)
    rep = funnel(db, build_dictionary(), ADMIN, make_params("2026-03-31"))
    assert rep["as_of"] == "2026-03-31" and rep["filters"]["as_of"] == "2026-03-31"
    st = _rows(rep, "by_stage")
    assert [r[0] for r in rep["tables"]["by_stage"]["rows"]] == [
        "initial_contact", "needs_analysis", "proposal", "negotiation", "won", "lost", "closed"]
    # code: (count, amount, reached, avg days)
    expect = {"initial_contact": (2, 40.0, 5, 14.25), "needs_analysis": (0, 0.0, 3, 10.0),
              "proposal": (0, 0.0, 2, 24.0), "negotiation": (1, 200.0, 2, 31.0),
              "won": (1, 100.0, 1, None), "lost": (1, 50.0, None, None)}
    for code, (n, amt, reached, days) in expect.items():
        assert (st[code][3], st[code][4], st[code][6], st[code][7]) == (n, amt, reached, days)
    conv = [r[-1] for r in rep["tables"]["conversion"]["rows"]]
    # 3/5, 2/3, 2/2, 1/2, then the closed step: all -> closed 2/5, closed -> won 1/2
    assert conv == [0.6, 0.6667, 1.0, 0.5, 0.4, 0.5]
    assert st["closed"][1:6] == ["已结束(赢单+输单)", "Closed (won + lost)", 2, 150.0, 0.4]
    assert rep["summary"]["win_rate"] == 0.5  # 1 won / (1 won + 1 lost)
    assert rep["summary"]["opportunities"] == 5 and rep["summary"]["amount"] == 390.0
    assert rep["tables"]["lost_reasons"]["rows"] == [["price", "价格过高", "Price too high", 1,
                                                       50.0, 1.0]]
    # owner: count, amount, open, won, won amount, lost, win rate
    own = _rows(rep, "by_owner")
    assert own["alice"][3:] == [3, 330.0, 2, 1, 100.0, 0, 1.0]
    assert own["bob"][3:] == [2, 60.0, 1, 0, 0.0, 1, 0.0]
    assert own["alice"][1:3] == ["alice", "alice"]  # no sys_user row: the user name
    assert _rows(rep, "by_team")["t1"][1] == 3
    assert _rows(rep, "by_region")["east"][1:5] == ["华东", "East China", 3, 330.0]
    # months are Beijing-time: A (01-01 00:00 +08 = 12-31 UTC) is January, E (03-01 00:00
    # +08 = 02-28 UTC) is March
    assert [(r[0], r[1]) for r in rep["tables"]["by_month"]["rows"]] == [
        ("2026-01", 2), ("2026-02", 1), ("2026-03", 2)]


def test_funnel_period_scope_and_empty(db: Database) -> None:
    seed_funnel(db)
    d = build_dictionary()
    rep = funnel(db, d, ADMIN, make_params("2026-03-31", "2026-02-01", "2026-03-31"))
    assert rep["summary"]["opportunities"] == 3  # C, D, E created in Feb-Mar (local)
    alice = User("alice", "alice", "sales", "t1", "east")
    mine = funnel(db, d, alice, make_params("2026-03-31"))
    st = _rows(mine, "by_stage")
    assert mine["summary"]["opportunities"] == 3  # A, C, E only
    assert (st["initial_contact"][3], st["negotiation"][3], st["won"][3]) == (1, 1, 1)
    assert set(_rows(mine, "by_owner")) == {"alice"}
    empty = funnel(db, d, ADMIN, make_params("2020-01-01"))
    assert empty["summary"]["opportunities"] == 0 and empty["summary"]["win_rate"] is None
    assert all(r[3] == 0 for r in empty["tables"]["by_stage"]["rows"])
    assert all(r[-1] is None for r in empty["tables"]["conversion"]["rows"])
    # before E's win is recorded vs. after: as of 2026-04-05 E counts as won
    later = funnel(db, d, ADMIN, make_params("2026-04-05"))
    assert _rows(later, "by_stage")["won"][3] == 2 and later["summary"]["win_rate"] == 0.6667


def test_renamed_stage_keeps_results(db: Database) -> None:
    seed_funnel(db)
    d = build_dictionary()
    ent = d.entity("opportunity")
    f = ent.field("stage")
    assert f.enum is not None
    renamed = EnumType(f.enum.code, f.enum.zh, f.enum.en, tuple(
        EnumValue(v.code, "报价中", "Quoting") if v.code == "proposal" else v
        for v in f.enum.values))
    ent.fields[ent.fields.index(f)] = dataclasses.replace(f, enum=renamed)
    rep = funnel(db, d, ADMIN, make_params("2026-03-31"))
    row = _rows(rep, "by_stage")["proposal"]
    assert row[1:3] == ["报价中", "Quoting"] and row[6] == 2 and row[7] == 24.0
    assert rep["tables"]["conversion"]["rows"][1][2] == "需求分析→报价中"
