"""Erasing a data subject (PIPL art. 47, GDPR art. 17): the dry run and the erasure.

In one write transaction an erasure

1. refuses when any record it would change is under a legal hold (``ERASE_HELD``, naming
   the hold);
2. clears the subject fields of each of its records (``subjects``) and tombstones the
   record under a new change number, so the next pull of every workbook removes the row;
   records that reference a customer subject keep their data and are re-sent, their
   reference cell now blank;
3. deletes the copies ``scrub`` finds (stored push answers, staged import rows, match keys);
4. destroys each record's audit subject key (``bridge.audit.forget_subject``): the sealed
   personal values of the trail become unreadable and the chain still verifies; each
   record's ``erase`` entry names the fields and counts, never a value.

The dry run reports the same plan without writing (and the holds that would refuse it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from bridge import audit
from bridge.audit.seal import KEYS, SEALED, subject_of
from bridge.auth import User, now
from bridge.db import Database
from bridge.privacy import hold, scrub
from bridge.privacy.subjects import Coverage, Subject, Target, cover, parse_subject
from bridge.sync.tail import lock_audit_tail
from schema.dictionary import Dictionary
from schema.sql import NAME_KEY, table_name


def erase(db: Database, dictionary: Dictionary, user: User, subject: str,
          dry_run: bool = False) -> dict[str, Any]:
    """Erase ``subject`` (``contact:<id>``, ``customer:<id>``), or with ``dry_run`` say
    what would go; the plan either way (see the module docstring)."""
    s = parse_subject(subject)
    if dry_run:
        with db.read() as conn:
            return _plan(db, dictionary, conn, s, dry_run=True)[0]
    with db.write() as conn:
        plan, cov = _plan(db, dictionary, conn, s, dry_run=False)
        if plan["holds"]:
            raise hold.held_error(str(s), plan["holds"][0])
        _apply(db, conn, user, cov, plan)
    return plan


def _plan(db: Database, dictionary: Dictionary, conn: Connection, s: Subject,
          dry_run: bool) -> tuple[dict[str, Any], Coverage]:
    cov = cover(db, dictionary, conn, s)
    touched = [(t.entity, t.record_id) for t in cov.targets]
    touched += [(e, rid) for e, ids in cov.referencing.items() for rid in ids]
    sealed = {subject_of(t.entity, t.record_id): _sealed_entries(db, conn, t)
              for t in cov.targets}
    plan = {
        "subject": str(s), "dry_run": dry_run,
        "records": [{"entity": t.entity, "id": t.record_id, "fields": t.filled,
                     "was_deleted": bool(t.row.get("deleted")), "sealed_entries":
                     sealed[subject_of(t.entity, t.record_id)]} for t in cov.targets],
        "referencing": {e: len(ids) for e, ids in cov.referencing.items()},
        "audit": {"sealed_entries": sum(sealed.values()),
                  "subject_keys": _live_keys(db, conn, list(sealed)),
                  "clear_entries": scrub.clear_entries(db, conn, cov)},
        "copies": scrub.count(db, conn, cov),
        "holds": hold.active_holds(db, conn, touched),
    }
    return plan, cov


def _sealed_entries(db: Database, conn: Connection, t: Target) -> int:
    a = db.table("sys_audit")
    return int(conn.execute(select(func.count()).select_from(a).where(
        a.c.entity == t.entity, a.c.record_id == t.record_id,
        a.c.changes.contains(SEALED, autoescape=True))).scalar_one())


def _live_keys(db: Database, conn: Connection, subjects: list[str]) -> int:
    k = db.table(KEYS)
    return int(conn.execute(select(func.count()).select_from(k).where(
        db.one_of(k.c.subject, subjects), k.c.wrapped_key.is_not(None))).scalar_one())


def _apply(db: Database, conn: Connection, user: User, cov: Coverage,
           plan: dict[str, Any]) -> None:
    seq = db.next_seq(conn)
    at = now()
    for t in cov.targets:
        _clear_record(db, conn, t, user.username, at, seq)
    for entity, ids in cov.referencing.items():
        r = db.table(table_name(entity))
        conn.execute(r.update().where(db.one_of(r.c.id, ids)).values(change_seq=seq))
    plan["copies"] = scrub.clear(db, conn, cov)
    lock_audit_tail(db, conn)
    for t, told in zip(cov.targets, plan["records"], strict=True):
        audit.forget_subject(db, conn, t.entity, t.record_id, user.username, details={
            "subject": plan["subject"], "fields": told["fields"],
            "sealed_entries": told["sealed_entries"], "copies": plan["copies"]},
            change_seq=seq)
    plan["erased_at"] = at.isoformat(timespec="seconds")
    plan["change_seq"] = seq


def _clear_record(db: Database, conn: Connection, t: Target, username: str, at: Any,
                  seq: int) -> None:
    """The subject fields blank, the record tombstoned under change ``seq``."""
    table = db.table(table_name(t.entity))
    values: dict[str, Any] = {c: None for c in t.fields}
    if NAME_KEY in table.c and "name" in t.fields:
        values[NAME_KEY] = None
    conn.execute(table.update().where(table.c.id == t.record_id).values(
        **values, deleted=True, version=table.c.version + 1, updated_by=username,
        updated_at=at, change_seq=seq))
