"""The append-only audit log: every applied change and every pull, hash-chained.

Each entry stores the hash of the previous one, so editing or deleting any entry breaks
the chain, which ``verify`` (``crm-bridge audit verify``) detects. Appends happen inside
the serialised write transaction, so the chain has exactly one tail.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, select

from bridge import bulk
from bridge.auth import as_utc, now
from bridge.db import Database

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class Entry:
    username: str
    action: str  # insert | update | delete | pull | restore | undo
    entity: str | None = None
    record_id: str | None = None
    changes: Any = None  # {field: [old, new]} for writes; details for pulls
    push_key: str | None = None
    change_seq: int | None = None


def _digest(prev: str, stamp: str, content: Sequence[Any]) -> str:
    """The hash of one entry: the previous hash, its time (``as_utc(at).isoformat()``) and
    its ``CONTENT`` columns in order (``changes`` as its stored JSON text)."""
    payload = orjson.dumps([stamp, *content], default=str)
    return hashlib.sha256(prev.encode() + b"|" + payload).hexdigest()


def _tail(db: Database, conn: Connection) -> str:
    t = db.table("sys_audit")
    last = conn.execute(select(t.c.hash).order_by(t.c.id.desc()).limit(1)).scalar()
    return str(last) if last else GENESIS


CONTENT = ("username", "action", "entity", "record_id", "changes", "push_key", "change_seq")
COLUMNS = ("at", *CONTENT, "prev_hash", "hash")  # what ``append`` writes, in this order


def append(db: Database, conn: Connection, entries: list[Entry]) -> None:
    """Append ``entries`` in one bulk insert; call inside ``db.write()``."""
    if not entries:
        return
    prev, at, rows = _tail(db, conn), now(), []
    stamp = as_utc(at).isoformat()
    for e in entries:
        changes = None if e.changes is None else orjson.dumps(e.changes, default=str).decode()
        content = (e.username, e.action, e.entity, e.record_id, changes, e.push_key,
                   e.change_seq)
        digest = _digest(prev, stamp, content)
        rows.append((at, *content, prev, digest))
        prev = digest
    bulk.insert_rows(conn, db.table("sys_audit"), COLUMNS, rows)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    entries: int
    first_bad_id: int | None = None
    reason: str = ""


def verify(db: Database, conn: Connection, batch: int = 10_000) -> VerifyResult:
    """Walk the whole chain; report the first entry whose hash or link does not hold."""
    t = db.table("sys_audit")
    prev, count, last_id = GENESIS, 0, 0
    while True:
        rows = conn.execute(select(t).where(t.c.id > last_id).order_by(t.c.id).limit(batch)).all()
        if not rows:
            return VerifyResult(True, count)
        for r in rows:
            m = r._mapping
            if m["prev_hash"] != prev:
                return VerifyResult(False, count, m["id"], "link to the previous entry broken")
            content = [m[c] for c in CONTENT]
            if _digest(prev, as_utc(m["at"]).isoformat(), content) != m["hash"]:
                return VerifyResult(False, count, m["id"], "entry content changed")
            prev, count, last_id = m["hash"], count + 1, m["id"]


def query(db: Database, conn: Connection, *, entity: str | None = None,
          record_id: str | None = None, username: str | None = None,
          push_key: str | None = None, action: str | None = None, after_id: int = 0,
          limit: int = 500) -> list[dict[str, Any]]:
    """Audit entries matching the filters, oldest first."""
    t = db.table("sys_audit")
    q = select(t).where(t.c.id > after_id)
    for col, val in (("entity", entity), ("record_id", record_id), ("username", username),
                     ("push_key", push_key), ("action", action)):
        if val is not None:
            q = q.where(t.c[col] == val)
    out = []
    for r in conn.execute(q.order_by(t.c.id).limit(limit)):
        m = dict(r._mapping)
        m["at"] = as_utc(m["at"]).isoformat()
        m["changes"] = json.loads(m["changes"]) if m["changes"] else None
        out.append(m)
    return out
