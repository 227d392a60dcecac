"""History on a pushed insert (``RowChange.history``): an admin's import of old records.

:func:`check_history` runs once a group's rows are decided: a history from anyone but an
admin, or on anything but an insert, is refused naming the row; otherwise its moments are
parsed (``schema.history``), an opportunity's stage history is built, and a required-when
field the old records cannot give (a lost reason of a deal lost years ago) is filled with
the dictionary's ``history_fallback`` and a warning. ``write`` then stores ``created_at``
as given and the stage history with its own days instead of the push time.
"""

from __future__ import annotations

from bridge.auth import now
from bridge.sync.batch import Ctx, Row, err
from schema.errors import ErrorCode, render
from schema.history import STAGES, HistoryProblem, parse_moments, stage_history
from schema.types import Entity
from schema.values import is_blank
from schema.wire import RowHistory, WarningItem

HISTORY = "history"  # the request field a history problem names (``history.created_at``)


def check_history(ctx: Ctx, entity: Entity, rows: list[Row]) -> None:
    """Refuse, or read and apply, the history of each live row that carries one."""
    for r in rows:
        h = r.change.history
        if h is None or not r.live:
            continue
        if not ctx.user.is_admin:
            r.reject([err(r, ErrorCode.HISTORY_ADMIN_ONLY, HISTORY, row_no=r.result.row)])
        elif r.change.op != "insert":
            r.reject([err(r, ErrorCode.HISTORY_INSERT_ONLY, HISTORY, row_no=r.result.row)])
        else:
            try:
                _apply(ctx, entity, r, h)
            except HistoryProblem as p:
                params = dict(p.params)
                where = f"{HISTORY}.{params.pop('field')}" if "field" in params else HISTORY
                r.reject([err(r, p.code, where, row_no=r.result.row, **params)])


def _apply(ctx: Ctx, entity: Entity, r: Row, h: RowHistory) -> None:
    """Parse ``h`` into the row: its creation time and, for a deal, its stage history."""
    staged = entity.has_field("stage")
    if not staged and (h.stages or h.closed_at):
        raise HistoryProblem(ErrorCode.HISTORY_NOT_APPLICABLE, kind=entity.en,
                             field=STAGES if h.stages else "closed_at")
    codes = _stage_codes(entity) if staged else []
    m = parse_moments(h.created_at, h.closed_at, h.stages, codes, now())
    r.created_at = m.created_at or (m.stages[0][1] if m.stages else None)
    if staged:
        stage, parsed = ctx.canon(r.new.get("stage"), entity.field("stage"))
        if parsed and stage is not None:  # else validation names the stage
            r.stage_history = stage_history(stage, m, codes[0], r.created_at or now())
    _fill_fallbacks(ctx, entity, r)


def _stage_codes(entity: Entity) -> list[str]:
    enum = entity.field("stage").enum
    assert enum is not None
    return list(enum.codes())


def _fill_fallbacks(ctx: Ctx, entity: Entity, r: Row) -> None:
    """A field required when another holds a value, blank in the old records: stored as the
    dictionary's fallback (``unknown``) with a ``HISTORY_FILLED`` warning."""
    for (ent, code), fallback in ctx.dictionary.history_fallback.items():
        rule = ctx.dictionary.required_when.get((ent, code))
        if ent != entity.code or rule is None or not is_blank(r.new.get(code)):
            continue
        other, when = rule
        if ctx.canon(r.new.get(other), entity.field(other))[0] != when:
            continue
        f = entity.field(code)
        r.new[code] = fallback
        label = f.enum.value(fallback) if f.enum is not None else None
        zh, en = render(ErrorCode.HISTORY_FILLED,
                        {"field": f.zh, "value": label.zh if label else fallback},
                        {"field": f.en, "value": label.en if label else fallback},
                        row_no=r.result.row)
        r.warn(WarningItem(code=ErrorCode.HISTORY_FILLED, message_zh=zh, message_en=en,
                           entity=entity.code, row=r.result.row, id=r.change.id,
                           field=f.code, params={"value": fallback}))
