"""Personal values in audit entries, sealed with a per-subject key (erasure-ready).

A subject is one record holding personal fields (``"<entity>:<record id>"``); which fields
are personal comes from the dictionary (``Field.personal``, carried on the SQL columns as
``info["personal"]``). An entry's personal changes are encrypted together with AES-256-GCM
under the subject's key (the subject as associated data) and stored in ``changes`` under
:data:`SEALED`; the chain hashes that ciphertext. Subject keys live in
``sys_audit_subject_key``, wrapped with a key derived from the audit HMAC key; destroying a
subject's key (:func:`forget_subject`) leaves its values unreadable and the chain intact.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, select

from bridge import bulk
from bridge.audit.keys import AuditKey
from bridge.auth import now
from bridge.db import Database
from schema.sql import TABLE_PREFIX

SEALED = "$sealed"  # the changes key holding the sealed personal changes
KEYS = "sys_audit_subject_key"
_NONCE = 12



def personal_fields(db: Database) -> dict[str, frozenset[str]]:
    """Entity code -> its personal field codes (only entities that have some); worked out
    once per metadata."""
    found: dict[str, frozenset[str]] | None = db.metadata.info.get("audit_personal")
    if found is None:
        found = {}
        for name, table in db.metadata.tables.items():
            codes = frozenset(c.name for c in table.c if c.info.get("personal"))
            if codes and name.startswith(TABLE_PREFIX):
                found[name[len(TABLE_PREFIX):]] = codes
        db.metadata.info["audit_personal"] = found
    return found


def subject_of(entity: str, record_id: str) -> str:
    return f"{entity}:{record_id}"


def _encrypt(aead: AESGCM, plain: bytes, subject: str, nonce: bytes | None = None) -> str:
    nonce = nonce or os.urandom(_NONCE)
    return base64.b64encode(nonce + aead.encrypt(nonce, plain, subject.encode())).decode()


def _decrypt(aead: AESGCM, sealed: str, subject: str) -> bytes:
    raw = base64.b64decode(sealed)
    return aead.decrypt(raw[:_NONCE], raw[_NONCE:], subject.encode())


def subject_keys(db: Database, conn: Connection, key: AuditKey, subjects: Iterable[str],
                 create: bool = False) -> dict[str, bytes]:
    """The readable keys of ``subjects`` (``create``: make the missing or destroyed ones)."""
    wanted = list(dict.fromkeys(subjects))
    if not wanted:
        return {}
    t = db.table(KEYS)
    kek = AESGCM(key.kek())
    found: dict[str, bytes] = {}
    destroyed: set[str] = set()
    for subject, wrapped in conn.execute(select(t.c.subject, t.c.wrapped_key)
                                         .where(db.one_of(t.c.subject, wanted))):
        if wrapped is None:
            destroyed.add(subject)
            continue
        try:
            found[subject] = _decrypt(kek, wrapped, subject)
        except (InvalidTag, ValueError):
            destroyed.add(subject)  # wrapped under another audit key: unreadable here
    if create:
        _create_keys(db, conn, kek, [s for s in wanted if s not in found], destroyed, found)
    return found


def _create_keys(db: Database, conn: Connection, kek: AESGCM, missing: list[str],
                 destroyed: set[str], into: dict[str, bytes]) -> None:
    t, at, rows = db.table(KEYS), now(), []
    chunk = 32 + _NONCE
    randomness = os.urandom(chunk * len(missing))  # one call for all the new keys
    for i, subject in enumerate(missing):
        part = randomness[i * chunk:(i + 1) * chunk]
        into[subject] = fresh = part[:32]
        nonce = part[32:]
        wrapped = _encrypt(kek, fresh, subject, nonce)
        if subject in destroyed:  # after erasure (or a key change): a new key
            conn.execute(t.update().where(t.c.subject == subject)
                         .values(wrapped_key=wrapped, created_at=at, destroyed_at=None))
        else:
            rows.append((subject, wrapped, at))
    bulk.insert_rows(conn, t, ("subject", "wrapped_key", "created_at"), rows)


def _dumps(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def sealed_changes(db: Database, conn: Connection, key: AuditKey,
                   entries: list[Any]) -> list[str | None]:
    """Each entry's ``changes`` as stored: JSON text, personal changes sealed."""
    personal = personal_fields(db)
    texts: list[str | None] = []
    todo: list[tuple[int, str, frozenset[str]]] = []
    for i, e in enumerate(entries):
        codes = personal.get(e.entity) if e.entity and e.record_id else None
        if codes and isinstance(e.changes, dict) and not codes.isdisjoint(e.changes):
            todo.append((i, subject_of(e.entity, e.record_id), codes))
        texts.append(None if e.changes is None else _dumps(e.changes))
    if not todo:
        return texts
    keys = subject_keys(db, conn, key, (s for _, s, _ in todo), create=True)
    nonces = os.urandom(_NONCE * len(todo))
    for n, (i, subject, codes) in enumerate(todo):
        changes = entries[i].changes
        plain = {k: v for k, v in changes.items() if k not in codes}
        secret = {k: v for k, v in changes.items() if k in codes}
        plain[SEALED] = _encrypt(AESGCM(keys[subject]), orjson.dumps(secret, default=str),
                                 subject, nonces[n * _NONCE:(n + 1) * _NONCE])
        texts[i] = _dumps(plain)
    return texts


def unseal(db: Database, conn: Connection, key: AuditKey | None,
           entries: list[dict[str, Any]]) -> None:
    """Open the sealed changes of ``entries`` (dicts as ``query`` returns them) in place;
    an entry whose subject key is destroyed (or not readable) gets ``erased: True``."""
    sealed = [e for e in entries if isinstance(e["changes"], dict) and SEALED in e["changes"]]
    if not sealed:
        return
    subjects = [subject_of(e["entity"], e["record_id"]) for e in sealed]
    keys = subject_keys(db, conn, key, subjects) if key is not None else {}
    for e, subject in zip(sealed, subjects, strict=True):
        box = e["changes"].pop(SEALED)
        try:
            e["changes"].update(orjson.loads(_decrypt(AESGCM(keys[subject]), box, subject)))
        except (KeyError, InvalidTag, ValueError):
            e["erased"] = True


def forget_subject(db: Database, conn: Connection, entity: str, record_id: str,
                   username: str, details: dict[str, Any] | None = None,
                   change_seq: int | None = None) -> bool:
    """Destroy the key of one subject (a contact, a sole trader...): its personal values in
    the audit trail become unreadable for good, while the chain still verifies. The erasure
    is itself audited, without values (``details``: what was erased, by name and count).
    Call inside ``db.write()``; True when a key was destroyed."""
    from bridge.audit.chain import Entry, append

    t = db.table(KEYS)
    subject = subject_of(entity, record_id)
    if db.dialect == "sqlite":
        conn.exec_driver_sql("PRAGMA secure_delete = ON")  # overwrite the freed bytes
    done = conn.execute(t.update().where(t.c.subject == subject, t.c.wrapped_key.is_not(None))
                        .values(wrapped_key=None, destroyed_at=now())).rowcount
    append(db, conn, [Entry(username, "erase", entity, record_id, details,
                            change_seq=change_seq)])
    return bool(done)
