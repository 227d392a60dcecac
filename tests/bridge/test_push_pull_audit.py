"""A pull records its audit entry without queueing on the change counter a push holds for
its whole run (PostgreSQL; SQLite has one writer), and the chain keeps one tail."""

from __future__ import annotations

import threading
import uuid

import pytest

from bridge import audit
from bridge.auth import add_user
from bridge.db import Database
from bridge.sync.pull import pull
from bridge.sync.push import push
from schema.dictionary import build_dictionary
from schema.wire import PushRequest

D = build_dictionary()


def _req(*rows: dict[str, object]) -> PushRequest:
    return PushRequest.model_validate({"idempotency_key": f"k-{uuid.uuid4().hex}",
                                       "template_version": D.version, "rows": list(rows)})


def test_pull_is_recorded_while_a_push_holds_the_counter(db: Database, backend: str) -> None:
    if backend != "postgres":
        pytest.skip("SQLite has a single writer: a pull's entry waits for the push")
    with db.write() as conn:
        user = add_user(db, conn, f"u{uuid.uuid4().hex[:6]}", "admin", None, None)
    order: list[str] = []
    holding, pulled = threading.Event(), threading.Event()

    def long_push() -> None:
        with db.write() as conn:  # what a push holds from its first row to its commit
            db.next_seq(conn)
            holding.set()
            pulled.wait(60)
            order.append("push committed")

    writer = threading.Thread(target=long_push)
    writer.start()
    assert holding.wait(60)
    pull(db, D, user)
    order.append("pulled")
    pulled.set()
    writer.join(60)
    assert order == ["pulled", "push committed"]
    with db.read() as conn:
        assert [e["action"] for e in audit.query(db, conn)] == ["pull"]


def test_chain_keeps_one_tail_with_pulls_beside_pushes(db: Database) -> None:
    with db.write() as conn:
        user = add_user(db, conn, f"u{uuid.uuid4().hex[:6]}", "admin", None, None)
    errors: list[BaseException] = []

    def pulls() -> None:
        try:
            for _ in range(15):
                pull(db, D, user)
        except BaseException as e:
            errors.append(e)

    readers = [threading.Thread(target=pulls) for _ in range(2)]
    for t in readers:
        t.start()
    for i in range(10):
        push(db, D, user, _req(*({"op": "insert", "entity": "customer", "id": str(uuid.uuid4()),
                                  "values": {"name": f"尾{i}-{j}"}} for j in range(20))), 100)
    for t in readers:
        t.join()
    assert errors == []
    with db.read() as conn:
        result = audit.verify(db, conn)
    assert result.ok and result.entries == 10 * 20 + 2 * 15
