"""Data subjects: who can be erased or exported, and what that covers.

A subject is written ``<entity>:<record id>``: a contact (``contact:<id>``), or a customer
that is a sole trader (``customer:<id>``: a person trading under their own name, so the
company fields are theirs; the administrator who names it decides it is one). The fields a
subject's erasure clears are :func:`subject_fields`: the dictionary's
``personal`` fields plus free text that is about the person. A customer subject covers
its contacts as well (each one a subject of its own), and the records that reference it
(orders, tickets...) are kept but re-sent, so their reference cells go blank.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from bridge import audit
from bridge.db import Database
from bridge.errors import ApiError
from bridge.privacy.records import record, referencing
from bridge.sync.rows import fetch_by_ids
from schema.dictionary import Dictionary
from schema.errors import ErrorCode

# entity -> fields erased beyond the dictionary's ``personal`` ones (free text about them)
EXTRA_FIELDS: dict[str, tuple[str, ...]] = {
    "contact": ("notes",),
    "customer": ("name", "uscc", "address", "phone", "website", "decision_chain", "notes"),
}
_SUBJECT = re.compile(r"^(contact|customer):([0-9A-Fa-f-]{36})$")


def subject_fields(dictionary: Dictionary, entity: str) -> tuple[str, ...]:
    """The fields an erasure of a subject record of ``entity`` clears: the personal ones
    and ``EXTRA_FIELDS``, in field order."""
    extra = EXTRA_FIELDS.get(entity, ())
    return tuple(f.code for f in dictionary.entity(entity).fields
                 if f.personal or f.code in extra)


@dataclass(frozen=True, slots=True)
class Subject:
    entity: str
    record_id: str

    def __str__(self) -> str:
        return f"{self.entity}:{self.record_id}"


def parse_subject(text: str) -> Subject:
    """``contact:<id>`` or ``customer:<id>``, or ``SUBJECT_INVALID``."""
    m = _SUBJECT.match(text.strip())
    try:
        rid = str(uuid.UUID(m.group(2))) if m else ""
    except ValueError:
        rid = ""
    if not m or not rid:
        raise ApiError(ErrorCode.SUBJECT_INVALID, value=text[:100])
    return Subject(m.group(1), rid)


@dataclass
class Target:
    """One record whose subject fields an erasure clears."""

    entity: str
    record_id: str
    row: dict[str, Any]
    fields: tuple[str, ...]  # the subject fields it has

    @property
    def filled(self) -> list[str]:
        return [c for c in self.fields if self.row.get(c) not in (None, "", [])]


@dataclass
class Coverage:
    """What one subject covers: its records, the records that reference it, its values."""

    subject: Subject
    targets: list[Target]
    referencing: dict[str, list[str]]
    values: set[str] = field(default_factory=set)  # every value stored about it (never sent)


def cover(db: Database, dictionary: Dictionary, conn: Connection,
          subject: Subject) -> Coverage:
    """The records and values of ``subject`` (``SUBJECT_NOT_FOUND`` when it has no record)."""
    try:
        row = record(db, dictionary, conn, subject.entity, subject.record_id)
    except ApiError:
        raise ApiError(ErrorCode.SUBJECT_NOT_FOUND, subject=str(subject)) from None
    targets = [Target(subject.entity, subject.record_id, row,
                      subject_fields(dictionary, subject.entity))]
    refs: dict[str, list[str]] = {}
    if subject.entity == "customer":
        refs = referencing(db, dictionary, conn, "customer", [subject.record_id])
        contacts = refs.pop("contact", [])
        rows = _rows(db, dictionary, conn, "contact", contacts)
        targets += [Target("contact", rid, rows[rid], subject_fields(dictionary, "contact"))
                    for rid in contacts]
    cov = Coverage(subject, targets, refs)
    cov.values = known_values(db, conn, cov)
    return cov


def _rows(db: Database, dictionary: Dictionary, conn: Connection, entity: str,
          ids: list[str]) -> dict[str, dict[str, Any]]:
    return fetch_by_ids(conn, db, dictionary, dictionary.entity(entity), ids)


def known_values(db: Database, conn: Connection, cov: Coverage) -> set[str]:
    """The subject fields' values: as the records hold them now, and every old and new
    value of those fields in the audit trail (opened while the subject keys exist)."""
    found: set[str] = set()
    for t in cov.targets:
        found |= {_text(t.row.get(c)) for c in t.fields}
        for e in history(db, conn, t.entity, t.record_id):
            changes = e["changes"] if isinstance(e["changes"], dict) else {}
            for c in t.fields:
                pair = changes.get(c)
                if isinstance(pair, list):
                    found |= {_text(v) for v in pair}
    return {v for v in found if len(v) >= 2}  # a single character names nobody


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def history(db: Database, conn: Connection, entity: str, record_id: str) -> list[dict[str, Any]]:
    """Every audit entry of one record, oldest first, personal values opened."""
    out: list[dict[str, Any]] = []
    after = 0
    while page := audit.query(db, conn, entity=entity, record_id=record_id, after_id=after,
                              limit=5000):
        out += page
        after = page[-1]["id"]
    return out
