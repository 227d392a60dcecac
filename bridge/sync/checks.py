"""The checks of a push that need the data: cell values (the dictionary's own validation),
references by name, unique fields, and records still referenced by others."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd
from sqlalchemy import func, select

from bridge.errors import from_cell
from bridge.permissions import scope_filter
from bridge.sync.batch import Ctx, Row, err
from schema.sql import table_name
from schema.types import Entity, FieldType
from schema.validation import validate_frame
from schema.wire import ErrorItem


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
    if any(r.current is not None for r in rows):
        raw_left = [r.unparsed if r.current is not None else None for r in rows]
        trusted = pd.DataFrame({c: [u is not None and c not in u for u in raw_left]
                                for c in codes}, index=index)
    result = validate_frame(ctx.dictionary, entity.code, raw, trusted=trusted)
    by_row: dict[int, list[ErrorItem]] = defaultdict(list)
    for e in result.errors:
        r = rows[int(e.row)]
        by_row[int(e.row)].append(from_cell(e, r.result.row, r.rc.id))
    frame = result.frame
    names = list(frame.columns)
    cols = [frame[c].tolist() for c in names]
    values = zip(*cols, strict=True) if cols else ((),) * len(rows)
    for i, (r, canonical) in enumerate(zip(rows, values, strict=True)):
        if i in by_row:
            r.reject(by_row[i])
        else:
            r.new.update(zip(names, canonical, strict=True))


def resolve_references(ctx: Ctx, entity: Entity, rows: list[Row]) -> None:
    """Turn reference names into ids, among the rows the pusher may see."""
    for f in entity.fields:
        if f.type is not FieldType.REFERENCE or f.ref is None:
            continue
        ref = ctx.dictionary.entity(f.ref)
        names = {r.new[f.code] for r in rows if r.live and r.new.get(f.code) is not None
                 and (r.current is None or r.current.get(f.code) != r.new[f.code])}
        if not names:
            continue
        rt = ctx.db.table(table_name(ref.code))
        found: dict[str, list[str]] = defaultdict(list)
        q = select(rt.c.id, rt.c[ref.display_field]).where(
            ctx.db.one_of(rt.c[ref.display_field], sorted(names)), rt.c.deleted.is_(False),
            scope_filter(ctx.user, ref, rt))
        for rid, name in ctx.conn.execute(q):
            found[str(name)].append(rid)
        for r in rows:
            name = r.new.get(f.code)
            if not r.live or name is None:
                continue
            if r.current is not None and r.current.get(f.code) == name:
                continue  # unchanged: the stored id stays
            ids = found.get(str(name), [])
            if len(ids) == 1:
                r.new[f"{f.code}__id"] = ids[0]
            else:
                r.reject([err(r, "REFERENCE_AMBIGUOUS" if ids else "REFERENCE_NOT_FOUND",
                               f, value=name)])


def check_unique(ctx: Ctx, entity: Entity, rows: list[Row]) -> None:
    """Unique fields: a new or changed value may not be held by another live record."""
    t = ctx.db.table(table_name(entity.code))
    for f in entity.fields:
        if not f.unique:
            continue
        rows_f = [r for r in rows if r.live and r.new.get(f.code) is not None and (
            r.current is None or r.current.get(f.code) != r.new[f.code])]
        values = sorted({r.new[f.code] for r in rows_f})
        taken: dict[Any, set[str]] = defaultdict(set)
        if values:
            q = select(t.c.id, t.c[f.code]).where(ctx.db.one_of(t.c[f.code], values),
                                                  t.c.deleted.is_(False))
            for rid, v in ctx.conn.execute(q):
                taken[v].add(rid)
        for r in rows_f:
            v = r.new[f.code]
            if r.live and taken.get(v, set()) - {r.rc.id}:
                r.reject([err(r, "DUPLICATE_VALUE", f, value=v)])


def check_referenced(ctx: Ctx, entity: Entity, rows: list[Row]) -> None:
    """A record still referenced by live rows cannot be deleted."""
    ids = [r.rc.id for r in rows]
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
                if r.live and counts.get(r.rc.id):
                    r.reject([err(r, "ROW_REFERENCED", count=counts[r.rc.id], child=child.en,
                                   )])
