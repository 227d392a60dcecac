"""Restoring a field and undoing a push: both become ordinary, audited pushes by the admin,
so they meet the same merge and conflict rules as anyone's edit."""

from __future__ import annotations

import uuid
from typing import Any

from bridge import audit
from bridge.auth import User
from bridge.db import Database
from bridge.errors import ApiError
from bridge.sync.push import push
from bridge.sync.rows import fetch_by_ids
from schema.dictionary import Dictionary
from schema.errors import ErrorCode
from schema.wire import PushRequest, PushResponse, RowChange


def _current(db: Database, dictionary: Dictionary, entity: str, ids: list[str]
             ) -> dict[str, dict[str, Any]]:
    with db.read() as conn:
        return fetch_by_ids(conn, db, dictionary, dictionary.entity(entity), ids)


def restore_field(db: Database, dictionary: Dictionary, user: User, audit_id: int,
                  field: str) -> PushResponse:
    with db.read() as conn:
        found = audit.query(db, conn, after_id=audit_id - 1, limit=1)
    entry = found[0] if found and found[0]["id"] == audit_id else None
    if entry is None or not entry["changes"] or field not in entry["changes"]:
        raise ApiError(ErrorCode.AUDIT_NOT_FOUND, value=f"{audit_id}/{field}")
    old, new = entry["changes"][field]
    cur = _current(db, dictionary, entry["entity"], [entry["record_id"]]).get(entry["record_id"])
    if cur is None:
        raise ApiError(ErrorCode.ROW_NOT_FOUND, row_id=entry["record_id"])
    rc = RowChange(op="update", entity=entry["entity"], id=entry["record_id"],
                   base_version=cur["version"], values={field: old}, base={field: new})
    # base = the value the audited change wrote: if someone changed it since, it conflicts
    return push(db, dictionary, user, PushRequest(
        idempotency_key=f"restore-{audit_id}-{field}-{uuid.uuid4().hex[:8]}",
        template_version=dictionary.version, rows=[rc]), max_rows=1)


def undo_push(db: Database, dictionary: Dictionary, user: User, push_key: str) -> PushResponse:
    with db.read() as conn:
        entries = [e for e in audit.query(db, conn, push_key=push_key, limit=100_000)
                   if e["action"] in ("insert", "update", "delete")]
    if not entries:
        raise ApiError(ErrorCode.AUDIT_NOT_FOUND, value=push_key)
    rows: list[RowChange] = []
    for e in reversed(entries):  # children were written after parents: undo them first
        cur = _current(db, dictionary, e["entity"], [e["record_id"]]).get(e["record_id"])
        if cur is None:
            continue
        if e["action"] == "insert":
            rows.append(RowChange(op="delete", entity=e["entity"], id=e["record_id"],
                                  base_version=cur["version"]))
        elif e["action"] == "update":
            changes = e["changes"] or {}
            rows.append(RowChange(op="update", entity=e["entity"], id=e["record_id"],
                                  base_version=cur["version"],
                                  values={k: v[0] for k, v in changes.items()},
                                  base={k: v[1] for k, v in changes.items()}))
    return push(db, dictionary, user, PushRequest(
        idempotency_key=f"undo-{uuid.uuid4().hex}", template_version=dictionary.version,
        rows=rows), max_rows=max(1, len(rows)))
