"""Ribbon entry points: ``CRMRibbon.bas`` runs ``on_ribbon('crm_<x>')`` through xlwings.

Each handler wraps the workbook the ribbon works on (:meth:`XlwingsPort.caller`: the calling
workbook, or the active one when the ribbon is the ``.xlam`` add-in) in
:class:`~addin.port_xlwings.XlwingsPort`, runs the shared command and shows the outcome in
a message box; typed errors become a message, anything else a message naming the log file
(``crm-ribbon.log`` in the temp folder), never a Python traceback. Prompts come from
:mod:`addin.dialogs` (a token or password is never shown as typed); Excel's own InputBox and
Open dialog are used only on Windows, and only when tkinter is missing. ``ui`` and the port
factory can be swapped (tests, other hosts).
"""

from __future__ import annotations

import logging
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from addin import commands
from addin.client import BridgeClient, RetryInfo, normalize_server
from addin.dialogs import DialogsUnavailable, TkDialogs
from addin.importing import run
from addin.importing.report import REPORT_SUFFIX, write_report
from addin.importing.review import read_report
from addin.importing.words import CONFIRMED, DECISIONS, counts_words
from addin.port import AddinError, WorkbookPort
from addin.ribbon.buttons import BUTTONS_BY_ID
from schema.dictionary import build_dictionary
from schema.errors import ErrorCode, Lang, as_lang

LOG_FILE = Path(tempfile.gettempdir()) / "crm-ribbon.log"
TOKEN_PREFIX = "crm_"  # bridge tokens: crm_ + 43 URL-safe characters
log = logging.getLogger("addin.xl_entry")


class Ui(Protocol):
    def alert(self, text: str, error: bool = False) -> None: ...

    def ask(self, prompt: str, default: str = "", secret: bool = False) -> str | None: ...


class Dialogs(Protocol):
    def ask(self, prompt: str, default: str = "", secret: bool = False) -> str | None: ...

    def pick_file(self, prompt: str, patterns: tuple[str, ...]) -> str | None: ...


class ExcelUi:
    """Message boxes of the running Excel; prompts from ``dialogs`` (tkinter windows)."""

    def __init__(self, port: Any, dialogs: Dialogs | None = None) -> None:
        self.app = port.book.app
        self.dialogs = dialogs or TkDialogs()

    def alert(self, text: str, error: bool = False) -> None:
        self.app.alert(text[:1000], title="CRM", mode="critical" if error else "info")

    def ask(self, prompt: str, default: str = "", secret: bool = False) -> str | None:
        try:
            return self.dialogs.ask(prompt, default, secret)
        except DialogsUnavailable:
            if secret or sys.platform != "win32":
                raise
        answer = self.app.api.InputBox(prompt, "CRM", default)  # Windows Excel only
        return None if answer is False or answer is None else str(answer)

    def pick_file(self, prompt: str) -> str | None:
        """A file dialog; without tkinter, Excel's own Open dialog on Windows."""
        try:
            return self.dialogs.pick_file(prompt, IMPORT_PATTERNS)
        except DialogsUnavailable:
            if sys.platform != "win32":
                raise
        answer = self.app.api.GetOpenFilename(IMPORT_FILTER, 1, prompt)
        return None if answer is False or answer is None else str(answer)

    def open_book(self, path: Path) -> None:
        """Show a written workbook (the import report) in this Excel."""
        self.app.books.open(str(path))


def _excel_port() -> WorkbookPort:
    from addin.port_xlwings import XlwingsPort

    return XlwingsPort.caller()


IMPORT_PATTERNS = ("*.xlsx", "*.xlsm", "*.xls", "*.ods", "*.csv", "*.txt")
IMPORT_FILTER = (f"Spreadsheets and text ({';'.join(IMPORT_PATTERNS)}),"
                 f"{';'.join(IMPORT_PATTERNS)}")
PORT_FACTORY: Callable[[], WorkbookPort] = _excel_port
UI_FACTORY: Callable[[WorkbookPort], Ui] = ExcelUi


def _lang(port: WorkbookPort) -> Lang:
    try:
        lang = port.read_meta().get("lang")
    except AddinError:
        return "zh"
    return as_lang(lang)


def _run(action: Callable[[WorkbookPort, Ui, Lang], commands.CommandResult | None],
         port: WorkbookPort | None = None) -> commands.CommandResult | None:
    port = port or PORT_FACTORY()
    ui = UI_FACTORY(port)
    lang = _lang(port)
    try:
        result = action(port, ui, lang)
    except AddinError as exc:
        ui.alert(f"{exc.message(lang)}\n\n[{exc.code}]", error=True)
        return None
    except Exception as exc:  # a bug: a message and the log, never a traceback in Excel
        log.exception("ribbon command failed")
        ui.alert(("出现意外错误" if lang == "zh" else "Unexpected error")
                 + f": {type(exc).__name__}: {exc}\n\n{LOG_FILE}", error=True)
        return None
    finally:
        done = getattr(port, "done", None)
        if callable(done):
            done()
    if result is not None:
        ui.alert("\n".join(result.lines()[:25]), error=not result.ok)
    return result


def _retry_to(port: WorkbookPort, lang: Lang) -> Callable[[RetryInfo], None]:
    return lambda info: port.progress(info.message(lang))


def _exchange(server: str, user: str, password: str) -> str:
    """A token for ``user``'s password (``POST /api/v1/auth/token``; the sign-in then checks
    it and keeps it in the credential store like a pasted one)."""
    with BridgeClient(server, "") as client:
        return client.exchange_password(user, password)


def _sign_in(port: WorkbookPort, ui: Ui, lang: Lang) -> commands.CommandResult | None:
    """Server, user name (left empty: sign in with a token), then a hidden prompt for the
    password or the pasted token."""
    zh = lang == "zh"
    meta = port.read_meta()
    server = ui.ask("服务器地址：" if zh else "Server address:",
                    meta.get("server_url") or "https://")
    if not server:
        return None
    user = ui.ask("用户名（用访问令牌登录请留空）：" if zh
                  else "User name (leave it empty to sign in with an access token):",
                  meta.get("user") or "")
    if user is None:
        return None
    user = user.strip()
    secret = ui.ask(("密码（输入不显示）：" if zh else "Password (hidden as you type):") if user
                    else ("访问令牌（向管理员索取，输入不显示）：" if zh
                          else "Access token (from your admin; hidden as you type):"),
                    secret=True)
    if not secret or not secret.strip():
        return None
    token = _exchange(normalize_server(server), user, secret) if user else secret.strip()
    return commands.sign_in(port, server, token, on_retry=_retry_to(port, lang))


def _pull(port: WorkbookPort, ui: Ui, lang: Lang) -> commands.CommandResult:
    with commands.connect(port, on_retry=_retry_to(port, lang)) as client:
        return commands.pull(port, client)


def _push(port: WorkbookPort, ui: Ui, lang: Lang) -> commands.CommandResult:
    with commands.connect(port, on_retry=_retry_to(port, lang)) as client:
        return commands.push(port, client)


def _validate(port: WorkbookPort, ui: Ui, lang: Lang) -> commands.CommandResult:
    return commands.validate(port)


def _refresh(port: WorkbookPort, ui: Ui, lang: Lang) -> commands.CommandResult:
    with commands.connect(port, on_retry=_retry_to(port, lang)) as client:
        return commands.refresh_reports(port, client)


def _upgrade(port: WorkbookPort, ui: Ui, lang: Lang) -> commands.CommandResult:
    """Write the newest template beside the workbook, open it and move the data in."""
    from addin.port_xlwings import XlwingsPort

    if not isinstance(port, XlwingsPort):
        raise AddinError(ErrorCode.TEMPLATE_NOT_FOUND,
                         detail="upgrade needs the workbook open in Excel")
    source = Path(port.book.fullname)
    data = commands.template_bytes(lang)
    macros = source.suffix.lower() != ".xlsx"  # a plain .xlsx (the add-in's ribbon) stays one
    target = source.with_name(f"{source.stem}-upgraded{'.xlsm' if macros else '.xlsx'}")
    if macros:
        target.write_bytes(data)
    else:
        from addin.port_openpyxl import OpenpyxlPort

        OpenpyxlPort.from_bytes(data, target).save()
    new = XlwingsPort(port.book.app.books.open(str(target)))
    result = commands.upgrade(port, new)
    new.book.activate()
    return result


def _pick(ui: Ui, prompt: str) -> str | None:
    pick = getattr(ui, "pick_file", None)
    answer = pick(prompt) if callable(pick) else ui.ask(prompt)
    return None if answer is None else str(answer)


def _import(port: WorkbookPort, ui: Ui, lang: Lang) -> commands.CommandResult | None:
    """Pick a file: a source file gets its dry run and a report written beside it (and
    opened); a report picked again (the second click) confirms its import."""
    zh = lang == "zh"
    progress = port.progress
    result = commands.CommandResult("import", lang)
    with commands.connect(port, on_retry=_retry_to(port, lang)) as client:  # signed in?
        answer = _pick(ui, "选择要导入的文件（或要确认的导入报告）：" if zh
                       else "Choose the file to import (or the import report to confirm):")
        if not answer:
            return None
        path = Path(answer.strip().strip('"'))
        if path.name.endswith(REPORT_SUFFIX):
            reviewed = read_report(path)
            out = run.confirm(client, reviewed.import_id, reviewed.choices, progress)
            result.counts = dict(out.counts)
            result.say("已导入：" + counts_words(out.counts, CONFIRMED, "zh"),
                       "Imported: " + counts_words(out.counts, CONFIRMED, "en"))
            result.ok = not (out.counts.get("rejected") or out.counts.get("conflict"))
            return result
        dry = run.dry_run(run.ImportOptions([path], lang=lang), client, progress=progress)
        report = path.with_name(path.stem + REPORT_SUFFIX)
        write_report(report, dry.report_data(client.server_url, lang), build_dictionary())
    result.counts = dict(dry.counts)
    result.say("试运行完成（尚未写入）：" + counts_words(dry.counts, DECISIONS, "zh")
               + f"。报告：{report}。检查“待确认”表后保存，再点“导入”选择该报告即可确认。",
               "Dry run done (nothing written): " + counts_words(dry.counts, DECISIONS, "en")
               + f". Report: {report}. Check its Review sheet, save, then click Import "
                 "again and choose the report to confirm.")
    opener = getattr(ui, "open_book", None)
    if callable(opener):
        opener(report)
    return result


def _help(port: WorkbookPort, ui: Ui, lang: Lang) -> commands.CommandResult:
    return commands.show_help(port)


def _handler(action: Callable[[WorkbookPort, Ui, Lang], commands.CommandResult | None]
             ) -> Callable[..., commands.CommandResult | None]:
    def run(port: WorkbookPort | None = None) -> commands.CommandResult | None:
        return _run(action, port)

    run.__doc__ = action.__doc__
    return run


HANDLERS: dict[str, Callable[..., commands.CommandResult | None]] = {
    "sign_in": _handler(_sign_in),
    "pull": _handler(_pull),
    "push": _handler(_push),
    "validate": _handler(_validate),
    "refresh_reports": _handler(_refresh),
    "upgrade": _handler(_upgrade),
    "show_help": _handler(_help),
    "import_file": _handler(_import),
}


def _log_to_file() -> None:
    """From Excel (no console), log lines go to :data:`LOG_FILE`."""
    if not log.handlers:
        handler = logging.FileHandler(LOG_FILE, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logging.getLogger("addin").addHandler(handler)
        logging.getLogger("addin").setLevel(logging.INFO)


def on_ribbon(control_id: str, port: WorkbookPort | None = None
              ) -> commands.CommandResult | None:
    """Run the handler of ribbon control ``control_id`` (``crm_pull`` -> ``pull``)."""
    if port is None:  # run by RunPython from Excel
        _log_to_file()
    button = BUTTONS_BY_ID.get(control_id)
    name = button.handler if button is not None else control_id.removeprefix("crm_")
    handler = HANDLERS.get(name)
    if handler is None:
        raise KeyError(f"no handler for ribbon control {control_id!r}")
    return handler(port)
