"""Push and pull."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request, Response

from bridge.routes.deps import DB, CurrentUser, Dict
from bridge.sync.pull import pull as do_pull
from bridge.sync.push import push as do_push
from schema.wire import ErrorResponse, PullResponse, PushRequest, PushResponse

router = APIRouter(tags=["sync"])
ERRORS = {s: {"model": ErrorResponse} for s in (400, 401, 403, 404, 409, 413, 422)}


@router.post("/push", response_model=PushResponse, responses=ERRORS)  # type: ignore[arg-type]
def push(req: PushRequest, request: Request, user: CurrentUser, db: DB,
         dictionary: Dict) -> Response:
    """Apply a batch of row changes; each row comes back applied, merged, conflict or
    rejected. Replaying the idempotency key returns the stored answer."""
    settings = request.app.state.settings
    resp = do_push(db, dictionary, user, req, settings.max_batch_rows, settings.idempotency_days)
    # already a validated model: serialise once, skip FastAPI's second validation
    return Response(resp.model_dump_json(), media_type="application/json")


@router.get("/pull", response_model=PullResponse, responses=ERRORS)  # type: ignore[arg-type]
def pull(user: CurrentUser, db: DB, dictionary: Dict,
         since: Annotated[int | None, Query(ge=0, le=2**62)] = None,
         entities: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    """Rows the caller may see, columnar; with ``since``, only changes after that cursor."""
    wanted = [e for e in entities.split(",") if e] if entities else None
    body = do_pull(db, dictionary, user, since, wanted)
    return Response(orjson.dumps(body), media_type="application/json")
