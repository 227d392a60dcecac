"""The import flow, written once for ``crm-sheet import`` and the ribbon's Import button.

read the files (``read_tables``) → the mapping (suggested per table, a saved one by name,
``COL=FIELD`` overrides; ``save_mapping`` keeps it on the bridge) → refuse when a required
field is unmapped → ``mapped_rows`` numbered 1..N over all files → create the import, send
its rows in batches → dry run → every decision. Nothing is written to the entity tables
until :func:`confirm`. Progress goes through a ``(text, fraction)`` callback (the CLI shows
a rich bar, Excel its status bar), the dry run's own phases included
(:func:`watched_dry_run`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from addin.client import BridgeClient
from addin.errors import AddinError
from addin.importing.files import read_tables
from addin.importing.mapping import (
    apply_overrides,
    mapped_rows,
    require_complete,
    reuse_mapping,
    suggest_mapping,
)
from addin.importing.report import ReportData
from addin.importing.source import IGNORED, Mapping, SourceTable
from schema.dictionary import Dictionary, build_dictionary
from schema.errors import ErrorCode, Lang
from schema.wire_import import (
    DRY_RUN_PHASES,
    ConfirmOut,
    DryRunOut,
    DryRunProgress,
    ImportCreate,
    ImportOut,
    ImportRow,
    RowChoice,
    RowDecision,
)

Progress = Callable[[str, float | None], None]
POLL_SECONDS = 0.5  # how often a running dry run's progress is asked for


def _quiet(text: str, fraction: float | None) -> None:
    """No progress display."""


@dataclass
class ImportOptions:
    """What the user asked for (the CLI's options, the ribbon's dialog)."""

    files: list[Path]
    entity: str = "customer"
    overrides: list[str] = field(default_factory=list)  # COL=FIELD
    mapping_name: str | None = None  # use this saved mapping
    save_mapping: str | None = None  # save the mapping used under this name
    history: bool = False
    lang: Lang = "zh"  # of the messages raised while preparing
    verified_on: str | None = None  # the files' date for rows without a verified date


@dataclass
class Prepared:
    """The files read and mapped, ready to send."""

    tables: list[SourceTable]
    mapping: Mapping
    rows: list[ImportRow]


@dataclass
class DryRun:
    """A staged, checked import: its decisions beside the rows as sent."""

    prepared: Prepared
    import_: ImportOut
    counts: dict[str, int]
    decisions: list[RowDecision]

    def report_data(self, server_url: str, lang: Lang) -> ReportData:
        return ReportData(self.import_.id, server_url, self.import_.entity,
                          [str(p) for p in dict.fromkeys(t.file for t in self.prepared.tables)],
                          self.counts, self.decisions, self.prepared.rows,
                          self.prepared.mapping, lang)


def _read(files: list[Path], progress: Progress) -> list[SourceTable]:
    tables: list[SourceTable] = []
    for i, path in enumerate(files):
        if not path.is_file():
            raise AddinError(ErrorCode.IMPORT_SOURCE_NOT_FOUND, path=str(path))
        progress(f"{path.name}", i / max(len(files), 1))
        tables.extend(read_tables(path))
    if not any(t.rows for t in tables):
        raise AddinError(ErrorCode.IMPORT_NO_ROWS, files=", ".join(str(p) for p in files))
    return tables


def choose_mapping(tables: list[SourceTable], opts: ImportOptions, dictionary: Dictionary,
                   client: BridgeClient | None) -> Mapping:
    """The saved mapping named ``opts.mapping_name`` (its columns first, then suggestions
    for columns it does not know), or the suggested one; then the overrides."""
    saved = (Mapping.from_json(client.mapping_get(opts.mapping_name))
             if opts.mapping_name and client is not None else None)
    columns: dict[str, str] = {}
    for t in tables:
        mine = (reuse_mapping(saved, t.columns, dictionary, history=opts.history) if saved
                else suggest_mapping(t.columns, dictionary, opts.entity, history=opts.history))
        # a target is taken once per table; two files may name one field differently
        used = {columns[c] for c in t.columns if c in columns and columns[c] != IGNORED}
        for col in t.columns:
            target = mine.columns.get(col, IGNORED)
            if col not in columns:
                columns[col] = IGNORED if target in used else target
                used.add(columns[col])
    mapping = Mapping(opts.entity, columns, opts.mapping_name or opts.save_mapping)
    if opts.overrides:
        mapping = apply_overrides(mapping, opts.overrides, dictionary, history=opts.history)
    return mapping


def prepare(opts: ImportOptions, client: BridgeClient | None = None,
            dictionary: Dictionary | None = None, progress: Progress = _quiet) -> Prepared:
    """Read and map the files; refuse (typed) when a required field is unmapped."""
    dictionary = dictionary or build_dictionary()
    if opts.entity not in dictionary.entities:
        raise AddinError(ErrorCode.IMPORT_ENTITY_UNSUPPORTED, name=opts.entity,
                         supported=", ".join(dictionary.entities))
    tables = _read(opts.files, progress)
    mapping = choose_mapping(tables, opts, dictionary, client)
    require_complete(mapping, dictionary, opts.lang)
    rows: list[ImportRow] = []
    for t in tables:
        rows.extend(mapped_rows(t, mapping, len(rows) + 1, opts.verified_on))
    return Prepared(tables, mapping, rows)


def dry_run(opts: ImportOptions, client: BridgeClient, dictionary: Dictionary | None = None,
            progress: Progress = _quiet) -> DryRun:
    """Read and map the files, stage the rows on the bridge, dry-run them, fetch every
    decision."""
    return stage(opts, prepare(opts, client, dictionary, progress), client, progress)


def stage(opts: ImportOptions, prepared: Prepared, client: BridgeClient,
          progress: Progress = _quiet) -> DryRun:
    """Stage prepared rows on the bridge (saving the mapping if asked), dry-run them,
    fetch every decision."""
    if opts.save_mapping:
        client.mapping_put(opts.save_mapping, prepared.mapping.to_json())
    names = ", ".join(p.name for p in opts.files)
    imp = client.import_create(ImportCreate(
        entity=opts.entity, file_name=names[:255], history=opts.history,
        mapping_name=opts.mapping_name or opts.save_mapping))
    total = len(prepared.rows)
    progress("上传 / sending", 0.0)
    client.import_rows(imp.id, prepared.rows,
                       on_batch=lambda sent: progress(f"上传 / sending {sent}/{total}",
                                                      0.6 * sent / max(total, 1)))
    progress("比对 / matching", 0.6)
    out = watched_dry_run(client, imp.id, progress)
    decisions = list(client.import_all_decisions(
        imp.id, on_page=lambda seen: progress(f"结果 / decisions {seen}/{total}",
                                              0.8 + 0.2 * seen / max(total, 1))))
    progress("完成 / done", 1.0)
    return DryRun(prepared, out.import_, out.counts, decisions)


def _phase_text(p: DryRunProgress) -> tuple[str, float]:
    """A running dry run's progress in words (both languages) and as a fraction of it."""
    zh, en = DRY_RUN_PHASES.get(p.phase, (p.phase, p.phase))
    within = p.done / p.total if p.total else 0.0
    count = f" {p.done}/{p.total}" if p.total and p.done else ""
    return (f"比对 / matching: {zh} / {en}{count}",
            min(1.0, (p.step - 1 + within) / len(DRY_RUN_PHASES)))


def watched_dry_run(client: BridgeClient, import_id: str, progress: Progress,
                    poll: float = POLL_SECONDS) -> DryRunOut:
    """Run the dry run, showing its progress meanwhile: the POST runs in a worker thread
    while this thread polls ``GET /imports/{id}`` (its ``progress``: the phase the bridge
    records as it goes) and calls ``progress``, so a display bound to this thread (Excel's
    status bar) is only touched from it."""
    result: list[DryRunOut] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            result.append(client.import_dry_run(import_id))
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=work, name=f"dry-run-{import_id}", daemon=True)
    worker.start()
    while True:
        worker.join(poll)
        if not worker.is_alive():
            break
        try:
            seen = client.import_get(import_id).progress
        except AddinError:  # a poll that fails is no reason to stop the dry run
            continue
        if seen is not None:
            text, within = _phase_text(seen)
            progress(text, 0.6 + 0.2 * within)
    if failure:
        raise failure[0]
    return result[0]


def confirm(client: BridgeClient, import_id: str, choices: list[RowChoice] | None = None,
            progress: Progress = _quiet) -> ConfirmOut:
    """Send the review choices (if any), then confirm: the rows go through the push
    engine as one import an admin can undo."""
    if choices:
        progress("选择 / choices", 0.1)
        client.import_choices(import_id, choices)
    progress("导入 / importing", 0.3)
    result = client.import_confirm(import_id)
    progress("完成 / done", 1.0)
    return result
