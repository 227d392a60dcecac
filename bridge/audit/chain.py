"""The chain itself: entries, their keyed hashes, appending, the head.

Each entry holds its place (``seq``: 1, 2, 3...), the hash of the previous entry and its
own hash: HMAC-SHA256 under the audit key (``key_id`` names which) over the previous hash,
its place, its time and its ``CONTENT`` columns. Entries written before keyed auditing
(``key_id`` NULL) keep their plain SHA-256 hash; the first keyed entry signs the last of
them, which anchors that unkeyed prefix. Appends happen inside the serialised write
transaction, so the chain has exactly one tail.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, select

from bridge import bulk
from bridge.audit import checkpoints, keys, seal
from bridge.audit.keys import AuditKey
from bridge.auth import as_utc, now
from bridge.db import Database

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class Entry:
    username: str
    action: str  # insert | update | delete | pull | restore | undo | erase
    entity: str | None = None
    record_id: str | None = None
    changes: Any = None  # {field: [old, new]} for writes; details for pulls
    push_key: str | None = None
    change_seq: int | None = None


@dataclass(frozen=True, slots=True)
class Head:
    """The newest entry's place and hash (``seq`` 0 and :data:`GENESIS`: no entry yet)."""

    seq: int
    hash: str

    def wire(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash}


CONTENT = ("username", "action", "entity", "record_id", "changes", "push_key", "change_seq")
COLUMNS = ("at", *CONTENT, "seq", "key_id", "prev_hash", "hash")  # ``append``'s row order


def legacy_digest(prev: str, stamp: str, content: Sequence[Any]) -> str:
    """The unkeyed hash of entries written before keyed auditing: the previous hash, the
    time (``as_utc(at).isoformat()``) and the ``CONTENT`` columns (``changes`` as text)."""
    payload = orjson.dumps([stamp, *content], default=str)
    return hashlib.sha256(prev.encode() + b"|" + payload).hexdigest()


def keyed_digest(key: AuditKey, prev: str, seq: int, stamp: str,
                 content: Sequence[Any]) -> str:
    """The keyed hash of one entry (see the module docstring)."""
    payload = orjson.dumps([seq, key.id, stamp, *content], default=str)
    return key.sign(b"v1|" + prev.encode() + b"|" + payload)


def head(db: Database, conn: Connection) -> Head:
    """The chain's newest entry (as the table says: checkpoints keep it honest)."""
    t = db.table("sys_audit")
    last = conn.execute(select(t.c.seq, t.c.hash).order_by(t.c.id.desc()).limit(1)).first()
    return Head(int(last.seq or 0), str(last.hash)) if last else Head(0, GENESIS)


def append(db: Database, conn: Connection, entries: list[Entry]) -> Head:
    """Append ``entries`` in one bulk insert; call inside ``db.write()``. Returns the new
    head (the current one when ``entries`` is empty)."""
    start = head(db, conn)
    if not entries:
        return start
    key = keys.signing_key(db)
    checkpoints.maybe_write(db, key, start)  # ``start`` is committed: safe to anchor
    at = now()
    stamp = as_utc(at).isoformat()
    texts = seal.sealed_changes(db, conn, key, entries)
    prev, seq, kid, rows = start.hash, start.seq, key.id, []
    for e, changes in zip(entries, texts, strict=True):
        seq += 1
        content = (e.username, e.action, e.entity, e.record_id, changes, e.push_key,
                   e.change_seq)
        digest = keyed_digest(key, prev, seq, stamp, content)
        rows.append((at, *content, seq, kid, prev, digest))
        prev = digest
    bulk.insert_rows(conn, db.table("sys_audit"), COLUMNS, rows)
    return Head(seq, prev)
