"""The add-in's actions, written once against :class:`~addin.port.WorkbookPort`.

The ribbon (``xl_entry``, live Excel) and the ``crm-sheet`` CLI (files) both call these.
Each action reads every table it needs, works everything out on DataFrames, and only then
writes; any exception before the writes leaves the workbook as it was. Each returns a
:class:`CommandResult` with counts and messages in the workbook's language.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from addin.book import (
    Book,
    analyse_all,
    apply_result,
    finish,
    hold_conflicts,
    load,
    resolve_conflicts,
    rows_of,
    write_reference_lists,
)
from addin.changes import RowPlan, SheetAnalysis, merge_pull
from addin.client import BridgeClient, BridgeError, RetryFn, normalize_server
from addin.credentials import load_token, save_token
from addin.port import AddinError, CellMark, CellNote, WorkbookPort
from addin.sheets import (
    Level,
    Problem,
    SheetTable,
    entity_sheets,
    require_crm,
    special_sheet,
    write_base,
    write_conflicts,
)
from schema.dictionary import Dictionary
from schema.layout import (
    BASE_SHEET,
    CONFLICTS_SHEET,
    FIRST_DATA_ROW,
    HEADER_ROW,
    LISTS_SHEET,
    META_SHEET,
    REPORT_SETTING_KEYS,
    REPORT_SETTINGS,
    REPORT_SETTINGS_SHEET,
)
from schema.wire import EntityPull, PushRequest, RowChange, RowResult

MAX_MESSAGES = 200
HIDDEN_SHEETS = (META_SHEET, LISTS_SHEET, BASE_SHEET)


@dataclass
class CommandResult:
    command: str
    lang: str
    counts: dict[str, int] = field(default_factory=dict)
    messages: list[Problem] = field(default_factory=list)
    ok: bool = True

    def say(self, zh: str, en: str, level: Level = "info") -> None:
        self.messages.insert(0, Problem("", zh, en, level))

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


def _result(book: Book, command: str, problems: list[Problem], counts: dict[str, int],
            ok: bool) -> CommandResult:
    return CommandResult(command, book.lang, counts, [*book.notes, *problems], ok)


# the actions ------------------------------------------------------------------------------------
def validate(port: WorkbookPort, dictionary: Dictionary | None = None) -> CommandResult:
    """Check every sheet locally; mark problems, fill Change and Status. No server."""
    port.progress("校验 / Validating", 0.1)
    book = load(port, dictionary)
    analyses = analyse_all(book, book.writable())
    held = hold_conflicts(book, analyses)
    errors = [p for a in analyses.values() for p in a.errors] + held
    warnings = [p for a in analyses.values() for p in a.warnings]
    counts = _count_ops(analyses) | {"errors": len(errors), "warnings": len(warnings)}
    port.progress("写入 / Writing", 0.7)
    finish(book, analyses, errors + warnings, {})
    port.save()
    result = _result(book, "validate", rows_of(errors + warnings, book), counts, not errors)
    result.say(f"校验完成：新增 {counts['new']}，修改 {counts['update']}，删除 {counts['delete']}，"
               f"问题 {len(errors)}，提示 {len(warnings)}",
               f"Validated: {counts['new']} new, {counts['update']} changed, "
               f"{counts['delete']} to delete, {len(errors)} problems, {len(warnings)} notes")
    return result


def _count_ops(analyses: dict[str, SheetAnalysis]) -> dict[str, int]:
    ops = [p.op for a in analyses.values() for p in a.plans.values()]
    return {"new": ops.count("insert"), "update": ops.count("update"),
            "delete": ops.count("delete") + ops.count("drop")}


def stable_insert_id(user: str, meta: dict[str, str], entity: str, plan: RowPlan) -> str:
    """A new row's record id, the same for the same row until the workbook's sync state
    moves on: if every attempt of a push failed after the server committed, pushing the
    unchanged workbook again sends the same ids and the same key, and the bridge answers
    with its stored result instead of creating the rows twice."""
    seed = json.dumps([user, meta.get("server_url"), meta.get("cursor"), meta.get("last_push"),
                       entity, str(plan.label), plan.values], sort_keys=True, default=str,
                       ensure_ascii=False)
    return str(uuid.uuid5(_ID_NAMESPACE, seed))


def batch_key(template: str, rows: list[RowChange]) -> str:
    """Idempotency key of a batch: its content, so a resend of the same batch replays."""
    body = json.dumps([template, [r.model_dump() for r in rows]], sort_keys=True,
                      default=str, ensure_ascii=False)
    return "push-" + hashlib.sha256(body.encode()).hexdigest()


_ID_NAMESPACE = uuid.UUID("5b0c9a52-3d0e-4c57-9a55-7e1d2c3b4a59")


def push(port: WorkbookPort, client: BridgeClient, dictionary: Dictionary | None = None,
         *, batch_rows: int = 5000) -> CommandResult:
    """Validate, then send new, changed and deleted rows; write the verdicts back."""
    port.progress("读取工作簿 / Reading the workbook", 0.05)
    book = load(port, dictionary)
    me = client.me()
    book.meta["writable_fields"] = json.dumps(me.writable_fields, ensure_ascii=False)
    resolved = resolve_conflicts(book)
    analyses = analyse_all(book, book.writable())
    held = hold_conflicts(book, analyses)
    errors = [p for a in analyses.values() for p in a.errors]
    warnings = [p for a in analyses.values() for p in a.warnings] + held
    counts = {"inserted": 0, "updated": 0, "deleted": 0, "merged": 0, "conflicts": 0,
              "rejected": 0, "errors": len(errors), "resolved": resolved}
    meta_updates: dict[str, str | None] = {"writable_fields": book.meta["writable_fields"]}
    if errors:
        finish(book, analyses, errors + warnings, {})
        port.write_meta(meta_updates)
        port.save()
        result = _result(book, "push", rows_of(errors + warnings, book), counts, False)
        err = AddinError("VALIDATION_FAILED", count=len(errors))
        result.say(err.message_zh, err.message_en, "error")
        return result
    plans: dict[tuple[str, str], tuple[SheetAnalysis, RowPlan]] = {}
    rows: list[RowChange] = []
    for code, an in analyses.items():  # dictionary order: parents before children
        for plan in an.plans.values():
            if plan.op == "drop":
                an.table.drop([plan.label])
                continue
            if plan.op is None:
                continue
            if plan.op == "insert":
                plan.id = stable_insert_id(me.user.username, book.meta, code, plan)
            plans[(code, str(plan.id))] = (an, plan)
            rows.append(RowChange(op=plan.op, entity=code, id=str(plan.id),
                                  base_version=plan.base_version if plan.op != "insert" else None,
                                  values=plan.values, base=plan.base,
                                  row=int(plan.label) if isinstance(plan.label, int) else None))
    for an in analyses.values():
        an.plans = {lbl: p for lbl, p in an.plans.items() if p.op != "drop"}
    results: list[RowResult] = []
    failure: BridgeError | None = None
    template = book.meta.get("template_version") or "0"
    port.progress(f"推送 {len(rows)} 行 / Pushing {len(rows)} rows", 0.3)
    for start in range(0, len(rows), max(batch_rows, 1)):
        batch = rows[start:start + batch_rows]
        req = PushRequest(idempotency_key=batch_key(template, batch), template_version=template,
                          rows=batch)
        try:
            results += client.push(req).results
        except BridgeError as exc:
            if not results:
                raise  # nothing reached the server: the workbook stays as it was
            failure = exc
            break
    problems = list(warnings)
    statuses: dict[tuple[str, Any], str] = {}
    for res in results:
        found = plans.get((res.entity, res.id))
        if found is None:
            continue
        an, plan = found
        op = plan.op
        text, probs = apply_result(an, plan, res, book.base, book.conflicts, book.lang)
        problems += probs
        if text:
            statuses[(res.entity, plan.label)] = text
        key = {"applied": {"insert": "inserted", "update": "updated", "delete": "deleted"}.get(
            op or "", "updated"), "merged": "merged", "conflict": "conflicts",
            "rejected": "rejected"}[res.status]
        counts[key] += 1
    port.progress("写入 / Writing", 0.9)
    finish(book, analyses, problems, statuses)
    meta_updates["last_push"] = datetime.now().isoformat(timespec="seconds")
    port.write_meta(meta_updates)
    port.save()
    ok = failure is None and not counts["conflicts"] and not counts["rejected"] and not held
    result = _result(book, "push", rows_of(problems, book), counts, ok)
    if failure is not None:
        result.messages.insert(0, Problem.from_error(failure))
    result.say(f"推送完成：新增 {counts['inserted']}，修改 {counts['updated']}，合并 "
               f"{counts['merged']}，删除 {counts['deleted']}，冲突 {counts['conflicts']}，"
               f"被拒绝 {counts['rejected']}",
               f"Pushed: {counts['inserted']} new, {counts['updated']} changed, "
               f"{counts['merged']} merged, {counts['deleted']} deleted, {counts['conflicts']} "
               f"conflicts, {counts['rejected']} rejected", "info" if ok else "warning")
    return result


def pull(port: WorkbookPort, client: BridgeClient, dictionary: Dictionary | None = None,
         *, full: bool = False) -> CommandResult:
    """Fetch what changed since the cursor (everything when ``full``), keeping local edits."""
    port.progress("读取工作簿 / Reading the workbook", 0.05)
    book = load(port, dictionary)
    cursor = (book.meta.get("cursor") or "").strip()
    since = int(cursor) if cursor.isdigit() and not full else None
    port.progress("从服务器拉取 / Pulling from the server", 0.2)
    resp = client.pull(since)
    analyses = analyse_all(book, None)
    counts = {"added": 0, "updated": 0, "removed": 0, "kept": 0}
    problems: list[Problem] = []
    port.progress("合并 / Merging", 0.6)
    for code, an in analyses.items():
        ep = resp.entities.get(code)
        if ep is None and not resp.full:
            continue
        if ep is None:  # a full pull without this entity: the user sees none of its rows
            ep = EntityPull(columns=["id", "version"], data={"id": [], "version": []})
        got, probs = merge_pull(an, ep, resp.full, book.base, book.lang)
        counts = {k: counts[k] + got[k] for k in counts}
        problems += probs
    port.progress("写入 / Writing", 0.8)
    finish(book, analyses, problems, {})
    port.write_meta({"cursor": str(resp.cursor),
                     "last_pull": datetime.now().isoformat(timespec="seconds")})
    port.save()
    result = _result(book, "pull", rows_of(problems, book), counts, True)
    result.say(f"拉取完成：新增 {counts['added']}，更新 {counts['updated']}，移除 "
               f"{counts['removed']}，保留本地修改 {counts['kept']}",
               f"Pulled: {counts['added']} added, {counts['updated']} updated, "
               f"{counts['removed']} removed, {counts['kept']} kept with local edits")
    return result


def connect(port: WorkbookPort, *, token: str | None = None, on_retry: RetryFn | None = None,
            **options: Any) -> BridgeClient:
    """A client for the workbook's server, signed in with the stored (or given) token."""
    url = (port.read_meta().get("server_url") or "").strip()
    if not url:
        raise AddinError("NOT_SIGNED_IN", server="")
    url = normalize_server(url)
    token = token or load_token(url)
    if not token:
        raise AddinError("NOT_SIGNED_IN", server=f" {url}")
    return BridgeClient(url, token, on_retry=on_retry, **options)


def sign_in(port: WorkbookPort, server_url: str | None, token: str, **options: Any
            ) -> CommandResult:
    """Check ``token`` with ``GET /me``, keep it in the credential store, note the server."""
    require_crm(port.sheet_names())
    meta = port.read_meta()
    url = normalize_server(server_url or meta.get("server_url") or "")
    with BridgeClient(url, token, **options) as client:
        me = client.me()
    save_token(url, token)
    port.write_meta({"server_url": url, "user": me.user.username, "role": me.user.role,
                     "dictionary_version": me.dictionary_version,
                     "writable_fields": json.dumps(me.writable_fields, ensure_ascii=False),
                     "visible_fields": json.dumps(me.visible_fields, ensure_ascii=False)})
    port.save()
    lang = meta.get("lang") if meta.get("lang") in ("zh", "en") else "zh"
    result = CommandResult("sign_in", str(lang), {})
    result.say(f"已登录 {url}：{me.user.display_name}（{me.user.username}，角色 {me.user.role}）",
               f"Signed in to {url} as {me.user.display_name} ({me.user.username}, "
               f"role {me.user.role})")
    return result


REPORT_PARAMS = tuple(s.key for s in REPORT_SETTINGS)
REPORTS = ("funnel", "rfm", "kpis")


def read_report_settings(port: WorkbookPort, sheet: str) -> dict[str, str]:
    """The report parameters typed on the settings sheet (blank ones left out)."""
    keys, frame = port.read_table(sheet)
    if "key" not in keys or "value" not in keys:
        return {}
    k, v = keys.index("key"), keys.index("value")
    out: dict[str, str] = {}
    for row in frame.loc[frame.index >= FIRST_DATA_ROW].itertuples(index=False):
        key, value = row[k], row[v]
        if isinstance(key, str) and key in REPORT_PARAMS and value is not None \
                and str(value).strip():
            out[key] = (value.date().isoformat() if isinstance(value, datetime)
                        else str(value).strip())
    return out


def write_report_settings(port: WorkbookPort, sheet: str, values: dict[str, str],
                          lang: str) -> None:
    """Rewrite the settings rows so the sheet shows the parameters in use."""
    rows = [[s.key, s.zh if lang == "zh" else s.en, values.get(s.key),
             s.hint_zh if lang == "zh" else s.hint_en] for s in REPORT_SETTINGS]
    port.write_table(sheet, list(REPORT_SETTING_KEYS), pd.DataFrame(rows, dtype=object),
                     FIRST_DATA_ROW)


def refresh_reports(port: WorkbookPort, client: BridgeClient,
                    params: dict[str, str | None] | None = None) -> CommandResult:
    """Fetch the funnel, RFM and KPI reports for the period and filters on the report
    settings sheet (``params``, from the CLI, override them and are written back) and
    rebuild the report sheets in place."""
    meta = port.read_meta()
    lang = meta.get("lang") or "zh"
    unknown = set(params or {}) - set(REPORT_PARAMS)
    if unknown:
        raise AddinError("REPORT_PARAM_INVALID", detail=", ".join(sorted(unknown)))
    sheet = special_sheet(meta, port.sheet_names(), REPORT_SETTINGS_SHEET)
    query = read_report_settings(port, sheet) if sheet else {}
    if params:
        query.update({k: v for k, v in params.items() if v})
        if sheet:
            write_report_settings(port, sheet, query, lang)
    applied: dict[str, Any] | None = None
    if client.me().user.role == "admin":  # an admin's refresh also writes the tag rules
        port.progress("应用标签规则 / Applying the tag rules", 0.05)
        applied = client.request("POST", "/reports/rules/apply", content=b"{}").json()
    reports: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(REPORTS):
        port.progress(f"获取报表 {name} / Fetching the {name} report", 0.1 + 0.25 * i)
        wanted = {k: v for k, v in query.items()
                  if name == "rfm" or k not in ("window_days", "score_method")}
        if name == "rfm":
            wanted.pop("period_from", None)
            wanted.pop("period_to", None)
        reports[name] = client.get_json(f"/reports/{name}", wanted)
    port.progress("写入报表 / Writing the report sheets", 0.9)
    port.write_reports(reports, lang)
    port.write_meta({"last_refresh": datetime.now().isoformat(timespec="seconds")})
    port.save()
    result = CommandResult("refresh", lang, counts={
        f"{name}_tables": len(rep.get("tables", {})) for name, rep in reports.items()})
    result.say("报表已刷新：销售漏斗、RFM、经营指标", "Reports refreshed: funnel, RFM, KPIs")
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
            book.notes.append(Problem.of("SHEET_MISSING", "warning", zh={"entity": table.sheet},
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


def template_bytes(lang: str) -> bytes:
    """The newest template for ``lang``."""
    try:
        from addin.template import build_template
    except ImportError as exc:  # pragma: no cover - the template package ships with the add-in
        raise AddinError("TEMPLATE_NOT_FOUND", detail=str(exc)) from exc
    return build_template(lang)


def show_help(port: WorkbookPort | None = None) -> CommandResult:
    """What each ribbon button does, in the workbook's language."""
    from addin.ribbon.buttons import BUTTONS

    lang = "zh"
    if port is not None:
        lang = port.read_meta().get("lang") or "zh"
    result = CommandResult("show_help", lang if lang in ("zh", "en") else "zh")
    for b in BUTTONS:
        result.messages.append(Problem("", f"{b.label_zh}：{b.screentip_zh}",
                                       f"{b.label_en}: {b.screentip_en}", "info"))
    result.say("CRM 工作簿帮助（详见“说明”工作表）",
               "CRM workbook help (see the Instructions sheet for more)")
    return result
