"""The dry run's own progress, seen from the client: the bridge records each phase of a
running dry run in its own short transaction, ``GET /imports/{id}`` shows it, and
``addin.importing.run.watched_dry_run`` polls it while the POST runs (both backends).

The bridge is held inside the look-up phase until the client has seen it, so the test does
not depend on how fast the dry run is."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from addin.client import BridgeClient
from addin.importing.run import watched_dry_run
from bridge.imports import store
from schema.wire_import import DRY_RUN_PHASES, ImportCreate, ImportRow
from tests.conftest import LiveBridge


def test_the_client_sees_the_dry_run_phases(live_bridge_any: LiveBridge,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    lb = live_bridge_any
    seen_lookup = threading.Event()
    recorded: list[str] = []
    real = store.set_progress

    def held(db: Any, import_id: str, phase: str, done: int = 0, total: int = 0) -> None:
        real(db, import_id, phase, done, total)
        recorded.append(phase)
        if phase == "lookup":  # wait (bounded) until the client has shown this phase
            seen_lookup.wait(30)

    monkeypatch.setattr(store, "set_progress", held)
    shown: list[tuple[str, float | None]] = []

    def progress(text: str, fraction: float | None) -> None:
        shown.append((text, fraction))
        if "looking up existing records" in text:
            seen_lookup.set()

    with BridgeClient(lb.url, lb.admin_token) as client:
        imp = client.import_create(ImportCreate(entity="customer"))
        client.import_rows(imp.id, [
            ImportRow(source_row=i, values={"customer": {"name": name}})
            for i, name in enumerate(["恒通科技有限公司", "星辰贸易有限公司", "宏达物流有限公司"],
                                     start=1)])
        out = watched_dry_run(client, imp.id, progress, poll=0.05)
        assert out.counts == {"new": 3}
        after = client.import_get(imp.id)
    assert seen_lookup.is_set()
    assert recorded == ["validate", "match", "lookup", "decide", "save"]
    assert recorded == list(DRY_RUN_PHASES)
    texts = [t for t, _ in shown]
    assert any("查找已有记录 / looking up existing records" in t for t in texts), texts
    fractions = [f for _, f in shown if f is not None]
    assert fractions == sorted(fractions) and all(0.6 <= f <= 0.8 for f in fractions)
    # once decided, the progress is gone and the counts are the decisions'
    assert after.progress is None and after.state == "checked"
    assert after.counts == {"new": 3}
