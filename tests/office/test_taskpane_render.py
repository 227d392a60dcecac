"""The task pane drawn in Chromium from the committed pages, every request of the page
answered by the test (``page.route``: the files of ``addin/office/static`` and a recorded
service exchange), so what is checked is the page alone: the workbook's language, the
buttons, sign-in through the dialog, a result's messages (a click selects the cell) and
conflicts (a choice is written into the Conflicts sheet), an expired token."""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from addin.ribbon.buttons import GROUPS
from tests.office.browser import chromium, fake_state, meta_seed, new_page

STATIC = Path(__file__).resolve().parents[2] / "addin" / "office" / "static"
ORIGIN = "https://crm.test"
CONFLICTS = "冲突"


def config(lang: str) -> dict[str, Any]:
    zh = lang == "zh"
    groups = [{"id": g.id, "label": g.label_zh if zh else g.label_en, "buttons": [
        {"id": b.id, "handler": b.handler, "label": b.label_zh if zh else b.label_en,
         "tip": b.screentip_zh if zh else b.screentip_en} for b in g.buttons]} for g in GROUPS]
    return {"version": "test", "lang": lang, "groups": groups,
            "buttons": [b for g in groups for b in g["buttons"]]}


RESULT = {
    "command": "push", "ok": False, "lang": "zh", "counts": {"applied": 3, "rejected": 1},
    "lines": ["推送 4 行：3 行已应用，1 行被拒绝"],
    "messages": [{"level": "error", "code": "VALUE_INVALID", "sheet": "客户", "row": 3,
                  "field": "phone", "text": "电话号码无效"}],
    "conflicts": [{"sheet": "客户", "row": 4, "field": "name", "label": "客户名称",
                   "mine": "Acme", "theirs": "ACME Ltd", "choice": {"sheet": CONFLICTS,
                   "row": 3, "col": 7}, "choices": [{"value": "mine", "label": "保留我的"},
                                                      {"value": "theirs", "label": "用服务器的"}]}],
}


class Service:
    """The answers of /office/api for one page, and what the page sent."""

    def __init__(self, token: str = "crm_good") -> None:
        self.token = token
        self.calls: list[tuple[str, str, Any]] = []

    def handle(self, route: Any) -> None:
        req = route.request
        path = req.url.removeprefix(ORIGIN)
        body = json.loads(req.post_data) if req.post_data else None
        self.calls.append((req.method, path, body))
        if path.startswith("/office/api/"):
            return self.api(route, req, path.removeprefix("/office/api"), body)
        name = path.removeprefix("/office/").removeprefix("static/").split("?")[0]
        file = STATIC / name
        if not file.is_file():
            return route.fulfill(status=404, body="")
        kind = mimetypes.guess_type(file.name)[0] or "text/plain"
        return route.fulfill(status=200, body=file.read_bytes(), content_type=kind)

    def api(self, route: Any, req: Any, path: str, body: Any) -> None:
        if path.startswith("/config"):
            return self.json(route, 200, config("zh" if "lang=zh" in path else "en"))
        if path == "/sign-in":
            if body.get("token") == self.token:
                user = {"username": "zhang.wei"}
                return self.json(route, 200, {"token": self.token, "user": user})
            return self.json(route, 401, {"error": {"code": "AUTH_INVALID",
                             "message_zh": "令牌无效", "message_en": "The token is invalid"}})
        if req.headers.get("authorization") != f"Bearer {self.token}":
            return self.json(route, 401, {"error": {"code": "AUTH_EXPIRED",
                             "message_zh": "令牌已过期", "message_en": "The token expired"}})
        if path == "/sessions":
            opened = {"session": "s1", "upload": ["客户"], "max_bytes": 4_000_000}
            return self.json(route, 201, opened)
        if path.endswith("/run"):
            return self.json(route, 200, {"result": RESULT, "pages": 1, "files": []})
        if "/actions/" in path:
            return self.json(route, 200, {"page": 0, "pages": 1, "actions": [
                {"op": "set_fill", "sheet": "客户", "cells": [[3, 3]], "color": "FFC7CE"}]})
        return route.fulfill(status=204, body="")

    @staticmethod
    def json(route: Any, status: int, body: Any) -> None:
        route.fulfill(status=status, body=json.dumps(body, ensure_ascii=False),
                      content_type="application/json")


def seed(lang: str) -> dict[str, Any]:
    customers = [["crm_id", "name", "phone"], ["编号", "客户名称", "电话"], ["C1", "甲公司", "123"],
                 ["C2", "Acme", "138"]]
    conflicts = [[""] * 7, [""] * 7, [""] * 7]
    return meta_seed(lang, ("客户", customers), (CONFLICTS, conflicts))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def open_pane(browser: Any, lang: str, service: Service, **kw: Any) -> Any:
    page = new_page(browser, seed(lang), **kw)
    page.route(f"{ORIGIN}/**", service.handle)
    page.goto(f"{ORIGIN}/office/taskpane.html")
    page.wait_for_selector("#btn-crm_pull")
    return page


@pytest.mark.parametrize(("lang", "pull", "nobody", "group"), [
    ("zh", "拉取", "尚未登录", "同步"), ("en", "Pull", "Not signed in", "Sync")])
def test_the_pane_speaks_the_workbooks_language(browser: Any, lang: str, pull: str,
                                                 nobody: str, group: str) -> None:
    service = Service()
    page = open_pane(browser, lang, service, language="en-US" if lang == "zh" else "zh-CN")
    assert page.inner_text("#btn-crm_pull") == pull
    assert page.inner_text("#who") == nobody
    assert group in page.inner_text("#buttons")
    labels = page.eval_on_selector_all("#buttons button", "bs => bs.map(b => b.dataset.id)")
    assert labels == [b.id for g in GROUPS for b in g.buttons]
    assert page.evaluate("document.documentElement.lang") == ("zh-CN" if lang == "zh" else "en")
    assert ("GET", f"/office/api/config?lang={lang}", None) in service.calls
    assert page.errors == []


def sign_in(page: Any, token: str) -> None:
    frame = page.wait_for_selector("#fake-dialog").content_frame()
    frame.wait_for_selector("#token")
    assert frame.get_attribute("#token", "type") == "password"  # never shown as typed
    frame.fill("#token", token)
    frame.click("#submit")


def test_a_push_result_messages_select_cells_and_conflicts_write_the_choice(browser: Any) -> None:
    service = Service()
    page = open_pane(browser, "zh", service)
    page.click("#btn-crm_push")  # not signed in: the dialog first
    sign_in(page, "crm_good")
    page.wait_for_selector("#result h2")
    assert "已登录：zhang.wei" in page.inner_text("#who")
    assert "推送 4 行" in page.inner_text("#result")
    assert page.inner_text("#result h2.bad")
    # the action page was applied to the workbook
    customers = next(s for s in fake_state(page)["sheets"] if s["name"] == "客户")
    assert customers["fills"] == {"3,3": "FFC7CE"}
    # a message names its field by the sheet's header and selects its cell (the field's
    # column from the row-1 keys)
    assert page.inner_text("table.messages tbody tr td:nth-child(3)") == "电话"
    page.click("table.messages tbody tr")
    page.wait_for_function("() => window.__fake.book.selection !== null")
    assert fake_state(page)["selection"]["address"].endswith("!C3")
    # a conflict's choice is written into the cell the result names
    page.select_option("#choice-0", "theirs")
    page.wait_for_function("() => window.__fake.book.sheet('冲突').get(2, 6) === 'theirs'")
    assert "推送" in page.inner_text("#status")
    uploads = [c for c in service.calls if c[1] == "/office/api/sessions/s1/cells"]
    assert uploads and uploads[0][2]["values"][2] == ["C1", "甲公司", "123"]
    assert page.errors == []


def test_an_expired_token_says_so_and_offers_sign_in(browser: Any) -> None:
    service = Service(token="crm_new")
    page = open_pane(browser, "en", service)
    page.evaluate("""() => OfficeRuntime.storage.setItem("crm.office.signin",
        JSON.stringify({token: "crm_old", user: {username: "li"}}))""")
    page.reload()
    page.wait_for_selector("#btn-crm_pull")
    assert "Signed in as li" in page.inner_text("#who")
    page.click("#btn-crm_pull")
    page.wait_for_selector("#error button")
    assert "Your sign-in expired" in page.inner_text("#error")
    assert "The token expired [AUTH_EXPIRED]" in page.inner_text("#error")
    assert page.inner_text("#who") == "Not signed in"
    page.click("#error button")
    sign_in(page, "crm_new")
    page.wait_for_function("() => document.querySelector('#who').textContent.includes('zhang.wei')")
    stored = page.evaluate("() => OfficeRuntime.storage.getItem('crm.office.signin')")
    assert json.loads(stored)["token"] == "crm_new"
    assert "crm_new" not in json.dumps(fake_state(page), ensure_ascii=False)


def test_a_wrong_token_in_the_dialog_stays_in_the_dialog_with_the_message(browser: Any) -> None:
    page = open_pane(browser, "zh", Service())
    page.click("#btn-crm_sign_in")
    sign_in(page, "wrong")
    frame = page.wait_for_selector("#fake-dialog").content_frame()
    frame.wait_for_selector("#error:not([hidden])")
    assert "令牌无效 [AUTH_INVALID]" in frame.inner_text("#error")


def test_a_ribbon_click_shows_the_pane_and_runs(browser: Any) -> None:
    service = Service()
    page = open_pane(browser, "en", service)
    page.evaluate("""() => OfficeRuntime.storage.setItem("crm.office.signin",
        JSON.stringify({token: "crm_good", user: {username: "zhang.wei"}}))""")
    page.reload()
    page.wait_for_selector("#btn-crm_validate")
    assert page.evaluate("() => Office.__click('crm_validate')") is True
    page.wait_for_selector("#result h2")
    assert page.evaluate("() => Office.__calls.taskpane") == 1
    opened = [c for c in service.calls if c[1] == "/office/api/sessions"]
    assert opened[0][2]["command"] == "validate"
