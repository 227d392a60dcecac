"""Reading an import's decisions page by page, and recording the review sheet's choices."""

from __future__ import annotations

import uuid

from bridge.auth import User
from bridge.db import Database
from bridge.errors import ApiError
from bridge.imports import store
from schema.errors import ErrorCode
from schema.wire_import import DecisionPage, ImportOut, RowChoice


def decisions(db: Database, user: User, import_id: str, after: int, limit: int) -> DecisionPage:
    """The decisions after source row ``after`` (at most ``limit``), in source order."""
    with db.read() as conn:
        rec = store.fetch(conn, db, user, import_id)
        store.require_state(rec, ErrorCode.IMPORT_NOT_CHECKED, "checked", "confirmed", "undone")
        rows = store.load_rows(conn, db, import_id, after=after, limit=limit)
    found = [s.decision for s in rows if s.decision is not None]
    more = len(rows) == limit and bool(rows)
    return DecisionPage(decisions=found, next_after=rows[-1].source_row if more else None)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36


def _check(choice: RowChoice, s: store.Staged) -> None:
    d = s.decision
    assert d is not None
    problem = None
    if d.decision == "invalid" and choice.choice != "skip":
        problem = "the row is invalid: correct it in the file, or skip it"
    elif choice.choice == "merge" and not (choice.record_id or d.record_id
                                           or d.uncertain_of is not None):
        problem = "merge needs the record_id of an existing record"
    elif choice.record_id is not None and not _is_uuid(choice.record_id):
        problem = f"record_id {choice.record_id!r} is not a record id"
    if problem:
        raise ApiError(ErrorCode.IMPORT_CHOICE_INVALID, row=choice.source_row, detail=problem,
                       field="choices")


def choose(db: Database, user: User, import_id: str, choices: list[RowChoice]) -> ImportOut:
    """Record the review's choices (a later choice for a row replaces an earlier one)."""
    wanted = {c.source_row: c for c in choices}
    with db.write() as conn:
        rec = store.fetch(conn, db, user, import_id, lock=True)
        store.require_state(rec, ErrorCode.IMPORT_NOT_CHECKED, "checked")
        rows = {s.source_row: s for s in store.load_some(conn, db, import_id, sorted(wanted))}
        for n, choice in wanted.items():
            s = rows.get(n)
            if s is None or s.decision is None:
                raise ApiError(ErrorCode.IMPORT_ROW_UNKNOWN, row=n, field="choices")
            _check(choice, s)
            s.choice = choice
        store.save_choices(conn, db, import_id, list(rows.values()))
        return store.out(rec)
