"""Push: validate, merge field by field, apply in bulk, audit, and remember the answer.

One push is one serialised transaction. It reads top to bottom in the order it runs:

1. :func:`push_json` checks the request, replays a stored answer for a known idempotency
   key, and otherwise runs the push and stores its answer under the key;
2. :func:`_run` groups the rows by entity in dictionary order (inserts and updates parents
   first, so a new customer and its contacts can travel together; deletes children first);
3. for each group, :func:`_decide` gives every row its fate with one function per op
   (:func:`_decide_insert`, :func:`_decide_update`, :func:`_decide_delete`), then
   :func:`_check` runs the checks that need the data (``checks``), and ``write`` applies
   what is left in bulk; :func:`_show_server_copies` adds the stored row to the answer
   where it differs from what was sent.

Each row ends applied, merged, conflict or rejected (recorded by ``Row``'s methods only);
nothing is ever silently overwritten. An all-or-nothing push with a refused row is rolled
back to a savepoint, and its answer is stored under the key like any other.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, get_args

import orjson
from sqlalchemy import Connection, delete, insert, select

from bridge import audit, gcpause
from bridge.auth import User, now
from bridge.db import Database
from bridge.errors import ApiError
from bridge.permissions import in_scope
from bridge.sync import checks, links
from bridge.sync.batch import Ctx, Result, Row, err, scope_default
from bridge.sync.history import check_history
from bridge.sync.rows import fetch_by_ids, fetch_existing
from bridge.sync.tail import lock_audit_tail
from bridge.sync.write import write
from schema.dictionary import Dictionary
from schema.errors import ErrorCode
from schema.permissions import row_scope, visible_fields, writable_fields
from schema.types import SCOPE_FIELDS, Entity, Scope
from schema.values import is_blank
from schema.versions import parse_version
from schema.wire import ErrorItem, FieldConflict, PushRequest, PushResponse, RowOp, RowStatus

# -- the entry points ----------------------------------------------------------------------


def push(db: Database, dictionary: Dictionary, user: User, req: PushRequest,
         max_rows: int, keep_days: int = 7) -> PushResponse:
    """:func:`push_json`, as a model (for callers inside the bridge: undo, rules, demo)."""
    return PushResponse.model_validate_json(push_json(db, dictionary, user, req, max_rows,
                                                      keep_days))


def push_json(db: Database, dictionary: Dictionary, user: User, req: PushRequest,
              max_rows: int, keep_days: int = 7, digest: str | None = None) -> bytes:
    """Apply one push and return its ``PushResponse`` as JSON; replaying its idempotency
    key within ``keep_days`` returns the stored answer. ``digest`` fingerprints the body
    as received (default: the :func:`fingerprint` of the request's JSON)."""
    check_template(dictionary, req.template_version)
    if len(req.rows) > max_rows:
        raise ApiError(ErrorCode.BATCH_TOO_LARGE, max=max_rows, count=len(req.rows))
    digest = digest or fingerprint(req.model_dump_json().encode())
    with gcpause.paused(), db.write() as conn:
        stored = _stored_answer(db, conn, user, req.idempotency_key, digest)
        if stored is not None:
            return stored
        body = _apply(db, dictionary, conn, user, req)
        _remember(db, conn, user, req.idempotency_key, digest, body, keep_days)
        return body


def check_template(dictionary: Dictionary, template: str) -> None:
    """Refuse pushes from a template the server cannot safely accept."""
    try:
        t_major, t_minor, _ = parse_version(template)
        s_major, s_minor, _ = parse_version(dictionary.version)
    except ValueError:
        raise ApiError(ErrorCode.TEMPLATE_VERSION_INVALID, template=template) from None
    if t_major < s_major:
        raise ApiError(ErrorCode.TEMPLATE_OUTDATED, template=template, server=dictionary.version)
    if (t_major, t_minor) > (s_major, s_minor):
        raise ApiError(ErrorCode.TEMPLATE_NEWER, template=template, server=dictionary.version)


def fingerprint(body: bytes) -> str:
    """The one fingerprint of a push body (a retry sends the same bytes): the route hashes
    the body as received, callers inside the bridge the request's JSON."""
    return hashlib.sha256(body).hexdigest()


# -- idempotency: the stored answer --------------------------------------------------------


def _stored_answer(db: Database, conn: Connection, user: User, key: str,
                   digest: str) -> bytes | None:
    """The answer stored under ``key``, marked replayed; ``IDEMPOTENCY_KEY_REUSED`` when
    the key came with another body; None for a new key."""
    idem = db.table("sys_idempotency")
    stored = conn.execute(select(idem.c.body_hash, idem.c.response).where(
        idem.c.username == user.username, idem.c.key == key)).first()
    if stored is None:
        return None
    if stored.body_hash != digest:
        raise ApiError(ErrorCode.IDEMPOTENCY_KEY_REUSED, key=key)
    answer = orjson.loads(stored.response)
    answer["replayed"] = True
    return orjson.dumps(answer)


def _remember(db: Database, conn: Connection, user: User, key: str, digest: str,
              body: bytes, keep_days: int) -> None:
    """Store the answer under the key (and forget answers older than ``keep_days``)."""
    idem = db.table("sys_idempotency")
    conn.execute(insert(idem).values(username=user.username, key=key, body_hash=digest,
                                     response=body.decode(), created_at=now()))
    conn.execute(delete(idem).where(idem.c.created_at < now() - timedelta(days=keep_days)))


# -- one push ------------------------------------------------------------------------------


def _apply(db: Database, dictionary: Dictionary, conn: Connection, user: User,
           req: PushRequest) -> bytes:
    """Run the push inside a savepoint and return its answer; an all-or-nothing push with
    a refused row rolls back to the savepoint (its change number too)."""
    savepoint = conn.begin_nested()
    ctx = Ctx(db, dictionary, conn, user, req.idempotency_key, db.next_seq(conn))
    rows = [Row(i, rc, Result(rc.entity, rc.id, rc.row if rc.row is not None else i))
            for i, rc in enumerate(req.rows)]
    _run(ctx, rows)
    committed = not (req.all_or_none and any(not r.live for r in rows))
    if committed:
        savepoint.commit()
    else:
        for r in rows:
            if r.live:
                r.reject([err(r, ErrorCode.BATCH_ABORTED)])
        savepoint.rollback()
    lock_audit_tail(db, conn)  # pulls append without the counter: queue with them
    head = audit.append(db, conn, [*(ctx.audit if committed else []), *ctx.refusals])
    cursor = ctx.seq if committed else 0
    return _answer(req.idempotency_key, cursor, [r.result for r in rows],
                   **({"audit_head": head.wire()} if head else {}))


def _run(ctx: Ctx, rows: list[Row]) -> None:
    """Decide, check and write every row, entity by entity."""
    by_entity: dict[str, list[Row]] = defaultdict(list)
    for r in _refuse_unknown(ctx, rows):
        by_entity[r.change.entity].append(r)
    # inserts and updates parents first; deletes children first
    passes = [(e, [r for r in by_entity.get(e.code, []) if r.change.op != "delete"])
              for e in ctx.dictionary]
    passes += [(e, [r for r in by_entity.get(e.code, []) if r.change.op == "delete"])
               for e in reversed(list(ctx.dictionary))]
    for entity, group in passes:
        if group:
            _decide(ctx, entity, group)
            _check(ctx, entity, group)
            write(ctx, entity, group)
            _show_server_copies(ctx, entity, group)


def _refuse_unknown(ctx: Ctx, rows: list[Row]) -> list[Row]:
    """Refuse a record sent twice and an unknown entity; the rows left to decide."""
    seen: set[str] = set()
    left = []
    for r in rows:
        if r.change.id in seen:
            r.reject([err(r, ErrorCode.ROW_DUPLICATE_IN_BATCH, row_id=r.change.id)])
        elif r.change.entity not in ctx.dictionary.entities:
            r.reject([err(r, ErrorCode.UNKNOWN_ENTITY, name=r.change.entity)])
        else:
            left.append(r)
        seen.add(r.change.id)
    return left


# -- deciding each row's fate --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Group:
    """What deciding one entity's rows needs, looked up once for the whole group."""

    entity: Entity
    user: User
    writable: set[str]
    known: set[str]
    stored: dict[str, dict[str, Any]]  # id -> the stored record (tombstones too)
    blank: dict[str, Any]  # a new record before its values: None, and the pusher's scope


def _decide(ctx: Ctx, entity: Entity, rows: list[Row]) -> None:
    """Give every row its fate by its op (everything but the checks that need data)."""
    user = ctx.user
    writable = writable_fields(user.role, entity)
    if row_scope(user.role, entity) is Scope.NONE or not writable:
        for r in rows:
            r.reject([err(r, ErrorCode.ROW_OUT_OF_SCOPE)])
        return
    known = set(entity.field_codes())
    for r in rows:
        _check_shape(entity, user, r, writable, known)
    todo = [r for r in rows if r.live]
    blank = {f.code: None for f in entity.fields}
    blank.update({c: scope_default(user, c) for c in SCOPE_FIELDS if c in known})
    # an insert only needs to know whether its id is taken (rarely: then by whom)
    inserted = [r.change.id for r in todo if r.change.op == "insert"]
    taken = fetch_existing(ctx.conn, ctx.db, entity, inserted) if inserted else set()
    wanted = [r.change.id for r in todo if r.change.op != "insert" or r.change.id in taken]
    group = _Group(entity, user, writable, known, blank=blank, stored=fetch_by_ids(
        ctx.conn, ctx.db, ctx.dictionary, entity, wanted))
    for r in todo:
        DECIDE[r.change.op](ctx, group, r)
    check_history(ctx, entity, todo)


def _check_shape(entity: Entity, user: User, r: Row, writable: set[str],
                 known: set[str]) -> None:
    """Row-level checks that need no data: ids, known and writable fields."""
    rc = r.change
    errs: list[ErrorItem] = []
    if rc.op == "insert":
        try:
            uuid.UUID(rc.id)
        except ValueError:
            errs.append(err(r, ErrorCode.ROW_INVALID_ID, value=rc.id))
    elif rc.base_version is None:
        errs.append(err(r, ErrorCode.REQUEST_INVALID, detail="base_version is required for "
                                                      f"{rc.op} of {rc.id}"))
    # set operations first: almost every row names only known, writable fields
    sent = rc.values.keys() | rc.base.keys() if rc.base else rc.values.keys()
    if not sent <= known:
        errs += [err(r, ErrorCode.UNKNOWN_FIELD, code)
                 for code in dict.fromkeys([*rc.values, *rc.base]) if code not in known]
    if not rc.values.keys() <= writable:
        errs += [err(r, ErrorCode.FIELD_READ_ONLY, entity.field(code)) for code in rc.values
                 if code in known and code not in writable and not (
                     rc.op == "insert" and code in SCOPE_FIELDS
                     and rc.values[code] in (None, scope_default(user, code)))]
    if errs:
        r.reject(errs)


def _decide_insert(ctx: Ctx, g: _Group, r: Row) -> None:
    """A new record: its id must be free; blank scope fields mean the pusher's own."""
    rc = r.change
    holder = g.stored.get(rc.id)
    if holder is not None:
        # an id held out of the pusher's sight is refused without saying it exists
        visible = in_scope(g.user, g.entity, holder)
        r.reject([err(r, ErrorCode.ROW_EXISTS, row_id=rc.id) if visible
                  else err(r, ErrorCode.ROW_OUT_OF_SCOPE)])
        return
    r.new = new = {**g.blank, **rc.values, "id": rc.id}
    for k in SCOPE_FIELDS:
        if k in rc.values and is_blank(rc.values[k]):
            new[k] = g.blank[k]
    r.applied()


def _visible_stored(g: _Group, r: Row) -> dict[str, Any] | None:
    """The record an update or delete is about, if the pusher may see it (else refused)."""
    stored = g.stored.get(r.change.id)
    if stored is None or not in_scope(g.user, g.entity, stored):
        r.reject([err(r, ErrorCode.ROW_NOT_FOUND, row_id=r.change.id)])
        return None
    return stored


def _decide_update(ctx: Ctx, g: _Group, r: Row) -> None:
    """A change of a live record: merged field by field with others' changes."""
    stored = _visible_stored(g, r)
    if stored is None:
        return
    if stored["deleted"]:
        r.conflict(stored["version"], errors=[err(r, ErrorCode.ROW_DELETED, row_id=r.change.id)])
        return
    r.stored = stored
    _merge(ctx, g.entity, r)


def _decide_delete(ctx: Ctx, g: _Group, r: Row) -> None:
    """A delete: of the version the pusher saw (deleting a deleted record is done)."""
    stored = _visible_stored(g, r)
    if stored is None:
        return
    if stored["deleted"]:
        r.applied(stored["version"])  # nothing to write
    elif stored["version"] != r.change.base_version:
        r.conflict(stored["version"], server=_visible_copy(g.entity, g.user, stored))
    else:
        r.stored = stored
        r.applied()


DECIDE: dict[RowOp, Callable[[Ctx, _Group, Row], None]] = {
    "insert": _decide_insert, "update": _decide_update, "delete": _decide_delete}


def _merge(ctx: Ctx, entity: Entity, r: Row) -> None:
    """Field-level merge of an update: a field changes when nobody else changed it since
    the pusher's base; a field both sides changed differently is a conflict."""
    rc, stored = r.change, r.stored
    assert stored is not None
    same_version = stored["version"] == rc.base_version
    new, conflicts = dict(stored), []
    for code, mine_raw in rc.values.items():
        f = entity.field(code)
        (mine, parsed), theirs = ctx.canon(mine_raw, f), stored.get(code)
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
        r.conflict(stored["version"], _visible_copy(entity, ctx.user, stored), conflicts)
        return
    r.new = new
    if same_version:
        r.applied()
    else:
        r.merged()


def _visible_copy(entity: Entity, user: User, row: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``row`` the user may see, with its id and version."""
    keep = {f.code for f in visible_fields(user.role, entity)} | {"id", "version"}
    return {k: v for k, v in row.items() if k in keep}


# -- the checks that need the data ---------------------------------------------------------


def _check(ctx: Ctx, entity: Entity, rows: list[Row]) -> None:
    """Run the data checks in order, each on the rows still live after the one before."""
    checks.validate(ctx, entity, [r for r in rows if r.writes_values and r.new])
    for r in rows:  # a write may not leave the row outside the writer's own scope
        if r.writes_values and r.new and not in_scope(ctx.user, entity, r.new):
            r.reject([err(r, ErrorCode.ROW_OUT_OF_SCOPE)])
    for step in WRITE_CHECKS:
        step(ctx, entity, [r for r in rows if r.change.op != "delete"])
    checks.check_referenced(ctx, entity, [r for r in rows if r.live
                                          and r.change.op == "delete" and r.stored is not None])


# the checks of inserts and updates once their values are valid, in the order they run
WRITE_CHECKS: tuple[Callable[[Ctx, Entity, list[Row]], None], ...] = (
    checks.resolve_references, links.fill_from_order, links.check_cycles,
    checks.check_unique, checks.warn_similar, links.refuse_orphans)


# -- the answer ----------------------------------------------------------------------------


def _show_server_copies(ctx: Ctx, entity: Entity, rows: list[Row]) -> None:
    """Put the stored row in the answer of each written insert or update whose stored
    values differ from what was sent (a merge, a canonical form, a filled-in default or
    reference, such as an order's customer), so
    the workbook can show it without a pull; rows stored as sent carry none."""
    visible: list[str] | None = None
    for r in rows:
        if not r.writes_values:
            continue
        if visible is None:
            visible = [f.code for f in visible_fields(ctx.user.role, entity)]
        sent = r.change.values
        if r.result.status == "merged" or any(
                r.new.get(c) != (None if is_blank(sent.get(c)) else sent.get(c))
                for c in (visible if r.change.op == "insert" else [*sent, *r.changed])):
            r.result.server = {"id": r.change.id, "version": r.result.version,
                               **{c: r.new.get(c) for c in visible}}


def _counts(results: list[Result]) -> dict[RowStatus, int]:
    counts: dict[RowStatus, int] = dict.fromkeys(get_args(RowStatus), 0)
    for res in results:
        counts[res.status] += 1
    return counts


ANSWER_KEYS = frozenset(PushResponse.model_fields)


def _answer(key: str, cursor: int, results: list[Result], **more: Any) -> bytes:
    """The ``PushResponse`` JSON, serialised directly (10,000 result models cost more than
    the database work); ``more`` adds fields the model declares (checked against it)."""
    answer = {"idempotency_key": key, "replayed": False, "cursor": cursor,
              "counts": _counts(results), "results": [r.wire() for r in results], **more}
    assert answer.keys() <= ANSWER_KEYS, answer.keys() - ANSWER_KEYS
    return orjson.dumps(answer)
