"""The add-in's actions, written once against :class:`~addin.port.WorkbookPort`.

The ribbon (``xl_entry``, live Excel) and the ``crm-sheet`` CLI (files) both call these.
Each action reads every table it needs, works everything out on DataFrames, and only then
writes; any exception before the writes leaves the workbook as it was. Each returns a
:class:`CommandResult` with counts and messages in the workbook's language.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from addin.book import (
    Book,
    analyse_all,
    finish,
    hold_conflicts,
    load,
    resolve_conflicts,
    write_base,
    write_conflicts,
    write_reference_lists,
)
from addin.client import BridgeClient, RetryFn, normalize_server
from addin.credentials import load_token, save_token
from addin.port import AddinError, CellMark, CellNote, WorkbookPort
from addin.report_settings import (
    REPORT_PARAMS,
    checked,
    fill_filter_lists,
    read_report_settings,
    report_query,
    wants_snapshot,
    write_report_settings,
)
from addin.restore import restore_layouts
from addin.sheets import (
    Level,
    Problem,
    SheetTable,
    entity_sheets,
    norm_text,
    require_crm,
    special_sheet,
)
from addin.sync import (
    PUSH_COUNTS,
    merge_pull,
    outgoing,
    record,
    send,
)
from schema import clock
from schema.dictionary import Dictionary
from schema.errors import ErrorCode, Lang, as_lang
from schema.layout import (
    BASE_SHEET,
    CONFLICTS_SHEET,
    HEADER_ROW,
    LISTS_SHEET,
    META_SHEET,
    REPORT_SETTINGS_SHEET,
)
from schema.wire import EntityPull, PushResponse

MAX_MESSAGES = 200
HIDDEN_SHEETS = (META_SHEET, LISTS_SHEET, BASE_SHEET)


@dataclass
class CommandResult:
    command: str
    lang: Lang
    counts: dict[str, int] = field(default_factory=dict)
    messages: list[Problem] = field(default_factory=list)
    ok: bool = True

    def say(self, zh: str, en: str, level: Level = "info") -> None:
        self.messages.insert(0, Problem(None, zh, en, level))

    def lines(self) -> list[str]:
        out = []
        for m in self.messages[:MAX_MESSAGES]:
            where = f"[{m.sheet}{'' if m.row is None else f' {m.row}'}] " if m.sheet else ""
            out.append(where + m.message(self.lang))
        if len(self.messages) > MAX_MESSAGES:
            rest = len(self.messages) - MAX_MESSAGES
            out.append(f"……另有 {rest} 条" if self.lang == "zh" else f"... and {rest} more")
        return out

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1


def _result(book: Book, command: str, counts: dict[str, int], ok: bool) -> CommandResult:
    return CommandResult(command, book.lang, counts, [*book.notes, *book.problems()], ok)


def _levels(book: Book) -> tuple[int, int]:
    """How many errors and warnings the book's sheets hold."""
    problems = [p for sheet in book.tables.values() for p in sheet.problems]
    errors = sum(p.level == "error" for p in problems)
    return errors, len(problems) - errors


# the actions ------------------------------------------------------------------------------------
def validate(port: WorkbookPort, dictionary: Dictionary | None = None) -> CommandResult:
    """Check every sheet locally; mark problems, fill Change and Status. No server."""
    port.progress("校验 / Validating", 0.1)
    book = load(port, dictionary)
    analyse_all(book, book.writable())
    hold_conflicts(book)
    errors, warnings = _levels(book)
    counts = _count_ops(book) | {"errors": errors, "warnings": warnings}
    port.progress("写入 / Writing", 0.7)
    finish(book)
    port.save()
    result = _result(book, "validate", counts, not errors)
    result.say(f"校验完成：新增 {counts['new']}，修改 {counts['update']}，删除 {counts['delete']}，"
               f"问题 {errors}，提示 {warnings}",
               f"Validated: {counts['new']} new, {counts['update']} changed, "
               f"{counts['delete']} to delete, {errors} problems, {warnings} notes")
    return result


def _count_ops(book: Book) -> dict[str, int]:
    ops = [p.op for sheet in book.tables.values() for p in sheet.plans.values()]
    return {"new": ops.count("insert"), "update": ops.count("update"),
            "delete": ops.count("delete") + ops.count("drop")}


ALL_OR_NOTHING = "all_or_nothing"  # _meta key: 是/yes sends a push whole or not at all
_YES = {"1", "true", "yes", "y", "on", "是", "全有或全无"}


def all_or_nothing_set(meta: dict[str, str]) -> bool:
    """Whether the workbook asks for all-or-nothing pushes (``_meta`` ``all_or_nothing``)."""
    return norm_text(meta.get(ALL_OR_NOTHING) or "") in _YES


def keep_audit_head(meta: dict[str, str | None], answer: PushResponse) -> None:
    """Remember the newest audit chain head the bridge answered with (``_meta``
    ``audit_head`` = ``SEQ:HASH``, for ``crm-bridge audit verify --head``)."""
    if answer.audit_head is not None:
        meta["audit_head"] = f"{answer.audit_head.seq}:{answer.audit_head.hash}"


def push(port: WorkbookPort, client: BridgeClient, dictionary: Dictionary | None = None,
         *, batch_rows: int = 5000, all_or_nothing: bool | None = None) -> CommandResult:
    """Validate, then send new, changed and deleted rows; write the verdicts back.

    Rows with problems stay marked and pending while the others are sent, unless
    ``all_or_nothing`` (default: the workbook's ``all_or_nothing`` setting): then nothing is
    sent while any row has a problem, and the bridge applies each batch whole or not at all.
    """
    port.progress("读取工作簿 / Reading the workbook", 0.05)
    book = load(port, dictionary)
    me = client.me()
    book.meta["writable_fields"] = json.dumps(me.writable_fields, ensure_ascii=False)
    whole = all_or_nothing_set(book.meta) if all_or_nothing is None else all_or_nothing
    resolved = resolve_conflicts(book)
    analyse_all(book, book.writable())
    waiting = hold_conflicts(book)
    meta_updates: dict[str, str | None] = {"writable_fields": book.meta["writable_fields"]}
    if whole and _levels(book)[0] > waiting:
        return _refused(book, meta_updates, _levels(book)[0] - waiting, resolved)
    out = outgoing(book, me.user.username)
    errors = _levels(book)[0] - waiting
    template = book.meta.get("template_version") or "0"
    answers, failure = send(client, out.rows, template, batch_rows, whole, port.progress)
    results = [r for answer in answers for r in answer.results]
    if answers:
        keep_audit_head(meta_updates, answers[-1])
    counts = record(book, out, results) | {"errors": errors, "resolved": resolved,
                                           "sent": len(results), "held": out.held,
                                           "waiting": waiting}
    port.progress("写入 / Writing", 0.9)
    finish(book)
    meta_updates["last_push"] = clock.stamp()
    port.write_meta(meta_updates)
    port.save()
    ok = failure is None and not any(counts[k] for k in ("conflicts", "rejected", "held",
                                                          "waiting"))
    result = _result(book, "push", counts, ok)
    if failure is not None:
        result.messages.insert(0, Problem.from_error(failure))
    result.say(*_push_summary(counts), "info" if ok else "warning")
    return result


def _refused(book: Book, meta_updates: dict[str, str | None], errors: int,
             resolved: int) -> CommandResult:
    """All or nothing, and some rows have problems: mark them, send nothing."""
    finish(book)
    book.port.write_meta(meta_updates)
    book.port.save()
    counts = dict.fromkeys(PUSH_COUNTS, 0) | {"errors": errors, "resolved": resolved,
                                              "sent": 0, "held": sum(
        p.op is not None for s in book.tables.values() for p in s.plans.values()),
                                              "waiting": 0}
    result = _result(book, "push", counts, False)
    err = AddinError(ErrorCode.VALIDATION_FAILED, count=errors)
    result.say(err.message_zh, err.message_en, "error")
    return result


def _push_summary(c: dict[str, int]) -> tuple[str, str]:
    """What a push did, in both languages: what was sent, what was held back and why."""
    zh = (f"推送完成：发送 {c['sent']} 行（新增 {c['inserted']}，修改 {c['updated']}，合并 "
          f"{c['merged']}，删除 {c['deleted']}，冲突 {c['conflicts']}，被拒绝 {c['rejected']}）")
    en = (f"Pushed: {c['sent']} rows sent ({c['inserted']} new, {c['updated']} changed, "
          f"{c['merged']} merged, {c['deleted']} deleted, {c['conflicts']} conflicts, "
          f"{c['rejected']} rejected)")
    if c["held"]:
        zh += (f"；{c['held']} 行未发送：未通过校验（{c['errors']} 个问题），"
               "请按标红的单元格修改后再推送")
        en += (f"; {c['held']} rows held back: they failed validation ({c['errors']} "
               "problems); fix the cells marked in red and push again")
    if c["waiting"]:
        zh += f"；{c['waiting']} 行有冲突待选择，未发送（见冲突表）"
        en += f"; {c['waiting']} rows not sent: their conflicts wait for a choice (Conflicts sheet)"
    if c["rejected"]:
        zh += f"；被服务器拒绝的 {c['rejected']} 行仍待推送，请按标红的单元格修改"
        en += (f"; the {c['rejected']} rows the server rejected are still pending: fix the "
               "cells marked in red")
    return zh, en


def pull(port: WorkbookPort, client: BridgeClient, dictionary: Dictionary | None = None,
         *, full: bool = False) -> CommandResult:
    """Fetch what changed since the cursor (everything when ``full``), keeping local edits."""
    port.progress("读取工作簿 / Reading the workbook", 0.05)
    book = load(port, dictionary)
    cursor = (book.meta.get("cursor") or "").strip()
    since = int(cursor) if cursor.isdigit() and not full else None
    port.progress("从服务器拉取 / Pulling from the server", 0.2)
    resp = client.pull(since)
    analyse_all(book, None)
    for sheet in book.tables.values():
        sheet.problems = []  # a pull reports what it did (Validate and Push show the rest)
    counts = {"added": 0, "updated": 0, "removed": 0, "kept": 0}
    port.progress("合并 / Merging", 0.6)
    for code, sheet in book.tables.items():
        ep = resp.entities.get(code)
        if ep is None and not resp.full:
            continue
        if ep is None:  # a full pull without this entity: the user sees none of its rows
            ep = EntityPull(columns=["id", "version"], data={"id": [], "version": []})
        got = merge_pull(sheet, ep, resp.full, book.base, book.lang)
        counts = {k: counts[k] + got[k] for k in counts}
    port.progress("写入 / Writing", 0.8)
    finish(book)
    port.write_meta({"cursor": str(resp.cursor),
                     "last_pull": clock.stamp()})
    port.save()
    result = _result(book, "pull", counts, True)
    result.say(f"拉取完成：新增 {counts['added']}，更新 {counts['updated']}，移除 "
               f"{counts['removed']}，保留本地修改 {counts['kept']}",
               f"Pulled: {counts['added']} added, {counts['updated']} updated, "
               f"{counts['removed']} removed, {counts['kept']} kept with local edits")
    return result


def connect(port: WorkbookPort, *, token: str | None = None, on_retry: RetryFn | None = None,
            **options: Any) -> BridgeClient:
    """A client for the workbook's server, signed in with the stored (or given) token."""
    return connect_to(port.read_meta().get("server_url"), token=token, on_retry=on_retry,
                      **options)


def connect_to(server: str | None, *, token: str | None = None,
               on_retry: RetryFn | None = None, **options: Any) -> BridgeClient:
    """A client for ``server``, signed in with the given token or the one stored for it;
    ``NOT_SIGNED_IN`` without a server or a token."""
    url = (server or "").strip()
    if not url:
        raise AddinError(ErrorCode.NOT_SIGNED_IN, server="")
    url = normalize_server(url)
    token = token or load_token(url)
    if not token:
        raise AddinError(ErrorCode.NOT_SIGNED_IN, server=f" {url}")
    return BridgeClient(url, token, on_retry=on_retry, **options)


def sign_in(port: WorkbookPort, server_url: str | None, token: str, *,
            keep_token: Callable[[str, str], None] = save_token, **options: Any
            ) -> CommandResult:
    """Check ``token`` with ``GET /me``, keep it (``keep_token(url, token)``: the credential
    store unless told otherwise), note the server in ``_meta``."""
    require_crm(port.sheet_names())
    meta = port.read_meta()
    url = normalize_server(server_url or meta.get("server_url") or "")
    with BridgeClient(url, token, **options) as client:
        me = client.me()
    keep_token(url, token)
    port.write_meta({"server_url": url, "user": me.user.username, "role": me.user.role,
                     "workbook_id": meta.get("workbook_id") or str(uuid.uuid4()),
                     "dictionary_version": me.dictionary_version,
                     "writable_fields": json.dumps(me.writable_fields, ensure_ascii=False),
                     "visible_fields": json.dumps(me.visible_fields, ensure_ascii=False)})
    port.save()
    result = CommandResult("sign_in", as_lang(meta.get("lang")), {})
    result.say(f"已登录 {url}：{me.user.display_name}（{me.user.username}，角色 {me.user.role}）",
               f"Signed in to {url} as {me.user.display_name} ({me.user.username}, "
               f"role {me.user.role})")
    return result


REPORTS = ("funnel", "rfm", "kpis")
REPORT_AS_OF = "report_as_of"  # _meta: the as-of date of the report sheets now shown


def refresh_reports(port: WorkbookPort, client: BridgeClient,
                    params: dict[str, str | None] | None = None, *,
                    snapshot: bool | None = None) -> CommandResult:
    """Fetch the funnel, RFM and KPI reports for the settings on the report settings sheet
    (``params``, from the CLI, override them and are written back), checked first (a bad
    value names its setting and what is allowed, and nothing is fetched), and rebuild the
    report sheets in place. With ``snapshot`` (default: the sheet's "keep snapshot"
    setting) the sheets shown so far are kept as copies named with their as-of date."""
    meta = port.read_meta()
    lang = as_lang(meta.get("lang"))
    unknown = set(params or {}) - set(REPORT_PARAMS)
    if unknown:
        raise AddinError(ErrorCode.REPORT_PARAM_INVALID, detail=", ".join(sorted(unknown)))
    sheet = special_sheet(meta, port.sheet_names(), REPORT_SETTINGS_SHEET)
    typed = read_report_settings(port, sheet) if sheet else {}
    typed.update({k: v for k, v in (params or {}).items() if v})
    settings = checked(typed)
    if params and sheet:
        write_report_settings(port, sheet, typed, lang)
    applied: dict[str, Any] | None = None
    me = client.me().user
    if me.role == "admin":  # an admin's refresh also writes the tag rules
        port.progress("应用标签规则 / Applying the tag rules", 0.05)
        applied = client.request("POST", "/reports/rules/apply", content=b"{}").json()
    reports: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(REPORTS):
        port.progress(f"获取报表 {name} / Fetching the {name} report", 0.1 + 0.25 * i)
        reports[name] = client.get_json(f"/reports/{name}", report_query(name, settings))
        reports[name]["refreshed_by"] = f"{me.display_name} ({me.username})"
    port.progress("写入报表 / Writing the report sheets", 0.9)
    keep_as = meta.get(REPORT_AS_OF) if wants_snapshot(settings, snapshot) else None
    port.write_reports(reports, lang, keep_as=keep_as or None)
    fill_filter_lists(port, reports)
    book = load(port)  # what another program cut since (LibreOffice: frozen panes, ...)
    restore_layouts(port, book.dictionary, book.lang, book.tables, book.conflicts_sheet)
    port.write_meta({"last_refresh": clock.stamp(),
                     REPORT_AS_OF: str(reports["funnel"].get("as_of") or "")})
    port.save()
    result = CommandResult("refresh", lang, counts={
        f"{name}_tables": len(rep.get("tables", {})) for name, rep in reports.items()})
    result.say("报表已刷新：销售漏斗、RFM、经营指标", "Reports refreshed: funnel, RFM, KPIs")
    if keep_as:
        result.counts["snapshots"] = len(REPORTS)
        result.say(f"上次的报表已保留为 {keep_as} 的副本",
                   f"The previous reports were kept as copies dated {keep_as}")
    if applied is not None:
        n = int(applied.get("customers_changed", 0))
        result.counts["tagged_customers"] = n
        result.say(f"标签规则已应用：{n} 个客户的标签有变化，下次拉取时更新到客户表",
                   f"Tag rules applied: {n} customers changed; the next pull brings them in")
    return result


def upgrade(old: WorkbookPort, new: WorkbookPort,
            dictionary: Dictionary | None = None) -> CommandResult:
    """Copy every data sheet (hidden columns too), ``_base``, conflicts and the sync state
    of ``old`` into ``new`` (a fresh workbook from the newest template), then save ``new``."""
    book = load(old, dictionary)
    names = new.sheet_names()
    require_crm(names)
    new_meta = new.read_meta()
    targets = entity_sheets(new_meta, names, book.dictionary)
    counts = {"sheets": 0, "rows": 0, "notes": 0}
    for code, table in book.tables.items():
        target = targets.get(code)
        if target is None:
            book.notes.append(Problem.of(ErrorCode.SHEET_MISSING, "warning",
                                         zh={"entity": table.sheet},
                                         en={"entity": table.sheet}))
            continue
        counts["notes"] += copy_sheet(old, table, new, target)
        counts["sheets"] += 1
        counts["rows"] += len(table.raw)
    write_base(new, book.base)
    moved = {t.sheet for t in book.tables.values()} | set(targets.values())
    for sheet in sorted(set(old.sheet_names()) & set(names) - moved - set(HIDDEN_SHEETS)):
        counts["notes"] += carry_notes(old, sheet, new, sheet, None)
    csheet = special_sheet(new_meta, names, CONFLICTS_SHEET)
    if csheet is not None:
        write_conflicts(new, csheet, book.conflicts, book.dictionary, book.lang)
    write_reference_lists(book, new)
    old_settings = special_sheet(book.meta, old.sheet_names(), REPORT_SETTINGS_SHEET)
    new_settings = special_sheet(new_meta, names, REPORT_SETTINGS_SHEET)
    if old_settings and new_settings:
        write_report_settings(new, new_settings, read_report_settings(old, old_settings),
                              book.lang)
    keep = {k: v for k, v in book.meta.items() if not k.startswith(
        ("sheet:", "marks:")) and k not in ("template_version", "xlwings_version", "lang")}
    keep["upgraded_from"] = book.meta.get("template_version") or ""
    new.write_meta(dict(keep))
    new.save()
    result = CommandResult("upgrade", book.lang, counts, list(book.notes))
    result.say(f"已升级到模板 {new_meta.get('template_version')}：{counts['sheets']} 张表，"
               f"{counts['rows']} 行已迁移",
               f"Upgraded to template {new_meta.get('template_version')}: {counts['sheets']} "
               f"sheets, {counts['rows']} rows moved")
    return result


def copy_sheet(old: WorkbookPort, table: SheetTable, new: WorkbookPort, target: str) -> int:
    """Copy one entity sheet (hidden columns and extra user columns too) into ``target`` of
    the new workbook, with its notes and marks; returns how many notes travelled."""
    keys, frame = new.read_table(target)
    headers = list(frame.loc[HEADER_ROW]) if HEADER_ROW in frame.index else []
    headers += [None] * (len(keys) - len(headers))
    sources: list[int | None] = [table.cols.get(k) if k else None for k in keys]
    mapped = set(table.cols.values())
    for i in range(len(table.keys)):  # extra user columns travel along at the end
        if i not in mapped and not table.raw[i].isna().all():
            keys, headers = [*keys, ""], [*headers, table.headers[i]]
            sources.append(i)
    data = pd.DataFrame({j: (table.raw[s].tolist() if s is not None else [None] * len(
        table.raw)) for j, s in enumerate(sources)}, dtype=object)
    top = pd.DataFrame([headers], columns=range(len(keys)), dtype=object)
    new.write_table(target, keys, pd.concat([top, data], ignore_index=True), HEADER_ROW)
    return carry_notes(old, table.sheet, new, target,
                       {s + 1: j + 1 for j, s in enumerate(sources) if s is not None})


def carry_notes(old: WorkbookPort, sheet: str, new: WorkbookPort, target: str,
                columns: dict[int, int] | None) -> int:
    """Copy users' notes and the add-in's marks of ``sheet`` to ``target``, moving each to
    its column's new place (``columns``: old -> new; None: same place); returns the notes."""
    def moved(col: int) -> int | None:
        return col if columns is None else columns.get(col)

    notes = [CellNote(n.row, c, n.text, n.author) for n in old.read_notes(sheet)
             if (c := moved(n.col)) is not None]
    new.write_notes(target, notes)
    marks = [CellMark(m.row, c, m.kind, m.note) for m in old.read_marks(sheet)
             if (c := moved(m.col)) is not None]
    if marks:
        new.mark_cells(target, marks)
    return len(notes)


def template_bytes(lang: Lang) -> bytes:
    """The newest template for ``lang``."""
    try:
        from addin.template import build_template
    except ImportError as exc:  # pragma: no cover - the template package ships with the add-in
        raise AddinError(ErrorCode.TEMPLATE_NOT_FOUND, detail=str(exc)) from exc
    return build_template(lang)


def show_help(port: WorkbookPort | None = None) -> CommandResult:
    """What each ribbon button does, in the workbook's language."""
    from addin.ribbon.buttons import BUTTONS

    lang = as_lang(port.read_meta().get("lang")) if port is not None else "zh"
    result = CommandResult("show_help", lang)
    for b in BUTTONS:
        result.messages.append(Problem(None, f"{b.label_zh}：{b.screentip_zh}",
                                       f"{b.label_en}: {b.screentip_en}", "info"))
    result.say("CRM 工作簿帮助（详见“说明”工作表）",
               "CRM workbook help (see the Instructions sheet for more)")
    return result
