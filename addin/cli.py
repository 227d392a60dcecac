"""``crm-sheet``: the ribbon's actions on workbook files, headless (same code path).

Exit codes: 0 ok; 1 validation problems, conflicts or rejections; 2 usage or a bad file;
3 server or sign-in errors.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from addin import commands
from addin.client import BridgeClient, BridgeError, RetryInfo, normalize_server
from addin.credentials import save_token, write_token_file
from addin.port import AddinError, WorkbookError
from addin.port_openpyxl import OpenpyxlPort
from schema.errors import LANGS, ErrorCode, as_lang
from schema.errors import Lang as MessageLang
from schema.layout import DEFAULT_LIST_CAP

app = typer.Typer(name="crm-sheet", help="Excel CRM workbooks from the command line.",
                  no_args_is_help=True, add_completion=False)
console = Console(stderr=False, highlight=False, soft_wrap=True)  # a path is never cut
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_SERVER = 0, 1, 2, 3
_AUTH_CODES = {ErrorCode.NOT_SIGNED_IN, ErrorCode.SERVER_URL_INVALID,
               ErrorCode.CREDENTIAL_STORE_UNAVAILABLE,
               ErrorCode.TOKEN_FILE_UNUSABLE}

Book = Annotated[Path, typer.Argument(help="The workbook (.xlsm/.xlsx)")]
Token = Annotated[str | None, typer.Option(help="Bridge token (default: the stored one or "
                                                "$CRM_TOKEN)")]
Lang = Annotated[str | None, typer.Option(help="Message language: zh or en (default: the "
                                               "workbook's)")]


def exit_code_for(exc: AddinError) -> int:
    if isinstance(exc, BridgeError) or exc.code in _AUTH_CODES:
        return EXIT_SERVER
    return EXIT_USAGE


def _lang_of(path: Path | None, lang: str | None) -> MessageLang:
    if lang in LANGS:
        return as_lang(lang)
    if path is not None and path.is_file():
        try:
            return as_lang(OpenpyxlPort.open(path).read_meta().get("lang"))
        except AddinError:
            return "zh"
    return "zh"


@contextmanager
def _handled(path: Path | None, lang: str | None) -> Iterator[None]:
    """Turn typed errors into a message and an exit code."""
    try:
        yield
    except AddinError as exc:
        err_console.print(f"[red]{exc.code}[/red] {exc.message(_lang_of(path, lang))}")
        for item in getattr(exc, "errors", [])[1:20]:
            text = item.message_zh if _lang_of(path, lang) == "zh" else item.message_en
            err_console.print(f"  - {item.code}: {text}")
        raise typer.Exit(exit_code_for(exc)) from None


@contextmanager
def _progress() -> Iterator[Callable[[str, float | None], None]]:
    with Progress(TextColumn("{task.description}"), BarColumn(), console=err_console,
                  transient=True) as bar:
        task = bar.add_task("", total=1.0)

        def show(text: str, fraction: float | None) -> None:
            bar.update(task, description=text, completed=fraction or 0.0)

        yield show


def _retry(info: RetryInfo) -> None:
    err_console.print(f"[yellow]{info.message('zh')} / {info.message('en')}[/yellow]")


def _report(result: commands.CommandResult) -> None:
    style = {"error": "red", "warning": "yellow", "info": ""}
    for msg, line in zip(result.messages, result.lines(), strict=False):
        colour = style.get(msg.level, "")
        console.print(f"[{colour}]{line}[/{colour}]" if colour else line, markup=bool(colour))
    if not result.ok:
        raise typer.Exit(EXIT_PROBLEMS)


def _open(path: Path, show: Callable[[str, float | None], None]) -> OpenpyxlPort:
    return OpenpyxlPort.open(path, on_progress=show)


@app.command()
def new(path: Book, lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
        server: Annotated[str | None, typer.Option(help="Server URL to note")] = None,
        force: Annotated[bool, typer.Option(help="Overwrite an existing file")] = False) -> None:
    """Create a workbook from the newest template."""
    if lang not in ("zh", "en"):
        raise typer.BadParameter("--lang must be zh or en")
    if path.exists() and not force:
        err_console.print(f"{path} exists; use --force to overwrite")
        raise typer.Exit(EXIT_USAGE)
    with _handled(None, lang):
        port = OpenpyxlPort.from_bytes(commands.template_bytes(as_lang(lang)), path)
        if server:
            port.write_meta({"server_url": normalize_server(server)})
        port.save()
    console.print(f"{path}")


@app.command()
def login(server: Annotated[str, typer.Option(help="Server URL, e.g. https://crm.example.com")],
          book: Annotated[Path | None, typer.Argument(help="Workbook to sign in")] = None,
          token: Annotated[str | None, typer.Option(help="Token (asked when omitted)")] = None,
          user: Annotated[str | None, typer.Option(
              "--user", help="Sign in with this user name and a password (asked, not shown) "
                             "instead of a token")] = None,
          password_stdin: Annotated[bool, typer.Option(
              "--password-stdin", help="With --user: read the password from the first line "
                                       "of standard input")] = False,
          days: Annotated[int | None, typer.Option(
              help="With --user: how long the new token lasts (default and at most: the "
                   "server's setting)")] = None,
          token_file: Annotated[Path | None, typer.Option(
              "--token-file", help="Keep the token in this file, readable only by you, "
                                   "instead of the system credential store (for machines "
                                   "without one); then set CRM_TOKEN_FILE to it")] = None,
          lang: Lang = None) -> None:
    """Check a token, or exchange a user name and password for one, and keep it in the
    system credential store."""
    with _handled(book, lang):
        url = normalize_server(server)
        if user is not None:
            password = sys.stdin.readline().rstrip("\r\n") if password_stdin else \
                typer.prompt(f"Password for {user}", hide_input=True)
            with BridgeClient(url, "", on_retry=_retry) as client:
                token = client.exchange_password(user, password, days)
        token = token or typer.prompt("Token", hide_input=True)
        keep = save_token if token_file is None else \
            (lambda _url, value: write_token_file(token_file, value))
        if book is not None:
            result = commands.sign_in(OpenpyxlPort.open(book), url, token, keep_token=keep,
                                      on_retry=_retry)
        else:
            with BridgeClient(url, token, on_retry=_retry) as client:
                me = client.me()
            keep(url, token)
            result = commands.CommandResult("sign_in", _lang_of(None, lang))
            result.say(f"已登录 {url}：{me.user.username}", f"Signed in to {url} as "
                                                           f"{me.user.username}")
        if lang in LANGS:
            result.lang = as_lang(lang)
        _report(result)


@app.command()
def validate(book: Book, lang: Lang = None) -> None:
    """Check every sheet locally and mark the problems."""
    with _handled(book, lang), _progress() as show:
        result = commands.validate(_open(book, show))
    _report(_with_lang(result, lang))


@app.command()
def push(book: Book, token: Token = None, lang: Lang = None,
         all_or_nothing: Annotated[bool, typer.Option(
             "--all-or-nothing", help="Send nothing unless every row passes (default: the "
                                      "workbook's all_or_nothing setting; otherwise rows with "
                                      "problems stay marked and pending, the others are sent)")
         ] = False) -> None:
    """Validate, then send new, changed and deleted rows."""
    with _handled(book, lang), _progress() as show:
        port = _open(book, show)
        with commands.connect(port, token=token, on_retry=_retry) as client:
            result = commands.push(port, client, all_or_nothing=all_or_nothing or None)
    _report(_with_lang(result, lang))


@app.command()
def pull(book: Book, token: Token = None, lang: Lang = None,
         full: Annotated[bool, typer.Option(help="Fetch everything, not just changes")] = False,
         ) -> None:
    """Fetch what changed on the server, keeping unpushed edits."""
    with _handled(book, lang), _progress() as show:
        port = _open(book, show)
        with commands.connect(port, token=token, on_retry=_retry) as client:
            result = commands.pull(port, client, full=full)
    _report(_with_lang(result, lang))


@app.command()
def refresh(book: Book, token: Token = None, lang: Lang = None,
            as_of: Annotated[str | None, typer.Option(help="As-of date, e.g. 2026-03-31")] = None,
            period_from: Annotated[str | None, typer.Option(help="Period start")] = None,
            period_to: Annotated[str | None, typer.Option(help="Period end")] = None,
            team: Annotated[str | None, typer.Option(help="Only this team")] = None,
            owner: Annotated[str | None, typer.Option(help="Only this owner")] = None,
            region: Annotated[str | None, typer.Option(help="Only this region (code or "
                                                           "label)")] = None,
            product_line: Annotated[str | None, typer.Option(help="Only this product line "
                                                                 "(code or label)")] = None,
            window_days: Annotated[int | None, typer.Option(help="RFM window (days)")] = None,
            score_method: Annotated[str | None, typer.Option(help="RFM scores: rank or "
                                                                 "ntile")] = None,
            list_cap: Annotated[int | None, typer.Option(help="Most rows of the RFM customer "
                                                             "and overdue lists (default: "
                                                             f"{DEFAULT_LIST_CAP}; 1000000: "
                                                             "all)")] = None,
            snapshot: Annotated[bool | None, typer.Option(
                "--snapshot/--no-snapshot", help="Keep the previous report sheets as copies "
                "named with their as-of date (default: the Keep snapshot setting)")] = None,
            ) -> None:
    """Refresh the funnel, RFM and KPI report sheets (filters given here are remembered in
    the workbook for the next refresh; scheduled refreshes can run this on a server)."""
    given = {"as_of": as_of, "period_from": period_from, "period_to": period_to,
             "team": team, "owner": owner, "region": region, "product_line": product_line,
             "window_days": None if window_days is None else str(window_days),
             "score_method": score_method,
             "list_cap": None if list_cap is None else str(list_cap)}
    params: dict[str, str | None] = {k: v for k, v in given.items() if v is not None}
    with _handled(book, lang), _progress() as show:
        port = _open(book, show)
        with commands.connect(port, token=token, on_retry=_retry) as client:
            result = commands.refresh_reports(port, client, params or None, snapshot=snapshot)
    _report(_with_lang(result, lang))


@app.command()
def upgrade(book: Book, lang: Lang = None,
            out: Annotated[Path | None, typer.Option(help="Write here instead of in place "
                                                          "(the original is kept as .bak)")]
            = None) -> None:
    """Move the data into the newest template, keeping unpushed edits."""
    with _handled(book, lang):
        old = OpenpyxlPort.open(book)
        wb_lang = as_lang(old.read_meta().get("lang"))
        target = out or book
        new_port = OpenpyxlPort.from_bytes(commands.template_bytes(wb_lang), target)
        if out is None:
            backup = book.with_name(book.name + ".bak")
            shutil.copy2(book, backup)
        try:
            result = commands.upgrade(old, new_port)
        except BaseException:
            if out is None:
                shutil.copy2(backup, book)
            raise
    _report(_with_lang(result, lang))


@app.command("setup-excel")
def setup_excel(dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what "
                                                      "would be done")] = False,
                addin_dir: Annotated[Path | None, typer.Option(help="Install the ribbon "
                                                               "add-in here (default: the "
                                                               "user's XLSTART)")] = None,
                lang: Annotated[str, typer.Option(help="zh or en")] = "zh") -> None:
    """Prepare this Windows PC for the CRM ribbon: check Python and the packages, write the
    user's xlwings config, install the add-in. Exit 0 ready, 1 a step failed, 2 not Windows."""
    from rich.table import Table

    from addin.setup_excel import Host, run_setup

    steps, code = run_setup(Host.current(), dry_run=dry_run, addin_dir=addin_dir)
    table = Table("步骤 / Step", "结果 / Status", "说明 / Detail", show_lines=True)
    for step in steps:
        table.add_row(step.name, step.status, step.text(as_lang(lang)))
    console.print(table)
    raise typer.Exit(code)


def _with_lang(result: commands.CommandResult, lang: str | None) -> commands.CommandResult:
    if lang in LANGS:
        result.lang = as_lang(lang)
    return result


import addin.cli_import  # noqa: E402,F401  (registers import, imports, import-undo)


def main() -> None:  # pragma: no cover - console entry point
    app()


__all__ = ["WorkbookError", "app", "main"]
