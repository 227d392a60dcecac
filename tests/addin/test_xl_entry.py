"""The ribbon's Python side (``addin.xl_entry``) over the strict xlwings stand-in on Linux:
every button runs without touching what xlwings lacks or has only on Windows (``.api``);
the add-in works on the active workbook; secrets are asked hidden; a status bar that
refuses costs a log line; a missing tkinter is a message, not a traceback."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from addin import commands, xl_entry
from addin.credentials import load_token
from addin.dialogs import DialogsUnavailable, TkDialogs
from addin.port import AddinError
from addin.port_xlwings import XlwingsPort
from addin.ribbon.buttons import BUTTONS
from schema.errors import ErrorCode
from tests.addin import xlwings_standin as standin
from tests.addin.conftest import new_workbook
from tests.addin.test_login_password import PASSWORD, with_password
from tests.conftest import LiveBridge


class Person:
    """The person at the keyboard: answers prompts in order, remembers how each was asked."""

    def __init__(self, answers: list[str | None]) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[str, bool]] = []
        self.files: list[str] = []

    def ask(self, prompt: str, default: str = "", secret: bool = False) -> str | None:
        self.asked.append((prompt, secret))
        return self.answers.pop(0) if self.answers else None

    def pick_file(self, prompt: str, patterns: tuple[str, ...]) -> str | None:
        return self.files.pop(0) if self.files else None


@pytest.fixture
def person(monkeypatch: pytest.MonkeyPatch) -> Person:
    someone = Person([])
    monkeypatch.setattr(xl_entry, "UI_FACTORY", lambda port: xl_entry.ExcelUi(port, someone))
    return someone


def _excel(tmp: Path, name: str = "crm.xlsx", lang: str = "en") -> standin.Book:
    """A CRM workbook (a plain .xlsx: the ribbon comes from the add-in) open in "Excel"."""
    return standin.open_book(new_workbook(tmp / name, lang))


def _alerts(book: standin.Book) -> list[tuple[str, str | None]]:
    return book.app._alerts


def test_the_addin_works_on_the_active_workbook(tmp_path: Path) -> None:
    book = _excel(tmp_path)
    addin = standin.Book(book.app, str(tmp_path / "crm_addin.xlam"))
    book.app._active = book
    assert XlwingsPort.caller(addin).book is book
    assert XlwingsPort.caller(book).book is book  # the template's own ribbon: itself
    book.app._active = None
    with pytest.raises(AddinError) as err:
        XlwingsPort.caller(addin)
    assert err.value.code == ErrorCode.NO_ACTIVE_WORKBOOK


def test_every_button_runs_over_the_standin_without_windows_only_calls(
        live_bridge: LiveBridge, tmp_path: Path, person: Person,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Signed in through the hidden prompt, then each button: none ends in an unexpected
    error (an ``.api`` call would: the stand-in has none), the status bar is given back."""
    token = live_bridge.make_user("zhao.lei", "sales", "east-1", "east")
    book = _excel(tmp_path)
    port = XlwingsPort(book)
    monkeypatch.setattr(xl_entry, "PORT_FACTORY", lambda: port)
    person.answers = [live_bridge.url, "", token]  # no user name: a pasted token
    assert xl_entry.on_ribbon("crm_sign_in", port) is not None, _alerts(book)
    assert person.asked[2][1] is True and "token" in person.asked[2][0].lower()
    for button in BUTTONS:
        if button.handler in ("sign_in", "import_file"):
            continue
        xl_entry.on_ribbon(button.id, port)
        assert book.app.status_bar is False
    texts = " ".join(text for text, _mode in _alerts(book))
    assert "Unexpected error" not in texts, texts
    assert "Pulled" in texts or "拉取" in texts
    person.files = []  # Import: the file dialog is cancelled, nothing happens
    assert xl_entry.on_ribbon("crm_import", port) is None
    assert "Unexpected error" not in " ".join(t for t, _ in _alerts(book))


def test_sign_in_with_a_user_name_and_a_hidden_password(
        live_bridge: LiveBridge, tmp_path: Path, person: Person) -> None:
    """A user name, then the password in the hidden prompt: exchanged at the bridge for a
    token that is kept in the credential store, never in the workbook; a wrong password is
    the bridge's message, not a traceback."""
    with_password(live_bridge, "amy")
    book = _excel(tmp_path)
    port = XlwingsPort(book)
    person.answers = [live_bridge.url, "amy", PASSWORD]
    result = xl_entry.on_ribbon("crm_sign_in", port)
    assert result is not None and result.ok, _alerts(book)
    assert person.asked[2] == ("Password (hidden as you type):", True)
    assert port.read_meta()["user"] == "amy"
    assert load_token(live_bridge.url) not in (None, PASSWORD)
    person.answers = [live_bridge.url, "amy", "wrong password"]
    assert xl_entry.on_ribbon("crm_sign_in", port) is None
    assert "SIGNIN_FAILED" in _alerts(book)[-1][0]


def test_windows_only_calls_happen_only_on_windows(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Without tkinter a plain prompt falls back to Excel's InputBox on Windows only: on
    Windows the stand-in (which has no ``.api``) refuses it, elsewhere it is never tried."""
    monkeypatch.setitem(sys.modules, "tkinter", None)
    ui = xl_entry.ExcelUi(XlwingsPort(_excel(tmp_path)))
    with pytest.raises(DialogsUnavailable):
        ui.ask("Server address:")
    with pytest.raises(DialogsUnavailable):
        ui.pick_file("Choose")
    monkeypatch.setattr(sys, "platform", "win32")
    with pytest.raises(AttributeError, match="api"):
        ui.ask("Server address:")
    with pytest.raises(DialogsUnavailable):  # a secret never goes to the InputBox
        ui.ask("Token:", secret=True)


def test_without_tkinter_sign_in_says_what_to_do(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tkinter", None)
    book = _excel(tmp_path, lang="zh")
    port = XlwingsPort(book)
    assert xl_entry.on_ribbon("crm_sign_in", port) is None
    (text, mode), = _alerts(book)
    assert mode == "critical" and "SECRET_PROMPT_UNAVAILABLE" in text
    assert "crm-sheet login" in text and "tkinter" in text


def test_tk_dialogs_refuse_without_tkinter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tkinter", None)
    with pytest.raises(DialogsUnavailable) as err:
        TkDialogs().ask("Token:", secret=True)
    assert err.value.code == ErrorCode.SECRET_PROMPT_UNAVAILABLE
    assert "crm-sheet login" in err.value.message("en")


class BusyApp(standin.App):
    """Excel while a cell is being edited: setting the status bar fails."""

    @property
    def status_bar(self) -> object:
        return False

    @status_bar.setter
    def status_bar(self, value: object) -> None:
        raise RuntimeError("Call was rejected by callee.")


def test_a_status_bar_that_refuses_costs_a_log_line(tmp_path: Path, person: Person,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    plain = _excel(tmp_path)
    book = standin.Book(BusyApp(), plain.fullname)
    book._sheets, book._names = plain._sheets, plain._names
    with caplog.at_level(logging.INFO, logger="addin.port_xlwings"):
        result = xl_entry.on_ribbon("crm_validate", XlwingsPort(book))
    assert result is not None and result.ok
    assert any("status bar not set" in r.getMessage() for r in caplog.records)


def test_an_unexpected_error_is_a_message_naming_the_log(tmp_path: Path, person: Person,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    book = _excel(tmp_path)

    def broken(port: object) -> commands.CommandResult:
        raise KeyError("boom")

    monkeypatch.setattr(commands, "validate", broken)
    assert xl_entry.on_ribbon("crm_validate", XlwingsPort(book)) is None
    (text, mode), = _alerts(book)
    assert mode == "critical" and "KeyError" in text and str(xl_entry.LOG_FILE) in text
