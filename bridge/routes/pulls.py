"""Admin route: the pull log (``bridge.export``), newest first, with the unusual ones flagged."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from bridge import export
from bridge.routes.deps import DB, STORABLE, AdminUser
from bridge.routes.responses import ADMIN, INPUT, errors

router = APIRouter(tags=["admin"])


@router.get("/admin/pulls", responses=errors(*ADMIN, *INPUT))
def pulls(_: AdminUser, db: DB,
          username: Annotated[str | None, Query(max_length=64), STORABLE] = None,
          flagged: bool | None = None,
          before: Annotated[datetime | None, Query(description="ISO 8601; older pulls only")]
          = None,
          limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
    """Every pull, answered or refused: id, user, role, time, whether full, rows per
    entity, rows counted against the role's caps, the refusal's code, and ``flagged`` when
    far above the user's usual (the rule: docs/limits.md). Page with ``before`` = the last
    entry's ``at``."""
    with db.read() as conn:
        return export.listed(db, conn, username=username, flagged=flagged, before=before,
                             limit=limit)
