"""Match keys: each customer's blocking keys (``schema.matching.blocking_keys``) in
``sys_match_key``, kept up to date by the push engine in the same transaction, so a dry run
or a new customer's push finds its candidates by key instead of by scanning.

The matched fields are declared once, in :data:`MATCHED`: the entity and which of its
fields feed which part of a ``CompanyRecord``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, delete

from bridge import bulk
from bridge.db import Database
from bridge.matching import profiles
from schema.matching import CompanyRecord, Profile, blocking_keys, profile

# entity -> CompanyRecord part -> field code (``website`` stands in for an e-mail domain)
MATCHED: dict[str, dict[str, str]] = {
    "customer": {"name": "name", "uscc": "uscc", "phone": "phone", "website": "website",
                 "address": "address"},
}
KEY_MAX = 255  # the column's length; a longer key is kept as its hash
COLUMNS = ("entity", "record_id", "key")


def matched_fields(entity: str) -> frozenset[str]:
    """The fields of ``entity`` whose change changes its match keys (empty: not matched)."""
    return frozenset(MATCHED.get(entity, {}).values())


def _text(value: Any) -> str:
    return "" if value is None else str(value)


_PLAIN_SITE = re.compile(r"(?:https?://)?([A-Za-z0-9.-]+)(?:[/?#]|\Z)")


@lru_cache(maxsize=65_536)
def _domain_as_email(website: str) -> str:
    """A website as the e-mail address matching reads its domain from (``www.`` dropped)."""
    plain = _PLAIN_SITE.match(website)  # most sites: no port, user or odd characters
    host = plain[1].lower() if plain else \
        urlsplit(website if "//" in website else f"//{website}").hostname or ""
    host = host.removeprefix("www.")
    return f"info@{host}" if host else ""


def company_record(entity: str, values: Mapping[str, Any]) -> CompanyRecord:
    """The ``CompanyRecord`` of one record's (canonical) values."""
    parts = MATCHED[entity]
    return CompanyRecord(
        name=_text(values.get(parts["name"])), uscc=_text(values.get(parts["uscc"])),
        phone=_text(values.get(parts["phone"])), address=_text(values.get(parts["address"])),
        email=_domain_as_email(_text(values.get(parts["website"]))))


@lru_cache(maxsize=32_768)
def cached_profile(record: CompanyRecord) -> Profile:
    """``profile`` of a record, remembered (a push profiles each new customer twice: to
    warn about similar records, then for its match keys and stored profile; a file repeats
    rows). Held for a push of 10,000 rows and more: with 8,192 such a push missed every
    time, the second pass evicting in the order the first had filled."""
    return profile(record)


def _stored(key: str) -> str:
    if len(key) <= KEY_MAX:
        return key
    return key[:2] + hashlib.sha256(key.encode()).hexdigest()


def stored_keys(keys: Iterable[str]) -> list[str]:
    """Keys as the column holds them (distinct, in order; long ones hashed)."""
    return list(dict.fromkeys([k if len(k) <= KEY_MAX else _stored(k) for k in keys]))


def match_keys(entity: str, values: Mapping[str, Any]) -> list[str]:
    """The stored match keys of one record of ``entity``."""
    return stored_keys(blocking_keys(cached_profile(company_record(entity, values))))


def replace_keys(db: Database, conn: Connection, entity: str,
                 records: Mapping[str, Mapping[str, Any] | None]) -> None:
    """Set the keys of ``records`` (id -> canonical values; None: deleted, keys removed),
    in bulk, inside the caller's transaction."""
    if entity not in MATCHED or not records:
        return
    t, pt = db.table("sys_match_key"), db.table("sys_match_profile")
    ids = list(records)
    for start in range(0, len(ids), 10_000):
        chunk = ids[start:start + 10_000]
        for table in (t, pt):
            conn.execute(delete(table).where(table.c.entity == entity,
                                             db.one_of(table.c.record_id, chunk)))
    written = {rid: cached_profile(company_record(entity, values))
               for rid, values in records.items() if values is not None}
    # in key order: the B-tree pages are filled one after the other, not at random
    rows = sorted((entity, k, rid) for rid, p in written.items()
                  for k in stored_keys(blocking_keys(p)))
    bulk.insert_rows(conn, t, ("entity", "key", "record_id"), rows)
    bulk.insert_rows(conn, pt, profiles.COLUMNS,
                     sorted((entity, rid, profiles.encode(p)) for rid, p in written.items()))
