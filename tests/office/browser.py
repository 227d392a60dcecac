"""The task pane in Debian's Chromium (Playwright, ``executable_path``; no browser is ever
downloaded) with the fake Office.js of ``tests/office/js`` injected instead of Microsoft's
(``page.add_init_script``; the CDN script is answered with an empty body). The fake runs in
every frame, so the sign-in dialog (an iframe here) has its own Office and messageParent.

On Debian: ``apt-get install chromium`` (``scripts/test`` does it)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAKE_DIR = ROOT / "tests" / "office" / "js"
FAKE_FILES = ("fake_model.mjs", "fake_base.mjs", "fake_range.mjs", "fake_sheet.mjs",
              "fake_excel.mjs", "fake_office.mjs")
CHROMIUM = Path("/usr/bin/chromium")
OFFICE_JS = "https://appsforoffice.microsoft.com/**"

BOOT = """
const cfg = __CONFIG__;
const fake = createFake({ notes: cfg.notes });
if (cfg.seed) fake.seed(cfg.seed);
const openDialog = (url, dialog) => {
  const frame = document.createElement("iframe");
  frame.id = "fake-dialog";
  frame.src = url;
  frame.style.cssText = "position:fixed;inset:20px;width:90%;height:80%;background:#fff";
  window.__dialogMessage = (message) => { frame.remove(); dialog.__message(message); };
  document.body.append(frame);
};
const office = createOffice({ sets: cfg.sets, language: cfg.language, openDialog });
const runtime = createRuntimeStorage(window.localStorage);
window.Excel = fake.Excel;
window.Office = office;
window.OfficeRuntime = runtime;
window.__fake = fake;
if (window.top !== window) globalThis.__fakeMessageParent = (m) => window.parent.__dialogMessage(m);
"""


def fake_script(seed: dict[str, Any] | None = None, *, notes: bool = True,
                language: str = "en-US") -> str:
    """One classic script: the fake's ES modules with their imports and exports cut,
    then a boot that installs Excel, Office and OfficeRuntime (seeded with ``seed``)."""
    parts = []
    for name in FAKE_FILES:
        text = (FAKE_DIR / name).read_text(encoding="utf-8")
        text = re.sub(r"^import .*?;\s*$", "", text, flags=re.M)
        text = re.sub(r"^export \{[^}]*\};?\s*$", "", text, flags=re.M)
        parts.append(text)
    config = {"seed": seed, "notes": notes, "language": language,
              "sets": {"ExcelApi": "1.18" if notes else "1.17", "SharedRuntime": "1.1",
                       "DialogApi": "1.2"}}
    boot = BOOT.replace("__CONFIG__", json.dumps(config, ensure_ascii=False))
    return "(() => {\n" + "\n".join(parts) + boot + "\n})();"


@contextmanager
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Any, seed: dict[str, Any] | None, **kw: Any) -> Any:
    """A page with the fake Office injected; console errors collected in ``page.errors``."""
    page = browser.new_page(viewport={"width": 380, "height": 900}, device_scale_factor=1)
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.route(OFFICE_JS, lambda route: route.fulfill(status=200, body="/* fake office.js */",
                                                     content_type="text/javascript"))
    page.add_init_script(fake_script(seed, **kw))
    return page


def fake_state(page: Any) -> dict[str, Any]:
    """The fake workbook as plain JSON (fake.dump())."""
    state: dict[str, Any] = page.evaluate("() => window.__fake.dump()")
    return state


def meta_seed(lang: str, *sheets: tuple[str, list[list[Any]]]) -> dict[str, Any]:
    """A small workbook: a ``_meta`` sheet saying ``lang`` and the given sheets."""
    blocks = [{"sheet": "_meta", "row": 1, "col": 1,
               "values": [["key", "value"], ["lang", lang]]}]
    blocks += [{"sheet": name, "row": 1, "col": 1, "values": values} for name, values in sheets]
    names = [name for name, _ in sheets] + ["_meta"]
    return {"info": {"name": "crm.xlsx", "active": names[0], "sheets": [
        {"name": n, "visibility": "hidden" if n == "_meta" else "visible"} for n in names]},
        "blocks": blocks}
