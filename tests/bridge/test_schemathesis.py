"""schemathesis against ``/openapi.json`` of a live bridge (SQLite), authenticated as an
admin: generated requests, valid and invalid, never get a 5xx; every error has the
standard shape; 2xx answers match their declared response schema.

The operations are split into four shards (so xdist can spread them). Every operation
that takes input (query, path or body) gets ``ceil(CRM_SCHEMATHESIS_TOTAL / n)`` examples
(``n``: such operations; total default 10,000), half-and-half positive and negative
generation; operations without input run once. So the shards together run at least
``CRM_SCHEMATHESIS_TOTAL`` cases, whatever operations the bridge grows; each shard prints
its count. Marked ``slow`` (about 2 worker-minutes) but part of the default run.
"""

from __future__ import annotations

import math
import os
import uuid
from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.conftest import LiveBridge

TOTAL = int(os.environ.get("CRM_SCHEMATHESIS_TOTAL", "10000"))
SHARDS = 4
ITEM_KEYS = {"code", "message_zh", "message_en", "entity", "row", "id", "field", "allowed"}


def check_error_shape(status: int, data: Any) -> None:
    assert isinstance(data, dict) and "error" in data and set(data) <= {"error", "errors"}, \
        (status, data)
    err = data["error"]
    assert set(err) <= ITEM_KEYS and err["code"] and err["message_zh"] and err["message_en"], \
        (status, data)


def run_operation(lb: LiveBridge, token: str, op: Any, session: requests.Session,
                  examples: int) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    strategy = st.one_of(op.as_strategy(generation_mode=GenerationMode.POSITIVE),
                         op.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    calls = Counter[str]()

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate, Phase.shrink],
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def one(case: Any) -> None:
        resp = case.call(base_url=lb.url, session=session, headers=headers, timeout=30)
        calls["n"] += 1
        calls[str(resp.status_code)] += 1
        assert resp.status_code < 500, (case.method, case.path, resp.status_code, resp.text)
        if resp.status_code >= 400:
            check_error_shape(resp.status_code, resp.json())
        elif resp.status_code < 300:
            case.validate_response(resp, checks=[not_a_server_error,
                                                 response_schema_conformance])

    one()
    return calls["n"]


def takes_input(op: Any) -> bool:
    return bool(op.body or len(op.query) or len(op.path_parameters) or len(op.headers))


@pytest.mark.slow
@pytest.mark.parametrize("shard", range(SHARDS))
def test_schemathesis_no_server_errors(live_bridge: LiveBridge, shard: int) -> None:
    lb = live_bridge
    # a dedicated admin: generated revocations cannot lock this run out by name
    token = lb.make_user(f"fuzz_{uuid.uuid4().hex[:10]}", "admin")
    schema = schemathesis.openapi.from_url(lb.url + "/openapi.json",
                                           headers={"Authorization": f"Bearer {token}"})
    ops = sorted((r.ok() for r in schema.get_all_operations()), key=lambda o: o.label)
    assert len(ops) >= 11, [o.label for o in ops]
    with_input = [o for o in ops if takes_input(o)]
    per_op = math.ceil(TOTAL / len(with_input))
    mine = ops[shard::SHARDS]
    counts = {}
    with requests.Session() as session:
        for op in mine:
            counts[op.label] = run_operation(lb, token, op, session,
                                             per_op if takes_input(op) else 1)
    print(f"\nshard {shard}: {sum(counts.values())} cases, {per_op} per operation with "
          f"input ({len(with_input)} of {len(ops)} operations): {counts}")
    for op in mine:  # every operation with input ran its full share: the total holds
        assert counts[op.label] >= (per_op if takes_input(op) else 1), counts
    assert per_op * len(with_input) >= TOTAL
