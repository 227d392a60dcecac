"""Finding the existing records a company record may be: candidates by match key
(``sys_match_key``) and by stored name key, among the live records the user may see, then
the pairwise decision of ``schema.matching.compare``.

Used by the dry run (thousands of rows at once) and by every push of a new customer
(``bridge.sync.checks.warn_similar``). Only records in the user's scope are ever read, and
only the fields they may see, so no decision reveals a record or value out of sight.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, case, func, select

from bridge.auth import User
from bridge.db import Database
from bridge.matching import profiles
from bridge.matching.keys import cached_profile, company_record, matched_fields, stored_keys
from bridge.permissions import scope_filter
from bridge.sync.rows import columns_out, fetch_columns, select_rows
from schema.dictionary import Dictionary
from schema.matching import Match, Profile, compare, query_keys
from schema.matching.match import MAX_BLOCK
from schema.matching.regions import compatible_regions
from schema.permissions import visible_fields
from schema.sql import NAME_KEY, display_key, table_name
from schema.types import Entity

CHUNK = 20_000  # keys or ids per statement
KEEP = ("same", "branch_of", "uncertain")  # the decisions worth telling the user about


@dataclass(frozen=True, slots=True)
class Existing:
    """A visible live record that may be the same company: its values and profile."""

    id: str
    values: dict[str, Any]
    profile: Profile


@dataclass(frozen=True, slots=True)
class Found:
    """One candidate's decision against a source record."""

    record: Existing
    match: Match


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


Regions = dict[str, str | None]  # record id -> its stored region (None: unknown)


def _stored_region(db: Database, profile: Any) -> Any:
    """The region a stored profile holds (``profiles``' item 2), None when the profile is
    of another version or damaged: read in SQL, so a candidate in a region that cannot be
    the row's is never fetched nor decoded (SQLite's JSON functions; a pattern on
    PostgreSQL 15, which has no JSON check: a canonical region has no quote to escape)."""
    if db.dialect == "postgresql":
        return func.substring(profile, rf'^\[{profiles.VERSION},"(?:[^"\\]|\\.)*","([^"\\]*)",')
    valid = func.json_valid(profile) & (func.json_extract(profile, "$[0]") == profiles.VERSION)
    return case((valid, func.json_extract(profile, "$[2]")), else_=None)


def _holders(conn: Connection, db: Database, entity: str, keys: set[str]) -> dict[str, list[str]]:
    """Record ids under each key; a name key held by too many records is dropped (as in
    ``BlockIndex``), identity keys never are."""
    t = db.table("sys_match_key")
    # one row per key, its ids joined by commas (none in an id): far fewer Python objects
    joined = (func.string_agg(t.c.record_id, ",") if db.dialect == "postgresql"
              else func.group_concat(t.c.record_id, ","))
    held: dict[str, list[str]] = {}
    for chunk in _chunks(sorted(keys)):
        q = (select(t.c.key, joined).where(t.c.entity == entity, db.one_of(t.c.key, chunk))
             .group_by(t.c.key))
        for key, ids in conn.execute(q).cursor.fetchall():  # plain text: no row objects
            held[key] = ids.split(",")
    return {k: ids for k, ids in held.items() if len(ids) <= MAX_BLOCK or k[0] in "upe"}


def _read_regions(conn: Connection, db: Database, entity: str, ids: Iterable[str],
                  known: Regions) -> None:
    """Put the stored region of each of ``ids`` not yet ``known`` into it (in id order: the
    profiles' key; None for a record without a readable profile)."""
    pt = db.table("sys_match_profile")
    todo = sorted({i for i in ids if i not in known})
    region = _stored_region(db, pt.c.profile)
    for chunk in _chunks(todo):
        known.update(dict.fromkeys(chunk))
        q = select(pt.c.record_id, region).where(pt.c.entity == entity,
                                                 db.one_of(pt.c.record_id, chunk))
        known.update(conn.execute(q).cursor.fetchall())


def _by_name(conn: Connection, db: Database, entity: Entity, names: set[str]
             ) -> dict[str, list[str]]:
    """Ids by stored name key (records written around the push engine have no match keys)."""
    t = db.table(table_name(entity.code))
    if NAME_KEY not in t.c or not names:
        return {}
    found: dict[str, list[str]] = defaultdict(list)
    for chunk in _chunks(sorted(names)):
        q = select(t.c[NAME_KEY], t.c.id).where(db.one_of(t.c[NAME_KEY], chunk),
                                                t.c.deleted.is_(False))
        for key, rid in conn.execute(q):
            found[key].append(rid)
    return found


def fetch_visible(conn: Connection, db: Database, dictionary: Dictionary, user: User,
                  entity: Entity, ids: set[str], only_matched: bool = False
                  ) -> dict[str, Existing]:
    """The live records among ``ids`` in the user's scope, with the fields they may see
    (``only_matched``: only those matching reads, and the name: candidates by the
    hundred thousand stay small)."""
    fields = visible_fields(user.role, entity)
    found: dict[str, Existing] = {}
    if only_matched:
        wanted = matched_fields(entity.code) | {entity.display_field}
        fields = [f for f in fields if f.code in wanted]
        if {f.code for f in fields} == wanted:  # the stored profiles read nothing hidden
            found = _with_profiles(conn, db, user, entity, ids)
            ids = ids - found.keys()
    base, t = select_rows(db, dictionary, entity, fields)
    for chunk in _chunks(sorted(ids)):
        q = base.where(db.one_of(t.c.id, chunk), t.c.deleted.is_(False),
                       scope_filter(user, entity, t))
        names, cols = fetch_columns(conn, q)
        for values in zip(*columns_out(entity, names, cols), strict=True):
            row = dict(zip(names, values, strict=True))
            found[row["id"]] = Existing(row["id"], row,
                                        cached_profile(company_record(entity.code, row)))
    return found


def _with_profiles(conn: Connection, db: Database, user: User, entity: Entity,
                   ids: set[str]) -> dict[str, Existing]:
    """The live records among ``ids`` in the user's scope that have a stored profile
    (``bridge.matching.profiles``): their id, name and profile, no parse."""
    t, pt = db.table(table_name(entity.code)), db.table("sys_match_profile")
    name = entity.display_field
    joined = t.join(pt, (pt.c.entity == entity.code) & (pt.c.record_id == t.c.id))
    found: dict[str, Existing] = {}
    for chunk in _chunks(sorted(ids)):
        q = (select(t.c.id, t.c[name], pt.c.profile).select_from(joined)
             .where(db.one_of(t.c.id, chunk), t.c.deleted.is_(False),
                    scope_filter(user, entity, t)))
        for rid, value, text in conn.execute(q).cursor.fetchall():
            if (p := profiles.decode(text)) is not None:
                found[rid] = Existing(rid, {"id": rid, name: value}, p)
    return found


def _near(keys: list[str], held: dict[str, list[str]], known: Regions, region: str
          ) -> set[str]:
    """The holders of ``keys`` whose stored region may be ``region`` (all for a row
    without one, and under a USCC key; an unknown stored region is kept)."""
    ok = compatible_regions(region)
    ids: set[str] = set()
    for k in keys:
        if (h := held.get(k)) is not None:
            ids.update(h if ok is None or k[0] == "u" else
                       [i for i in h if (r := known[i]) is None or r in ok])
    return ids


def candidates(conn: Connection, db: Database, dictionary: Dictionary, user: User,
               entity: Entity, keys: Sequence[list[str]], names: Sequence[Any],
               regions: Sequence[str] | None = None, known: Regions | None = None
               ) -> tuple[list[set[str]], dict[str, Existing]]:
    """For each record's query keys (``schema.matching.query_keys``) and typed name, the
    ids of the visible records it may be, and those records.

    ``regions`` (each record's ``CompanyName.region``): a candidate whose stored region
    cannot be the record's is left out unread, since ``compare`` vetoes it unless both
    hold one valid USCC (so ``u:`` keys are never filtered); a candidate without a readable
    stored profile is kept. ``known`` keeps the regions read for the next call (a dry run's
    chunks share most candidates). Every holder of a key counts against ``MAX_BLOCK``."""
    wanted = [stored_keys(k) for k in keys]
    held = _holders(conn, db, entity.code, {k for ks in wanted for k in ks})
    name_keys = [display_key(n) for n in names]
    named = _by_name(conn, db, entity, {k for k in name_keys if k})
    known = {} if known is None else known
    if regions is not None:
        _read_regions(conn, db, entity.code,
                      {i for k, ids in held.items() if k[0] != "u" for i in ids}, known)
    per_row = []
    for n, (ks, nk) in enumerate(zip(wanted, name_keys, strict=True)):
        ids = _near(ks, held, known, regions[n] if regions is not None else "")
        ids.update(named.get(nk, ()) if nk else ())
        per_row.append(ids)
    records = fetch_visible(conn, db, dictionary, user, entity, set().union(*per_row),
                            only_matched=True)
    return [{i for i in ids if i in records} for ids in per_row], records


def decide(p: Profile, ids: Iterable[str], records: dict[str, Existing],
           name: Any = None, display: str = "name") -> list[Found]:
    """The candidates worth telling about, strongest first (``same``, then ``branch_of``,
    then ``uncertain``; at equal scores the record whose name key equals ``name``'s, then by
    id, so the answer is stable)."""
    found = [Found(records[i], m) for i in ids if (m := compare(p, records[i].profile))
             .decision in KEEP]
    rank = {d: n for n, d in enumerate(KEEP)}
    key = display_key(name)
    return sorted(found, key=lambda f: (rank[f.match.decision], -f.match.score,
                                        display_key(f.record.values.get(display)) != key,
                                        f.record.id))


def similar(conn: Connection, db: Database, dictionary: Dictionary, user: User,
            entity: Entity, rows: Sequence[dict[str, Any]]) -> list[list[Found]]:
    """For each new record's values, the visible records it may be (see :func:`decide`)."""
    profiles = [cached_profile(company_record(entity.code, r)) for r in rows]
    per_row, records = candidates(conn, db, dictionary, user, entity,
                                  [query_keys(p) for p in profiles],
                                  [r.get(entity.display_field) for r in rows],
                                  [p.name.region for p in profiles])
    return [decide(p, ids, records, r.get(entity.display_field), entity.display_field)
            for p, ids, r in zip(profiles, per_row, rows, strict=True)]
