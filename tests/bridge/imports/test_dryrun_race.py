"""Rows added while a dry run decides (outside the write lock) are not left without a
decision: the dry run decides again (both backends, in process)."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.auth import User
from bridge.db import Database
from bridge.imports import dryrun, store
from schema.dictionary import build_dictionary
from schema.wire_import import ImportCreate, ImportRow

ADMIN = User("admin", "Administrator", "admin", None, None)


def test_rows_added_during_the_dry_run_are_decided(db: Database,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    dictionary = build_dictionary()
    imp = store.create(db, dictionary, ADMIN, ImportCreate(entity="customer"))
    store.add_rows(db, ADMIN, imp.id, [ImportRow(source_row=1, values={
        "customer": {"name": "甲公司"}})])
    real = dryrun.decide_all
    calls: list[int] = []

    def decide_and_add(*args: Any, **kw: Any) -> None:
        real(*args, **kw)
        calls.append(len(args[-1]))
        if len(calls) == 1:  # another request appends a row meanwhile
            store.add_rows(db, ADMIN, imp.id, [ImportRow(source_row=2, values={
                "customer": {"name": "乙公司"}})])

    monkeypatch.setattr(dryrun, "decide_all", decide_and_add)
    out = dryrun.run(db, dictionary, ADMIN, imp.id)
    assert calls == [1, 2]
    assert out.counts == {"new": 2}
    with db.read() as conn:
        assert all(s.decision is not None for s in store.load_rows(conn, db, imp.id))


def test_a_failed_dry_run_leaves_no_progress(db: Database,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    dictionary = build_dictionary()
    imp = store.create(db, dictionary, ADMIN, ImportCreate(entity="customer"))
    store.add_rows(db, ADMIN, imp.id, [ImportRow(source_row=1, values={
        "customer": {"name": "甲公司"}})])
    seen: list[object] = []

    def step_then_fail(*args: Any, step: Any, **kw: Any) -> None:
        step("lookup", 0, 1)
        with db.read() as conn:
            seen.append(store.out(store.fetch(conn, db, ADMIN, imp.id)).progress)
        raise RuntimeError("the bridge went down")

    monkeypatch.setattr(dryrun, "decide_all", step_then_fail)
    with pytest.raises(RuntimeError):
        dryrun.run(db, dictionary, ADMIN, imp.id)
    [during] = seen
    assert during is not None and (during.phase, during.step) == ("lookup", 3)
    with db.read() as conn:
        after = store.out(store.fetch(conn, db, ADMIN, imp.id))
    assert after.progress is None and after.counts == {} and after.state == "staged"
