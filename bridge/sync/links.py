"""Checks of a push on links between records, once references are resolved to ids:

* a row that must hold an order or a customer (``Dictionary.required_one_of``: payments,
  invoices) gets its order's customer when it names only the order, and is refused
  (``REFERENCE_MISMATCH``) when it names a customer that is not the order's;
* a link of an entity to itself (a branch's ``parent``, its head office) may not point at
  the record itself or at one of its own branches, however deep (``PARENT_CYCLE``); a new
  record linked to a new record of the same push that was refused is refused too
  (``REFERENCE_NOT_FOUND``: what it names is not stored).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bridge.sync.batch import Ctx, Row, err
from schema.errors import ErrorCode
from schema.sql import table_name
from schema.types import Entity, FieldType


def _ids_of(ctx: Ctx, entity: Entity, rows: list[Row], code: str) -> dict[str, str | None]:
    """Each row's id in reference ``code``: resolved in this push, else as stored."""
    out: dict[str, str | None] = {}
    stored = [r.change.id for r in rows if code not in r.ref_ids and r.stored is not None]
    if stored:
        t = ctx.db.table(table_name(entity.code))
        out.update({rid: ref for rid, ref in ctx.conn.execute(
            select(t.c.id, t.c[code]).where(ctx.db.one_of(t.c.id, stored)))})
    for r in rows:
        if code in r.ref_ids:
            out[r.change.id] = r.ref_ids[code]
        elif r.new.get(code) is None:
            out[r.change.id] = None
    return out


def fill_from_order(ctx: Ctx, entity: Entity, rows: list[Row]) -> None:
    """The customer of a payment or an invoice: its order's when blank (or, on an update
    that changes the order, when not sent), and when given, the order's own (a mismatch is
    refused, never overwritten)."""
    pair = ctx.dictionary.required_one_of.get(entity.code)
    if pair is None:
        return
    via, code = pair
    todo = [r for r in rows if r.live and r.new.get(via) is not None
            and (r.change.op == "insert" or via in r.change.values or code in r.change.values)]
    if not todo:
        return
    order_ids, cust_ids = _ids_of(ctx, entity, todo, via), _ids_of(ctx, entity, todo, code)
    owner = _owners(ctx, ctx.dictionary.entity(entity.field(via).ref or ""), code,
                    {i for i in order_ids.values() if i is not None})
    for r in todo:
        found = owner.get(order_ids.get(r.change.id) or "")
        if found is None:
            continue
        cust_id, cust_name = found
        # an update that moves a row to another order without naming a customer follows it
        sent = r.change.op == "insert" or code in r.change.values
        given = cust_ids.get(r.change.id) if sent else None
        if given is None:
            r.ref_ids[code], r.new[code] = cust_id, cust_name
        elif given != cust_id:
            r.reject([err(r, ErrorCode.REFERENCE_MISMATCH, entity.field(code),
                          value=r.new.get(code), order=r.new.get(via), expected=cust_name)])


def _owners(ctx: Ctx, order: Entity, code: str,
            ids: set[str]) -> dict[str, tuple[str, Any]]:
    """Order id -> (its customer's id, that customer's display name)."""
    if not ids:
        return {}
    customer = ctx.dictionary.entity(order.field(code).ref or "")
    ot = ctx.db.table(table_name(order.code))
    ct = ctx.db.table(table_name(customer.code))
    q = (select(ot.c.id, ct.c.id, ct.c[customer.display_field])
         .select_from(ot.join(ct, ct.c.id == ot.c[code]))
         .where(ctx.db.one_of(ot.c.id, sorted(ids))))
    return {oid: (cid, name) for oid, cid, name in ctx.conn.execute(q)}


def check_cycles(ctx: Ctx, entity: Entity, rows: list[Row]) -> None:
    """A link of ``entity`` to itself (``parent``) may not lead back to the row: neither to
    itself nor through its head office's head office, and so on (stored links and this
    push's own, together)."""
    for f in entity.fields:
        if f.type is not FieldType.REFERENCE or f.ref != entity.code:
            continue
        todo = [r for r in rows if r.live and r.ref_ids.get(f.code)]
        if not todo:
            continue
        links: dict[str, str | None] = {r.change.id: r.ref_ids[f.code] for r in todo}
        _load_ancestors(ctx, entity, f.code, links)
        for r in todo:
            if _leads_back(r.change.id, links):
                r.reject([err(r, ErrorCode.PARENT_CYCLE, f, row_no=r.result.row,
                              value=r.new.get(f.code))])
                links[r.change.id] = None  # its link is not made


def _load_ancestors(ctx: Ctx, entity: Entity, code: str, links: dict[str, str | None]) -> None:
    """Add to ``links`` the stored link of every record the chains in it reach."""
    t = ctx.db.table(table_name(entity.code))
    frontier = {p for p in links.values() if p is not None and p not in links}
    while frontier:
        found: dict[str, str | None] = {rid: ref for rid, ref in ctx.conn.execute(
            select(t.c.id, t.c[code]).where(ctx.db.one_of(t.c.id, sorted(frontier))))}
        for rid in frontier:
            links[rid] = found.get(rid)
        frontier = {p for p in found.values() if p is not None and p not in links}


def _leads_back(start: str, links: dict[str, str | None]) -> bool:
    """Whether following ``links`` from ``start``'s link comes back to ``start``."""
    seen: set[str] = set()
    cur = links.get(start)
    while cur is not None and cur not in seen:
        if cur == start:
            return True
        seen.add(cur)
        cur = links.get(cur)
    return False


def refuse_orphans(ctx: Ctx, entity: Entity, rows: list[Row]) -> None:
    """Refuse each row whose link within ``entity`` names a new record of this push that was
    refused (in turn, down a chain of branches): it would point at nothing."""
    own = [f for f in entity.fields if f.type is FieldType.REFERENCE and f.ref == entity.code]
    if not own:
        return
    # a new record refused once it had values (an id already taken never got any)
    refused = {r.change.id for r in rows if r.change.op == "insert" and not r.live and r.new}
    while refused:
        newly = set()
        for r in rows:
            for f in own:
                if r.live and r.ref_ids.get(f.code) in refused:
                    r.reject([err(r, ErrorCode.REFERENCE_NOT_FOUND, f, value=r.new.get(f.code))])
                    newly.add(r.change.id)
        refused = newly
