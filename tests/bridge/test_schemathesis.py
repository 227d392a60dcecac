"""schemathesis against ``/openapi.json`` of a live bridge, on SQLite and on PostgreSQL.

Generated requests, valid and invalid, never get a 5xx, and every answer, errors included,
has a documented status, content type, body schema and headers (``fuzzing.CHECKS``). The
run signs in as an admin of its own and leaves out the operations that revoke credentials
(``x-revokes-credentials``); those run in their own test against throwaway users only, and
both tests check afterwards that their tokens still work.

In the suite each backend gets ``CRM_FUZZ_CASES`` cases (default 300); the long run is
``python -m bench.fuzz_api --backend both --cases 10000``.
"""

from __future__ import annotations

import os

import pytest

from tests.bridge.fuzzing import fuzz, fuzz_revoking, server_log
from tests.conftest import LiveBridge

CASES = int(os.environ.get("CRM_FUZZ_CASES", "300"))


@pytest.mark.slow
def test_schemathesis_every_answer_is_documented(live_bridge_any: LiveBridge,
                                                backend: str) -> None:
    lb = live_bridge_any
    with server_log() as log:
        report = fuzz(lb.url, lb.admin_token, CASES, backend, log)
    print("\n" + report.summary())
    assert report.cases >= CASES, report.summary()
    assert len(report.per_operation) >= 18, report.per_operation
    assert report.findings == {}, report.summary()


@pytest.mark.slow  # 5-8 s a backend: a longer end-to-end run
def test_schemathesis_revoking_hits_only_throwaway_users(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    with server_log() as log:
        report = fuzz_revoking(lb.url, lb.admin_token, 40, "revoking", log)
    print("\n" + report.summary())
    assert report.cases >= 20 and report.statuses[200] > 0, report.summary()
    assert report.findings == {}, report.summary()
