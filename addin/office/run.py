"""A command run over the payload port: the uploaded sheets become a
:class:`~addin.port_payload.PayloadPort`, the command of :mod:`addin.commands` runs over it
with a client for the caller's token, and its recorded actions are paged under 5 MB.

Upgrade writes the newest template with the data moved in (``upgraded.xlsm``), Import
writes the dry run's report workbook, or confirms an uploaded report; either file is kept
in the session and an ``open_workbook`` action names it for the host to open.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from addin import commands
from addin.client import BridgeClient
from addin.errors import AddinError, WorkbookError
from addin.office.results import conflicts, result_json
from addin.payload.actions import MAX_BYTES, action, split_pages
from addin.payload.snapshot import CellBlock, SheetNotes, WorkbookInfo
from addin.port_openpyxl import OpenpyxlPort
from addin.reportbook import SHEET_NAMES
from schema.dictionary import build_dictionary
from schema.errors import ErrorCode, Lang, as_lang
from schema.layout import META_SHEET

REPORT_SHEETS = {name for names in SHEET_NAMES.values() for name in names.values()}
DATED_COPY = re.compile(r"^(?P<sheet>.+) \d{4}-\d{2}-\d{2}$")


def is_report_sheet(name: str) -> bool:
    """A report sheet, or a dated copy of one (``销售漏斗 2026-12-01``): rebuilt from the
    bridge, never read."""
    m = DATED_COPY.match(name)
    return name in REPORT_SHEETS or (m is not None and m["sheet"] in REPORT_SHEETS) or \
        any(name.startswith(f"{r} ") and DATED_COPY.match(name) for r in REPORT_SHEETS)


ENVELOPE = 1024  # {"page", "pages", "actions"} around a page: the response stays under MAX_BYTES
META_ONLY = ("show_help", "import_file")  # read the workbook's language, nothing else
WITH_CONFLICTS = ("pull", "push", "validate")  # the Conflicts sheet is worth reading after


def upload_list(command: str, info: WorkbookInfo) -> list[str]:
    """The sheets a command reads, in workbook order: all but the report sheets (help: the
    meta sheet only, for the workbook's language)."""
    names = [s.name for s in info.sheets]
    if command in META_ONLY:
        return [n for n in names if n == META_SHEET]
    return [n for n in names if not is_report_sheet(n)]




@dataclass
class Run:
    """One command's run: the port over the uploads, the caller's client, what it asked."""

    port: Any  # a PayloadPort
    client: BridgeClient
    options: dict[str, Any]
    lang: Lang
    uploads: dict[str, bytes] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # produced: name -> bytes
    opens: list[dict[str, Any]] = field(default_factory=list)  # open_workbook actions

    def produce(self, name: str, data: bytes, shown: str) -> None:
        self.files[name] = data
        self.opens.append(action("open_workbook", file=name, name=shown))


def _flag(options: dict[str, Any], key: str) -> bool | None:
    value = options.get(key)
    return None if value is None else bool(value)


def _upgrade(run: Run) -> commands.CommandResult:
    """The newest template with this workbook's data moved in, as a file to open."""
    data = commands.template_bytes(run.lang)
    suffix = ".xlsm" if b"vbaProject.bin" in data else ".xlsx"
    with tempfile.TemporaryDirectory(prefix="crm-upgrade-") as tmp:
        target = Path(tmp) / f"upgraded{suffix}"
        result = commands.upgrade(run.port, OpenpyxlPort.from_bytes(data, target))
        title = Path(run.port.model.title or "crm").stem or "crm"
        run.produce(target.name, target.read_bytes(), f"{title}-upgraded{suffix}")
    return result


def _import(run: Run) -> commands.CommandResult:
    """A source file: its dry run and the report workbook to review; a report (the second
    click): its import confirmed. As :func:`addin.xl_entry._import` does."""
    from addin.importing import run as flow
    from addin.importing.report import REPORT_SUFFIX, write_report
    from addin.importing.review import read_report
    from addin.importing.words import CONFIRMED, DECISIONS, counts_words

    if len(run.uploads) != 1:
        raise AddinError(ErrorCode.OFFICE_FILE_PART_INVALID, name="?", field="files",
                         detail=f"Import takes one uploaded file, got {len(run.uploads)}")
    (name, data), = run.uploads.items()
    result = commands.CommandResult("import", run.lang)
    progress = run.port.progress
    with tempfile.TemporaryDirectory(prefix="crm-import-") as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(data)
        if path.name.endswith(REPORT_SUFFIX):
            reviewed = read_report(path)
            out = flow.confirm(run.client, reviewed.import_id, reviewed.choices, progress)
            result.counts = dict(out.counts)
            result.say("已导入：" + counts_words(out.counts, CONFIRMED, "zh"),
                       "Imported: " + counts_words(out.counts, CONFIRMED, "en"))
            result.ok = not (out.counts.get("rejected") or out.counts.get("conflict"))
            return result
        dry = flow.dry_run(flow.ImportOptions([path], lang=run.lang), run.client,
                           progress=progress)
        report = path.with_name(path.stem + REPORT_SUFFIX)
        write_report(report, dry.report_data(run.client.server_url, run.lang),
                     build_dictionary())
        run.produce(report.name, report.read_bytes(), report.name)
    result.counts = dict(dry.counts)
    result.say("试运行完成（尚未写入）：" + counts_words(dry.counts, DECISIONS, "zh")
               + f"。报告“{report.name}”已打开：检查“待确认”表后保存，"
                 "再点“导入”上传该报告即可确认。",
               "Dry run done (nothing written): " + counts_words(dry.counts, DECISIONS, "en")
               + f". The report “{report.name}” is open: check its Review sheet, save it, "
                 "then click Import again and upload the report to confirm.")
    return result


RUNNERS: dict[str, Callable[[Run], commands.CommandResult]] = {
    "pull": lambda r: commands.pull(r.port, r.client, full=bool(r.options.get("full"))),
    "push": lambda r: commands.push(r.port, r.client,
                                    all_or_nothing=_flag(r.options, "all_or_nothing")),
    "validate": lambda r: commands.validate(r.port),
    "refresh_reports": lambda r: commands.refresh_reports(
        r.port, r.client, r.options.get("params") or None,
        snapshot=_flag(r.options, "snapshot")),
    "upgrade": _upgrade,
    "import_file": _import,
    "show_help": lambda r: commands.show_help(r.port),
}


def build_port(session: Any, on_progress: Callable[[str, float | None], None] | None
               ) -> Any:
    """The payload port over what the session received."""
    from addin.port_payload import PayloadPort

    info = WorkbookInfo.model_validate_json((session.path / "info.json").read_bytes())
    blocks = [CellBlock.model_validate_json(b) for b in session.bodies("cells")]
    notes = [SheetNotes.model_validate_json(b) for b in session.bodies("notes")]
    return PayloadPort(info, blocks, notes, on_progress=on_progress)


def run_session(session: Any, client: BridgeClient,
                on_progress: Callable[[str, float | None], None] | None = None
                ) -> dict[str, Any]:
    """Run the session's command; keep its pages of actions and its files; the answer."""
    meta = session.meta
    port = build_port(session, on_progress)
    try:
        lang = as_lang(port.read_meta().get("lang"), as_lang(meta.get("lang")))
    except AddinError:
        lang = as_lang(meta.get("lang"))
    run = Run(port, client, dict(meta.get("options") or {}), lang,
              uploads=session.uploaded_files())
    result = RUNNERS[str(meta["command"])](run)
    found: list[dict[str, Any]] = []
    if meta["command"] in WITH_CONFLICTS:
        try:
            found = conflicts(port, build_dictionary(), result.lang)
        except WorkbookError:  # a workbook without a Conflicts sheet
            found = []
    pages = split_pages([*port.actions, *run.opens], MAX_BYTES - ENVELOPE)
    return session.save_result({"result": result_json(result, found)}, pages,
                               {**port.files, **run.files})
