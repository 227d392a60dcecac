"""An invalid value typed into a pulled row's empty cell is reported and held, not taken
for "nothing changed" because its parsed value is empty like the stored one."""

from __future__ import annotations

from pathlib import Path

import pytest

from addin import commands
from addin.port_openpyxl import OpenpyxlPort
from tests.addin.conftest import edit, fill, rows
from tests.addin.test_e2e import push, signed_in
from tests.conftest import LiveBridge


@pytest.mark.parametrize(("field", "typed"), [("phone", "12"), ("industry", "火星")])
def test_an_invalid_value_over_an_empty_stored_value_is_an_error(
        live_bridge: LiveBridge, tmp_path: Path, field: str, typed: str) -> None:
    lb = live_bridge
    book = signed_in(tmp_path, "a", lb, lb.make_user(f"amy.{field}", "sales", "t1", "east"))
    fill(book, "customer", [{"name": "甲公司", "region": "华东"}])
    assert push(book).ok
    edit(book, "customer", ("name", "甲公司"), {field: typed})
    checked = commands.validate(OpenpyxlPort.open(book))
    assert not checked.ok
    assert [(m.level, m.field) for m in checked.messages if m.code] == [("error", field)]
    pushed = push(book)
    assert pushed.counts["updated"] == 0 and pushed.counts["held"] == 1, pushed.lines()
    assert rows(book, "customer")[0][field] == typed  # still there to fix
