"""Permission probes in the suite: a few thousand random (user, role, team, region, record,
field, route, verb) against a live bridge on SQLite and PostgreSQL, zero violations
(``python -m bench.probe_permissions --probes 50000`` runs the full count)."""

from __future__ import annotations

import os

import pytest

from tests.conftest import LiveBridge
from tests.security.probes import VIOLATIONS, run_probes

PROBES = int(os.environ.get("CRM_PROBES", "1500"))


@pytest.mark.slow  # ~20-40 s a backend
def test_random_probes_find_no_violation(live_bridge_any: LiveBridge) -> None:
    b = live_bridge_any
    tally = run_probes(b.url, b.admin_token, PROBES, seed=PROBES)
    assert tally.probes == PROBES
    assert {k: tally.counts[k] for k in VIOLATIONS} == dict.fromkeys(VIOLATIONS, 0), \
        tally.examples
    # the probes reached what they are about: refused and allowed writes, every kind of route
    assert tally.writes["update refused refused"] and tally.writes["update allowed taken"]
    assert {"GET /pull", "POST /push", "GET /imports/{id}", "GET /me"} <= set(tally.routes)
    assert tally.counts["allowed_refused"] + tally.counts["wrong_refusals"] <= PROBES // 100, \
        tally.examples
