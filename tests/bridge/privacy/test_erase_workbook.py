"""A workbook that pulled a contact loses it on its next ``crm-sheet pull`` after the
contact is erased: the row, its hidden base copy, every cell of the file."""

from __future__ import annotations

import html
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from addin.cli import app as sheet
from tests.addin.conftest import memory_keyring, rows  # noqa: F401
from tests.bridge.helpers import body, insert
from tests.conftest import LiveBridge

runner = CliRunner()
NAME, WECHAT = "欧阳思琪", "oysq_erase_test"


def _file_text(path: Path) -> str:
    """Every part of the .xlsm, as text (hidden sheets included; XML character references
    resolved: the writer spells non-ASCII text as ``&#27431;``)."""
    with zipfile.ZipFile(path) as z:
        return "\n".join(html.unescape(z.read(n).decode("utf-8", "replace"))
                         for n in z.namelist())


@pytest.mark.usefixtures("memory_keyring")
def test_an_erased_contact_leaves_the_workbook_on_the_next_pull(bridge: LiveBridge,
                                                                tmp_path: Path) -> None:
    lb = bridge
    cust = insert("customer", name="工作簿擦除公司", region="east")
    gone = insert("contact", customer="工作簿擦除公司", name=NAME, wechat=WECHAT)
    stays = insert("contact", customer="工作簿擦除公司", name="司马留")
    with lb.client() as admin:
        assert admin.post("/push", json=body(cust, gone, stays)).json()["counts"]["applied"] == 3
    path = tmp_path / "book.xlsm"
    assert runner.invoke(sheet, ["new", str(path)]).exit_code == 0
    res = runner.invoke(sheet, ["login", "--server", lb.url, "--token", lb.admin_token,
                                str(path)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(sheet, ["pull", str(path)])
    assert res.exit_code == 0, res.output
    assert sorted(r["name"] for r in rows(path, "contact")) == sorted([NAME, "司马留"])
    assert NAME in _file_text(path) and WECHAT in _file_text(path)

    with lb.client() as admin:
        done = admin.post("/admin/erase", json={"subject": f"contact:{gone['id']}"})
        assert done.status_code == 200, done.text
    res = runner.invoke(sheet, ["pull", str(path), "--lang", "en"])
    assert res.exit_code == 0 and "1 removed" in res.output, res.output
    assert [r["name"] for r in rows(path, "contact")] == ["司马留"]
    text = _file_text(path)
    assert NAME not in text and WECHAT not in text and "司马留" in text
