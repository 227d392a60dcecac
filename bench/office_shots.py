"""Screenshots of the Office add-in's task pane in zh-CN and English: a live bridge with
the Office plugin and the demo data (``bridge.demo``), the task pane in Debian's Chromium
with the fake Office.js of ``tests/office/js`` holding the standard workbook, the east
manager signed in; a Pull, a region not in the list typed and Validate, then a Push that meets a
change another user made (a conflict with its choices).

    python -m bench.office_shots                  # into docs/images/office/
    python -m bench.office_shots --out /tmp/shots

Needs ``/usr/bin/chromium`` (``apt-get install chromium``). Prints each file and its size.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

import openpyxl

from addin import commands
from addin.client import BridgeClient
from addin.port_openpyxl import OpenpyxlPort
from bridge.app import create_app
from bridge.db import connect, create_schema
from bridge.demo import seed
from bridge.server import serve_in_thread
from bridge.settings import Settings
from schema.dictionary import build_dictionary
from tests.addin.conftest import keys_of, new_workbook, sheet_of
from tests.office.browser import chromium
from tests.office.pane import Pane

OUT = Path(__file__).resolve().parents[1] / "docs" / "images" / "office"
MANAGER = "zhao.min"


def _theirs(url: str, token: str, tmp: Path, lang: str, row_id: str, col: int) -> None:
    """Another user's edit of the same customer, pushed the crm-sheet way."""
    path = new_workbook(tmp / f"other-{lang}.xlsm", lang)
    with BridgeClient(url, token) as client:
        port = OpenpyxlPort.open(path)
        commands.pull(port, client)
        port.save()
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = sheet_of(wb, "customer")
    id_col = keys_of(ws)["_id"]
    theirs = "总部迁址后的新名称" if lang == "zh" else "Renamed by HQ"
    for r in range(3, ws.max_row + 1):
        if ws.cell(row=r, column=id_col).value == row_id:
            ws.cell(row=r, column=col).value = theirs
    wb.save(path)
    with BridgeClient(url, token) as client:
        commands.push(OpenpyxlPort.open(path), client)


def shoot(browser: Any, url: str, token: str, tmp: Path, lang: str, out: Path) -> list[Path]:
    pane = Pane(browser, url, new_workbook(tmp / f"pane-{lang}.xlsm", lang), token, user=MANAGER)
    files = []
    pane.press("crm_pull")
    files.append(out / f"taskpane-pull-{lang}.png")
    pane.page.screenshot(path=str(files[-1]), full_page=True)
    ws = sheet_of(pane.twin, "customer")
    keys = keys_of(ws)
    sheet = next(s for s in pane.state()["sheets"] if s["name"] == ws.title)
    region = sheet["values"][2][keys["region"] - 1]
    pane.edit(ws.title, 3, keys["region"], "火星" if lang == "zh" else "Mars")
    pane.press("crm_validate")
    files.append(out / f"taskpane-validate-{lang}.png")
    pane.page.screenshot(path=str(files[-1]), full_page=True)
    pane.edit(ws.title, 3, keys["region"], region)
    row = next(s for s in pane.state()["sheets"] if s["name"] == ws.title)["values"][2]
    _theirs(url, token, tmp, lang, row[keys["_id"] - 1], keys["name"])
    pane.edit(ws.title, 3, keys["name"], "我们改的名称" if lang == "zh" else "Our new name")
    pane.press("crm_push")
    files.append(out / f"taskpane-conflict-{lang}.png")
    pane.page.screenshot(path=str(files[-1]), full_page=True)
    pane.page.close()
    return files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="crm-shots-") as name:
        tmp = Path(name)
        os.environ["CRM_OFFICE_SESSIONS"] = str(tmp / "sessions")
        d = build_dictionary()
        settings = Settings(database_url=f"sqlite:///{tmp / 'demo.db'}")
        db = connect(settings, d)
        create_schema(db)
        token = seed(db, d, customers=60).tokens[MANAGER]
        try:
            with serve_in_thread(create_app(settings, d, db)) as url, chromium() as browser:
                for lang in ("zh", "en"):
                    for f in shoot(browser, url, token, tmp, lang, args.out):
                        print(f"{f}  {f.stat().st_size:,} bytes")
        finally:
            db.engine.dispose()


if __name__ == "__main__":
    main()
