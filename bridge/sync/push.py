"""Push: validate, merge field by field, apply in bulk, audit, and remember the answer.

One push is one serialised transaction. Rows are handled entity by entity in dictionary
order (parents first, so a new customer and its contacts can travel together). Each row
ends applied, merged, conflict or rejected; nothing is ever silently overwritten. The
answer is stored under the idempotency key in the same transaction as the changes.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import delete, insert, select

from bridge import audit, gcpause
from bridge.auth import User, now
from bridge.db import Database
from bridge.errors import ApiError
from bridge.permissions import in_scope
from bridge.sync import checks
from bridge.sync.batch import SCOPE_DEFAULTS, Ctx, Result, Row, err, scope_default
from bridge.sync.rows import fetch_by_ids, fetch_existing
from bridge.sync.write import write
from schema.dictionary import Dictionary
from schema.permissions import row_scope, visible_fields, writable_fields
from schema.types import Entity, Scope
from schema.values import is_blank
from schema.versions import parse_version
from schema.wire import ErrorItem, FieldConflict, PushRequest, PushResponse


class _Abort(Exception):
    """Roll back an all-or-nothing push."""


def check_template(dictionary: Dictionary, template: str) -> None:
    """Refuse pushes from a template the server cannot safely accept."""
    try:
        t_major, t_minor, _ = parse_version(template)
        s_major, s_minor, _ = parse_version(dictionary.version)
    except ValueError:
        raise ApiError("TEMPLATE_VERSION_INVALID", template=template) from None
    if t_major < s_major:
        raise ApiError("TEMPLATE_OUTDATED", template=template, server=dictionary.version)
    if (t_major, t_minor) > (s_major, s_minor):
        raise ApiError("TEMPLATE_NEWER", template=template, server=dictionary.version)


def body_hash(req: PushRequest) -> str:
    """Fingerprint of a push body (a retry sends the same body, so the same JSON)."""
    return hashlib.sha256(req.model_dump_json().encode()).hexdigest()


def _check_shape(entity: Entity, user: User, r: Row, writable: set[str] | None = None,
                 known: set[str] | None = None) -> None:
    """Row-level checks that need no data: ids, known and writable fields (``writable`` and
    ``known`` field codes may be passed in, computed once for a whole batch)."""
    rc = r.rc
    writable = writable_fields(user.role, entity) if writable is None else writable
    known = set(entity.field_codes()) if known is None else known
    errs: list[ErrorItem] = []
    if rc.op == "insert":
        try:
            uuid.UUID(rc.id)
        except ValueError:
            errs.append(err(r, "ROW_INVALID_ID", value=rc.id))
    elif rc.base_version is None:
        errs.append(err(r, "REQUEST_INVALID", detail="base_version is required for "
                                                      f"{rc.op} of {rc.id}"))
    # set operations first: almost every row names only known, writable fields
    sent = rc.values.keys() | rc.base.keys() if rc.base else rc.values.keys()
    if not sent <= known:
        errs += [err(r, "UNKNOWN_FIELD", code)
                 for code in dict.fromkeys([*rc.values, *rc.base]) if code not in known]
    if not rc.values.keys() <= writable:
        errs += [err(r, "FIELD_READ_ONLY", entity.field(code)) for code in rc.values
                 if code in known and code not in writable and not (
                     rc.op == "insert" and code in SCOPE_DEFAULTS
                     and rc.values[code] in (None, scope_default(user, code)))]
    if errs:
        r.reject(errs)


def _merge(ctx: Ctx, entity: Entity, r: Row) -> None:
    """Field-level merge of an update: a field changes when nobody else changed it since
    the pusher's base; a field both sides changed differently is a conflict."""
    rc, cur = r.rc, r.current
    assert cur is not None
    same_version = cur["version"] == rc.base_version
    new, conflicts = dict(cur), []
    for code, mine_raw in rc.values.items():
        f = entity.field(code)
        (mine, parsed), theirs = ctx.canon(mine_raw, f), cur.get(code)
        if not parsed:
            r.unparsed.add(code)
        if theirs == mine:
            continue
        # a field's base, when sent, decides; without one the record's version does
        unchanged = (ctx.canon(rc.base[code], f)[0] == theirs) if code in rc.base \
            else same_version
        if unchanged:
            new[code] = mine
        else:
            conflicts.append(FieldConflict(field=code, base=rc.base.get(code), theirs=theirs,
                                           mine=mine_raw))
    if conflicts:
        r.result.status = "conflict"
        r.result.conflicts = conflicts
        r.result.server = _visible_copy(entity, ctx.user, cur)
        r.result.version = cur["version"]
        return
    r.new = new
    r.result.status = "applied" if same_version else "merged"


def _visible_copy(entity: Entity, user: User, row: dict[str, Any]) -> dict[str, Any]:
    keep = {f.code for f in visible_fields(user.role, entity)} | {"id", "version"}
    return {k: v for k, v in row.items() if k in keep}


def _prepare(ctx: Ctx, entity: Entity, rows: list[Row]) -> None:
    """Decide each row's fate (everything but writing)."""
    user = ctx.user
    scope = row_scope(user.role, entity)
    if scope is Scope.NONE or not writable_fields(user.role, entity):
        for r in rows:
            r.reject([err(r, "ROW_OUT_OF_SCOPE")])
        return
    writable, known = writable_fields(user.role, entity), set(entity.field_codes())
    for r in rows:
        _check_shape(entity, user, r, writable, known)
    todo = [r for r in rows if r.result.status != "rejected"]
    # an insert only needs to know the id is free; updates and deletes need the record
    taken = fetch_existing(ctx.conn, ctx.db, entity, [r.rc.id for r in todo
                                                      if r.rc.op == "insert"])
    current = fetch_by_ids(ctx.conn, ctx.db, ctx.dictionary, entity,
                           [r.rc.id for r in todo if r.rc.op != "insert"])
    blank = {f.code: None for f in entity.fields}
    blank.update({c: scope_default(user, c) for c in SCOPE_DEFAULTS if c in known})
    for r in rows:
        if r.result.status == "rejected":
            continue
        rc, cur = r.rc, current.get(r.rc.id)
        r.current = cur
        if rc.op == "insert":
            if rc.id in taken:
                r.reject([err(r, "ROW_EXISTS", row_id=rc.id)])
                continue
            r.new = new = {**blank, **rc.values, "id": rc.id}
            # a blank owner/team/region/shared means the pusher's own, as the hints say
            for k in SCOPE_DEFAULTS:
                if k in rc.values and is_blank(rc.values[k]):
                    new[k] = blank[k]
            r.result.status = "applied"
            continue
        if cur is None or not in_scope(user, entity, cur):
            r.reject([err(r, "ROW_NOT_FOUND", row_id=rc.id)])
            continue
        if cur["deleted"]:
            if rc.op == "delete":
                r.result.status, r.result.version = "applied", cur["version"]
                r.current = None  # nothing to write
                continue
            r.result.status = "conflict"
            r.result.errors = [err(r, "ROW_DELETED", row_id=rc.id)]
            r.result.version = cur["version"]
            continue
        if rc.op == "delete":
            if cur["version"] != rc.base_version:
                r.result.status = "conflict"
                r.result.server = _visible_copy(entity, user, cur)
                r.result.version = cur["version"]
            else:
                r.result.status = "applied"
            continue
        _merge(ctx, entity, r)
    checks.validate(ctx, entity, [r for r in rows if r.live and r.rc.op != "delete" and r.new])
    for r in rows:  # a write may not leave the row outside the writer's own scope
        if r.live and r.rc.op != "delete" and r.new and not in_scope(user, entity, r.new):
            r.reject([err(r, "ROW_OUT_OF_SCOPE")])
    checks.resolve_references(ctx, entity, [r for r in rows if r.live and r.rc.op != "delete"])
    checks.check_unique(ctx, entity, [r for r in rows if r.live and r.rc.op != "delete"])
    checks.check_referenced(ctx, entity, [r for r in rows if r.live and r.rc.op == "delete"
                                          and r.current is not None])


def _counts(results: list[Result]) -> dict[str, int]:
    counts = {"applied": 0, "merged": 0, "conflict": 0, "rejected": 0}
    for res in results:
        counts[res.status] += 1
    return counts


def _answer(key: str, cursor: int, results: list[Result],
            head: audit.Head | None = None) -> bytes:
    """The ``PushResponse`` JSON (serialised directly: 10,000 result models cost more than
    the database work)."""
    return orjson.dumps({"idempotency_key": key, "replayed": False, "cursor": cursor,
                         "counts": _counts(results), "results": [r.wire() for r in results],
                         **({"audit_head": head.wire()} if head else {})})


def push_json(db: Database, dictionary: Dictionary, user: User, req: PushRequest,
              max_rows: int, keep_days: int = 7, digest: str | None = None) -> bytes:
    """Apply one push and return its ``PushResponse`` as JSON; replaying its idempotency
    key within ``keep_days`` returns the stored answer. ``digest`` fingerprints the body
    as received (default: :func:`body_hash`)."""
    check_template(dictionary, req.template_version)
    if len(req.rows) > max_rows:
        raise ApiError("BATCH_TOO_LARGE", max=max_rows, count=len(req.rows))
    digest = digest or body_hash(req)
    idem = db.table("sys_idempotency")
    try:
        with gcpause.paused(), db.write() as conn:
            stored = conn.execute(select(idem.c.body_hash, idem.c.response).where(
                idem.c.username == user.username, idem.c.key == req.idempotency_key)).first()
            if stored is not None:
                if stored.body_hash != digest:
                    raise ApiError("IDEMPOTENCY_KEY_REUSED", key=req.idempotency_key)
                answer = orjson.loads(stored.response)
                answer["replayed"] = True
                return orjson.dumps(answer)
            seq = db.next_seq(conn)
            ctx = Ctx(db, dictionary, conn, user, req.idempotency_key, seq)
            rows = _plan(req)
            _run(ctx, rows)
            results = [r.result for r in rows]
            if req.all_or_none and any(not r.live for r in rows):
                for r in rows:
                    if r.live:
                        r.reject([err(r, "BATCH_ABORTED")])
                raise _Abort
            head = audit.append(db, conn, ctx.audit)
            body = _answer(req.idempotency_key, seq, results, head)
            conn.execute(insert(idem).values(username=user.username, key=req.idempotency_key,
                                             body_hash=digest, response=body.decode(),
                                             created_at=now()))
            conn.execute(delete(idem).where(idem.c.created_at < now() - timedelta(days=keep_days)))
            return body
    except _Abort:
        return _answer(req.idempotency_key, 0, [r.result for r in rows])


def push(db: Database, dictionary: Dictionary, user: User, req: PushRequest,
         max_rows: int, keep_days: int = 7) -> PushResponse:
    """:func:`push_json`, as a model (for callers inside the bridge: undo, rules, demo)."""
    return PushResponse.model_validate_json(push_json(db, dictionary, user, req, max_rows,
                                                      keep_days))


def _run(ctx: Ctx, rows: list[Row]) -> None:
    """Decide and write every row, entity by entity."""
    seen: set[str] = set()
    for r in rows:
        if r.rc.id in seen:
            r.reject([err(r, "ROW_DUPLICATE_IN_BATCH", row_id=r.rc.id)])
        seen.add(r.rc.id)
    by_entity: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        if r.result.status == "rejected":
            continue
        if r.rc.entity not in ctx.dictionary.entities:
            r.reject([err(r, "UNKNOWN_ENTITY", name=r.rc.entity)])
        else:
            by_entity[r.rc.entity].append(r)
    # inserts and updates parents first; deletes children first
    passes = [(e, [r for r in by_entity.get(e.code, []) if r.rc.op != "delete"])
              for e in ctx.dictionary]
    passes += [(e, [r for r in by_entity.get(e.code, []) if r.rc.op == "delete"])
               for e in reversed(list(ctx.dictionary))]
    for entity, group in passes:
        if group:
            _prepare(ctx, entity, group)
            write(ctx, entity, group)


def _plan(req: PushRequest) -> list[Row]:
    return [Row(i, rc, Result(rc.entity, rc.id, rc.row if rc.row is not None else i))
            for i, rc in enumerate(req.rows)]
