"""``crm-sheet import``, ``crm-sheet imports`` and ``crm-sheet import-undo``: legacy files into
the CRM, always through a dry run and its report workbook first (``addin.importing.run``).

Registered on ``addin.cli.app``; exit codes and error lines as the other commands.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from addin import commands
from addin.cli import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    _handled,
    _progress,
    _retry,
    app,
    console,
    err_console,
)
from addin.client import BridgeClient
from addin.errors import AddinError
from addin.importing import run
from addin.importing.clusters import key_values, write_clusters
from addin.importing.report import REPORT_SUFFIX, write_report
from addin.importing.review import read_report
from addin.importing.words import CONFIRMED, DECISIONS, counts_words
from schema.dictionary import build_dictionary
from schema.errors import ErrorCode, Lang, as_lang
from schema.wire_import import ConfirmOut

ENV_SERVER = "CRM_SERVER"  # the bridge's URL when --server is not given

Server = Annotated[str | None, typer.Option(help=f"Bridge URL (default: ${ENV_SERVER})")]
Token = Annotated[str | None, typer.Option(help="Bridge token (default: the stored one or "
                                                "$CRM_TOKEN)")]
LangOpt = Annotated[str, typer.Option("--lang", help="Report and message language: zh or en")]


def connect(server: str | None, token: str | None) -> BridgeClient:
    """A client for ``server`` (or ``$CRM_SERVER``) with the given or stored token."""
    return commands.connect_to(server or os.environ.get(ENV_SERVER), token=token,
                               on_retry=_retry)


def _lang(lang: str) -> Lang:
    if lang not in ("zh", "en"):
        raise typer.BadParameter("--lang must be zh or en")
    return as_lang(lang)


def counts_line(counts: dict[str, int], lang: Lang) -> str:
    """The dry run's decisions in words, in order."""
    return counts_words(counts, DECISIONS, lang)


def _confirmed(out: ConfirmOut, lang: Lang) -> int:
    c = out.counts
    head = (f"已导入（导入编号 {out.import_.id}）：" if lang == "zh"
            else f"Imported (import {out.import_.id}): ")
    console.print(head + counts_words(c, CONFIRMED, lang))
    for e in out.errors[:20]:
        err_console.print(f"  - {e.code}: {e.message_zh if lang == 'zh' else e.message_en}")
    return EXIT_PROBLEMS if c.get("rejected", 0) or c.get("conflict", 0) or out.errors \
        else EXIT_OK


def _confirm_report(report: Path, ids: list[str], server: str | None, token: str | None,
                    lang: Lang) -> int:
    if len(ids) != 1:
        err_console.print("用法 / usage: crm-sheet import --confirm REPORT.xlsx IMPORT-ID")
        return EXIT_USAGE
    reviewed = read_report(report)
    if reviewed.import_id != ids[0]:
        raise AddinError(ErrorCode.IMPORT_REPORT_OTHER_IMPORT, path=str(report),
                         report_id=reviewed.import_id, import_id=ids[0])
    with connect(server or reviewed.server_url, token) as client, _progress() as show:
        out = run.confirm(client, reviewed.import_id, reviewed.choices, show)
    return _confirmed(out, lang)


def _dry_run_and_maybe_confirm(opts: run.ImportOptions, report: Path | None,
                               clusters_csv: Path | None, key_column: str | None,
                               write: bool, server: str | None, token: str | None,
                               lang: Lang) -> int:
    if clusters_csv is not None and not key_column:
        raise AddinError(ErrorCode.IMPORT_KEY_COLUMN_NEEDED)
    with connect(server, token) as client:
        with _progress() as show:
            prepared = run.prepare(opts, client, progress=show)
            keys = key_values(prepared.tables, key_column) if key_column else []
            result = run.stage(opts, prepared, client, progress=show)
        zh = lang == "zh"
        console.print(("试运行（导入编号 " if zh else "Dry run (import ") + result.import_.id
                      + ("）：" if zh else "): ") + counts_line(result.counts, lang))
        if clusters_csv is not None:
            write_clusters(clusters_csv, keys, result.decisions)
        out = report or opts.files[0].with_name(opts.files[0].stem + REPORT_SUFFIX)
        write_report(out, result.report_data(client.server_url, lang), build_dictionary())
        console.print(("报告：" if zh else "Report: ") + str(out))
        if not write:
            console.print("未写入任何数据；确认请运行：" if zh else "Nothing written; to confirm "
                          "run:", f"crm-sheet import --confirm {out} {result.import_.id}")
            return EXIT_OK
        reviewed = read_report(out)
        with _progress() as show:
            confirmed = run.confirm(client, result.import_.id, reviewed.choices, show)
    return _confirmed(confirmed, lang)


@app.command("import")
def import_files(
    files: Annotated[list[str] | None, typer.Argument(
        help="Files to import (.xlsx .xlsm .xls .ods .csv .txt); with --confirm: the import "
             "id")] = None,
    entity: Annotated[str, typer.Option(help="What the rows are")] = "customer",
    maps: Annotated[list[str] | None, typer.Option(
        "--map", help="COLUMN=FIELD (repeatable; contact.email for the related contact's "
                      "field; COLUMN= to ignore a column)")] = None,
    mapping: Annotated[str | None, typer.Option(help="Use the mapping saved under NAME")] = None,
    save_mapping: Annotated[str | None, typer.Option(help="Save the mapping used as NAME")]
    = None,
    report: Annotated[Path | None, typer.Option(help="Where to write the report workbook "
                                                     "(default: beside the first file)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only the dry run and its report "
                                                            "(the default without --yes)")]
    = False,
    clusters_csv: Annotated[Path | None, typer.Option(help="Write key,cluster per source row")]
    = None,
    key_column: Annotated[str | None, typer.Option(help="The column whose value is the key "
                                                        "in --clusters-csv")] = None,
    history: Annotated[bool, typer.Option("--history", help="Rows carry created-at, stage "
                                                            "history, close dates (admins)")]
    = False,
    verified_on: Annotated[str | None, typer.Option(
        help="The day the files' values were last verified (e.g. the export date), for rows "
             "without a verified-date column: the newest verified value wins")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm after the dry run (with the "
                                                    "report's default choices)")] = False,
    confirm: Annotated[Path | None, typer.Option(help="Confirm the import of this (edited) "
                                                      "report: --confirm REPORT.xlsx ID")]
    = None,
    server: Server = None, token: Token = None, lang: LangOpt = "zh",
) -> None:
    """Import legacy files: dry run and report first; nothing is written without --yes or
    --confirm."""
    language = _lang(lang)
    with _handled(None, language):
        if confirm is not None:
            raise typer.Exit(_confirm_report(confirm, files or [], server, token, language))
        if not files:
            err_console.print("用法 / usage: crm-sheet import FILE... [options]")
            raise typer.Exit(EXIT_USAGE)
        opts = run.ImportOptions([Path(f) for f in files], entity, list(maps or []), mapping,
                                 save_mapping, history, language, verified_on)
        code = _dry_run_and_maybe_confirm(opts, report, clusters_csv, key_column,
                                          yes and not dry_run, server, token, language)
    raise typer.Exit(code)


@app.command("imports")
def list_imports(server: Server = None, token: Token = None, lang: LangOpt = "zh") -> None:
    """List your imports (an admin sees everyone's)."""
    language = _lang(lang)
    with _handled(None, language), connect(server, token) as client:
        items = client.imports()
    for imp in items:
        done = {k.removeprefix("confirm_"): v for k, v in imp.counts.items()
                if k.startswith("confirm_")}
        written = f"\t{counts_words(done, CONFIRMED, language)}" if done else ""
        console.print(f"{imp.id}\t{imp.state}\t{imp.entity}\t{imp.rows}\t{imp.created_by}\t"
                      f"{imp.created_at}\t{imp.file_name}\t{counts_line(imp.counts, language)}"
                      + written, markup=False)
    if not items:
        console.print("没有导入记录" if language == "zh" else "No imports")


@app.command("import-undo")
def undo_import(import_id: Annotated[str, typer.Argument(help="The import to undo")],
                server: Server = None, token: Token = None, lang: LangOpt = "zh") -> None:
    """Undo a confirmed import as a whole (admins)."""
    language = _lang(lang)
    with _handled(None, language), connect(server, token) as client:
        imp = client.import_undo(import_id)
    console.print(f"已撤销导入 {imp.id}（{imp.state}）" if language == "zh"
                  else f"Import {imp.id} undone ({imp.state})")
