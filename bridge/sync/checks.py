"""The checks of a push that need the data: cell values (the dictionary's own validation),
references by name, unique fields, similar names, and records still referenced by others.

Each check takes the rows still live and records what it finds through ``Row``'s outcome
methods. Nothing here reveals a record the pusher may not see: a clash with one answers
``ROW_OUT_OF_SCOPE`` (the refusal that names nothing) and is recorded for the admin in the
audit trail.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import pandas as pd
from sqlalchemy import func, or_, select

from bridge import audit
from bridge.errors import from_cell
from bridge.matching.keys import matched_fields
from bridge.matching.match import similar
from bridge.permissions import scope_filter
from bridge.sync.batch import Ctx, Row, err
from schema.errors import ErrorCode
from schema.sql import NAME_KEY, display_key, table_name
from schema.types import Entity, Field, FieldType
from schema.validation import validate_frame
from schema.wire import ErrorItem, WarningItem

_ID_SHAPE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def validate(ctx: Ctx, entity: Entity, rows: list[Row]) -> None:
    """Parse and check each row's full new values with the dictionary's validation."""
    if not rows:
        return
    codes = entity.field_codes()
    index = pd.RangeIndex(len(rows))
    raw = pd.DataFrame({c: [r.new.get(c) for r in rows] for c in codes}, index=index,
                       dtype=object)
    # an update's row holds stored values and pushed values the merge already parsed: all
    # canonical, checked but not parsed again; only what did not parse is parsed here
    trusted = None
    if any(r.stored is not None for r in rows):
        raw_left = [r.unparsed if r.stored is not None else None for r in rows]
        trusted = pd.DataFrame({c: [u is not None and c not in u for u in raw_left]
                                for c in codes}, index=index)
    result = validate_frame(ctx.dictionary, entity.code, raw, trusted=trusted)
    by_row: dict[int, list[ErrorItem]] = defaultdict(list)
    for e in result.errors:
        r = rows[int(e.row)]
        by_row[int(e.row)].append(from_cell(e, r.result.row, r.change.id))
    frame = result.frame
    names = list(frame.columns)
    cols = [frame[c].tolist() for c in names]
    values = zip(*cols, strict=True) if cols else ((),) * len(rows)
    for i, (r, canonical) in enumerate(zip(rows, values, strict=True)):
        if i in by_row:
            r.reject(by_row[i])
        else:
            r.new.update(zip(names, canonical, strict=True))


def _changed(r: Row, code: str) -> bool:
    """Whether live row ``r`` sets ``code`` to a value it did not hold before."""
    return r.live and r.new.get(code) is not None and (
        r.stored is None or r.stored.get(code) != r.new[code])


def resolve_references(ctx: Ctx, entity: Entity, rows: list[Row]) -> None:
    """Turn reference names into ids, among the records the pusher may see; a name matches
    by its ``schema.names`` key (width, case, brackets, spaces), and the row then holds
    the record's own name. A value that is a visible record's id names that record (an
    import links a contact to the customer it has just written, whatever its name)."""
    for f in entity.fields:
        if f.type is not FieldType.REFERENCE or f.ref is None:
            continue
        todo = [r for r in rows if _changed(r, f.code)]
        if not todo:
            continue
        ref = ctx.dictionary.entity(f.ref)
        found = _visible_by_name(ctx, ref, {r.new[f.code] for r in todo})
        by_id = _visible_by_id(ctx, ref, {r.new[f.code] for r in todo})
        if f.ref == entity.code:  # a link within the entity: new records of this push too
            _add_new_records(ctx, entity, rows, found)
        for r in todo:
            matches = by_id.get(str(r.new[f.code])) or \
                found.get(_lookup_key(ctx, f.ref, r.new[f.code]), [])
            if len(matches) == 1:
                r.ref_ids[f.code], r.new[f.code] = matches[0]
            else:
                code = (ErrorCode.REFERENCE_AMBIGUOUS if matches
                        else ErrorCode.REFERENCE_NOT_FOUND)
                r.reject([err(r, code, f, value=r.new[f.code])])


def _add_new_records(ctx: Ctx, entity: Entity, rows: list[Row],
                     found: dict[Any, list[tuple[str, Any]]]) -> None:
    """Add the live inserts of this push to ``found`` by lookup key, so a branch may name a
    head office that travels with it (``write`` stores the head office first)."""
    code = entity.display_field
    for r in rows:
        if r.live and r.change.op == "insert" and r.new.get(code) is not None:
            found[_lookup_key(ctx, entity.code, r.new[code])].append((r.change.id, r.new[code]))


def _keyed(ctx: Ctx, entity_code: str) -> bool:
    return NAME_KEY in ctx.db.table(table_name(entity_code)).c


def _lookup_key(ctx: Ctx, entity_code: str, name: Any) -> Any:
    """What a typed name is looked up by: its name key, or itself where none is stored."""
    return display_key(name) if _keyed(ctx, entity_code) else str(name)


def _visible_by_name(ctx: Ctx, ref: Entity, names: set[Any]) -> dict[Any, list[tuple[str, Any]]]:
    """Live records of ``ref`` the pusher may see, as (id, display name), by lookup key.

    A record written around the push engine (a bulk load) may have no key stored: the
    exact name finds it too.
    """
    rt = ctx.db.table(table_name(ref.code))
    display = rt.c[ref.display_field]
    found: dict[Any, list[tuple[str, Any]]] = defaultdict(list)
    if not names:
        return found
    exact = ctx.db.one_of(display, sorted({str(n) for n in names}))
    if _keyed(ctx, ref.code):
        keys = sorted({k for n in names if (k := display_key(n)) is not None})
        exact = or_(exact, ctx.db.one_of(rt.c[NAME_KEY], keys))
    q = select(rt.c.id, display).where(exact, rt.c.deleted.is_(False),
                                       scope_filter(ctx.user, ref, rt))
    for rid, name in ctx.conn.execute(q):
        found[_lookup_key(ctx, ref.code, name)].append((rid, name))
    return found


def _visible_by_id(ctx: Ctx, ref: Entity, values: set[Any]) -> dict[str, list[tuple[str, Any]]]:
    """Live records of ``ref`` the pusher may see whose id is one of ``values`` (only
    values shaped as a record id, a UUID, are looked up), as (id, display name) by id."""
    ids = sorted(v for v in {str(x) for x in values} if _ID_SHAPE.fullmatch(v))
    if not ids:
        return {}
    rt = ctx.db.table(table_name(ref.code))
    q = select(rt.c.id, rt.c[ref.display_field]).where(
        ctx.db.one_of(rt.c.id, ids), rt.c.deleted.is_(False), scope_filter(ctx.user, ref, rt))
    return {rid: [(rid, name)] for rid, name in ctx.conn.execute(q)}


def check_unique(ctx: Ctx, entity: Entity, rows: list[Row]) -> None:
    """Unique fields: a new or changed value may not be held by another live record.

    A holder the pusher can see is named (``DUPLICATE_VALUE``); one they cannot see is not:
    the row gets ``ROW_OUT_OF_SCOPE`` and the clash goes to the audit trail for the admin.
    """
    t = ctx.db.table(table_name(entity.code))
    for f in entity.fields:
        if not f.unique:
            continue
        todo = [r for r in rows if _changed(r, f.code)]
        values = sorted({r.new[f.code] for r in todo})
        if not values:
            continue
        holders: dict[Any, list[tuple[str, bool]]] = defaultdict(list)
        q = select(t.c.id, t.c[f.code], scope_filter(ctx.user, entity, t).label("visible")).where(
            ctx.db.one_of(t.c[f.code], values), t.c.deleted.is_(False))
        for rid, v, visible in ctx.conn.execute(q):
            holders[v].append((rid, bool(visible)))
        for r in todo:
            others = [h for h in holders.get(r.new[f.code], []) if h[0] != r.change.id]
            if others and r.live:
                _refuse_duplicate(ctx, entity, f, r, others)


def _refuse_duplicate(ctx: Ctx, entity: Entity, f: Field, r: Row,
                      holders: list[tuple[str, bool]]) -> None:
    value = r.new[f.code]
    if any(visible for _, visible in holders):
        r.reject([err(r, ErrorCode.DUPLICATE_VALUE, f, value=value)])
        return
    r.reject([err(r, ErrorCode.ROW_OUT_OF_SCOPE)])
    ctx.refusals += [audit.Entry(ctx.user.username, "refused", entity.code, r.change.id, {
        "reason": ErrorCode.DUPLICATE_VALUE, "field": f.code, "value": value, "held_by": rid,
        "op": r.change.op}, ctx.key) for rid, _ in holders]


def warn_similar(ctx: Ctx, entity: Entity, rows: list[Row]) -> None:
    """A new record that is probably a visible record already stored is still written,
    with a ``SIMILAR_RECORD`` warning offering the one that exists (at most three).

    A matched entity (``bridge.matching.keys.MATCHED``: customers) is looked up by its
    match keys and compared by ``schema.matching.compare``: the same company, a branch of
    it, or one a person should look at (the USCC, a phone, a name variant with another
    signal). Any other entity with a name key: an equal name key.
    """
    code = entity.display_field
    todo = [r for r in rows if r.live and r.change.op == "insert" and r.new.get(code)]
    if not todo:
        return
    f = entity.field(code)
    if matched_fields(entity.code):
        found = similar(ctx.conn, ctx.db, ctx.dictionary, ctx.user, entity,
                        [r.new for r in todo])
        for r, hits in zip(todo, found, strict=True):
            for hit in hits[:3]:
                _warn_similar(r, f, hit.record.id, hit.record.values.get(code),
                              decision=hit.match.decision, score=hit.match.score)
        return
    if not _keyed(ctx, entity.code):
        return
    by_name = _visible_by_name(ctx, entity, {r.new[code] for r in todo})
    for r in todo:
        for match_id, name in by_name.get(display_key(r.new[code]), [])[:3]:
            _warn_similar(r, f, match_id, name)


def _warn_similar(r: Row, f: Field, match_id: str, name: Any, **more: Any) -> None:
    said = err(r, ErrorCode.SIMILAR_RECORD, f, value=name, match_id=match_id)
    r.warn(WarningItem(**said.model_dump(), params={"match_id": match_id, "value": name,
                                                    **more}))


def check_referenced(ctx: Ctx, entity: Entity, rows: list[Row]) -> None:
    """A record still referenced by live rows cannot be deleted."""
    ids = [r.change.id for r in rows]
    if not ids:
        return
    for child in ctx.dictionary:
        for f in child.fields:
            if f.type is not FieldType.REFERENCE or f.ref != entity.code:
                continue
            ct = ctx.db.table(table_name(child.code))
            q = (select(ct.c[f.code], func.count()).where(ctx.db.one_of(ct.c[f.code], ids),
                                                          ct.c.deleted.is_(False))
                 .group_by(ct.c[f.code]))
            counts: dict[str, int] = {k: int(v) for k, v in ctx.conn.execute(q).all()}
            for r in rows:
                if r.live and counts.get(r.change.id):
                    r.reject([err(r, ErrorCode.ROW_REFERENCED, count=counts[r.change.id],
                                   child=child.en)])
