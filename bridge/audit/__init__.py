"""The append-only audit log: every applied change and every pull, in a keyed hash chain.

- ``chain``: entries, their HMAC-SHA256 hashes under a key the database does not hold
  (``bridge.settings``: ``CRM_AUDIT_KEY`` or the key file), ``append`` and the ``head``;
- ``checkpoints``: the head written outside the database (and returned in push answers);
- ``verify``: the chain against its key and every anchor (``crm-bridge audit verify``);
- ``seal``: personal values sealed per subject, so ``forget_subject`` can erase them
  without breaking the chain.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select

from bridge.audit import checkpoints, keys
from bridge.audit.chain import COLUMNS, CONTENT, GENESIS, Entry, Head, append, head
from bridge.audit.checkpoints import Anchor
from bridge.audit.seal import forget_subject, unseal
from bridge.audit.verify import VerifyResult, verify
from bridge.auth import as_utc
from bridge.db import Database

__all__ = ["COLUMNS", "CONTENT", "GENESIS", "Anchor", "Entry", "Head", "VerifyResult",
           "append", "checkpoints", "forget_subject", "head", "keys", "query", "verify"]


def query(db: Database, conn: Connection, *, entity: str | None = None,
          record_id: str | None = None, username: str | None = None,
          push_key: str | None = None, action: str | None = None, after_id: int = 0,
          limit: int = 500) -> list[dict[str, Any]]:
    """Audit entries matching the filters, oldest first, personal values opened (an entry
    whose subject was erased carries ``erased: true`` instead)."""
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
    unseal(db, conn, keys.checking_key(db), out)
    return out
