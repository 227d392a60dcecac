"""``crm-sheet import`` with an in-file uncertain pair (two source rows that may be one
company): the report's Review sheet shows it with the row it may be, the user's choice is
read back and confirm honours it; a bad USCC shows as a warning in the preview."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from sqlalchemy import text

from tests.addin.importing.test_cli_import import invoke, table, xlsx
from tests.bridge.helpers import VALID_USCC
from tests.conftest import LiveBridge

BAD_USCC = VALID_USCC[3][:-1] + ("M" if VALID_USCC[3][-1] != "M" else "N")


def _names(lb: LiveBridge) -> list[str]:
    with lb.db.read() as conn:
        return sorted(str(r[0]) for r in conn.execute(text(
            "SELECT name FROM crm_customer WHERE deleted = false")))


def test_in_file_uncertain_pair_reviewed_and_merged(live_bridge_any: LiveBridge,
                                                    tmp_path: Path) -> None:
    lb = live_bridge_any
    src = xlsx(tmp_path / "old.xlsx", ["公司名称", "统一社会信用代码"], [
        ["华为技术有限公司", None], ["华伟技术有限公司", None], ["星辰贸易有限公司", BAD_USCC]])
    res = invoke(lb, "import", str(src), "--lang", "en")
    assert res.exit_code == 0, res.output
    report = src.with_name("old.import-report.xlsx")
    preview = table(report, "Preview")
    assert preview[1]["Decision"] == "To review" and preview[1]["Maybe the same as row"] == 1
    assert BAD_USCC in str(preview[2]["Warnings"]) and preview[2]["Decision"] == "New"
    review = table(report, "Review")
    assert [(r["Source row"], r["Maybe the same as row"], r["Choice (merge/new/skip)"])
            for r in review] == [(2, 1, None)]
    book = openpyxl.load_workbook(report)
    import_id = str(book["Summary"]["C3"].value)
    ws = book["Review"]
    col = [c.value for c in ws[1]].index("Choice (merge/new/skip)") + 1
    ws.cell(row=2, column=col, value="合并")  # either language reads back
    book.save(report)
    res = invoke(lb, "import", "--confirm", str(report), import_id, "--lang", "en")
    assert res.exit_code == 0, res.output
    assert _names(lb) == ["华为技术有限公司", "星辰贸易有限公司"]
