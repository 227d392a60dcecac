"""The ``crm-bridge`` privacy commands: ``erase``, ``export-subject``, ``hold add|remove|
list`` and ``retention set|remove|list|run`` (registered by ``bridge.cli``)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from bridge.auth import User
from bridge.db import Database, connect, create_schema
from bridge.errors import ApiError
from bridge.privacy import hold, retention
from bridge.privacy.erase import erase
from bridge.privacy.export import subject_export
from bridge.privacy.workbook import workbook_bytes
from bridge.settings import Settings
from schema.clock import TEAM_ZONE, now
from schema.dictionary import build_dictionary

hold_app = typer.Typer(help="Legal holds: held records are neither erased nor retained.",
                       no_args_is_help=True)
retention_app = typer.Typer(help="Retention rules and their runs.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)

DbUrl = Annotated[str | None, typer.Option("--db", help="Database URL (default: CRM_DATABASE_URL "
                                           "or a SQLite file in the user data folder)")]
By = Annotated[str, typer.Option("--by", help="Who does it (recorded in the audit trail)")]


def _db(url: str | None) -> Database:
    settings = Settings(database_url=url) if url else Settings()
    db = connect(settings, build_dictionary())
    create_schema(db, settings.database_schema)
    return db


def _admin(name: str) -> User:
    return User(name, name, "admin", None, None)


def _fail(exc: ApiError, code: int = 1) -> typer.Exit:
    err.print(f"[red]{exc.item.message_en}[/]\n{exc.item.message_zh}")
    return typer.Exit(code)


def _json(data: Any) -> None:
    out.print_json(json.dumps(data, ensure_ascii=False, default=str))


def erase_cmd(subject: Annotated[str, typer.Argument(help="contact:<id> or customer:<id> "
                                                     "(a sole trader)")],
              dry_run: Annotated[bool, typer.Option(help="Only list what would go")] = False,
              by: By = "admin", db_url: DbUrl = None) -> None:
    """Erase a data subject: personal fields cleared, the record removed from workbooks
    on their next pull, its audit values made unreadable (the chain still verifies)."""
    db = _db(db_url)
    try:
        _json(erase(db, build_dictionary(), _admin(by), subject, dry_run=dry_run))
    except ApiError as exc:
        raise _fail(exc, 4 if exc.status == 409 else 1) from None


def export_cmd(subject: Annotated[str, typer.Argument(help="contact:<id> or customer:<id>")],
               out_path: Annotated[Path, typer.Argument(
                   metavar="OUT", help="Where to write: OUT.xlsx and OUT.json")],
               by: By = "admin", db_url: DbUrl = None) -> None:
    """Subject access: everything stored about one subject, as a workbook and as JSON."""
    db = _db(db_url)
    try:
        data = subject_export(db, build_dictionary(), _admin(by), subject)
    except ApiError as exc:
        raise _fail(exc) from None
    stem = out_path.with_suffix("") if out_path.suffix in (".xlsx", ".json") else out_path
    stem.parent.mkdir(parents=True, exist_ok=True)
    xlsx, js = stem.with_name(stem.name + ".xlsx"), stem.with_name(stem.name + ".json")
    xlsx.write_bytes(workbook_bytes(data))
    js.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), "utf-8")
    n = sum(len(v) for v in data["records"].values())
    out.print(f"{n} record(s), {len(data['audit'])} audit entries: {xlsx}, {js}")


@hold_app.command("add")
def hold_add(entity: str, record_id: str,
             reason: Annotated[str, typer.Option(help="Why (a case number, say)")],
             by: By = "admin", db_url: DbUrl = None) -> None:
    """Put one record under a legal hold."""
    db = _db(db_url)
    try:
        with db.write() as conn:
            h = hold.add_hold(db, build_dictionary(), conn, _admin(by), entity, record_id,
                              reason)
    except ApiError as exc:
        raise _fail(exc) from None
    out.print(f"hold #{h['id']} on {entity} {record_id}")


@hold_app.command("remove")
def hold_remove(hold_id: int, by: By = "admin", db_url: DbUrl = None) -> None:
    """Release a legal hold (it stays in the history)."""
    db = _db(db_url)
    try:
        with db.write() as conn:
            hold.release_hold(db, conn, _admin(by), hold_id)
    except ApiError as exc:
        raise _fail(exc) from None
    out.print(f"hold #{hold_id} released")


@hold_app.command("list")
def hold_list(released: bool = False, db_url: DbUrl = None) -> None:
    """The active legal holds (--released: released ones too), as JSON."""
    db = _db(db_url)
    with db.read() as conn:
        _json(hold.list_holds(db, conn, released))


@retention_app.command("set")
def retention_set(name: str,
                  entity: Annotated[str, typer.Option(help="e.g. ticket")],
                  date_field: Annotated[str, typer.Option(help="e.g. closed_on")],
                  days: Annotated[int, typer.Option(help="Kept this many days after it")],
                  where: Annotated[list[str] | None, typer.Option(
                      help="FIELD=VALUE a record must hold (repeatable; values of one "
                      "field are alternatives)")] = None,
                  by: By = "admin", db_url: DbUrl = None) -> None:
    """Create or replace a retention rule."""
    match: dict[str, list[str]] = {}
    for w in where or []:
        code, sep, value = w.partition("=")
        if not sep:
            err.print(f"[red]--where {w!r}[/]: expected FIELD=VALUE")
            raise typer.Exit(2)
        match.setdefault(code.strip(), []).append(value.strip())
    db = _db(db_url)
    try:
        with db.write() as conn:
            retention.set_rule(db, build_dictionary(), conn, _admin(by),
                               retention.Rule(name, entity, date_field, days, match))
    except ApiError as exc:
        raise _fail(exc, 2) from None
    out.print(f"retention rule {name!r} set")


@retention_app.command("remove")
def retention_remove(name: str, by: By = "admin", db_url: DbUrl = None) -> None:
    """Remove a retention rule."""
    db = _db(db_url)
    try:
        with db.write() as conn:
            retention.remove_rule(db, conn, _admin(by), name)
    except ApiError as exc:
        raise _fail(exc) from None
    out.print(f"retention rule {name!r} removed")


@retention_app.command("list")
def retention_list(db_url: DbUrl = None) -> None:
    """The retention rules, as JSON."""
    db = _db(db_url)
    with db.read() as conn:
        _json([r.__dict__ for r in retention.rules(db, conn)])


@retention_app.command("run")
def retention_run(dry_run: Annotated[bool, typer.Option(help="Only list what would go")]
                  = False,
                  as_of: Annotated[str | None, typer.Option(
                      help=f"The day to run as (default: today in {TEAM_ZONE})")] = None,
                  by: By = "retention", db_url: DbUrl = None) -> None:
    """Apply every retention rule (for cron or a scheduler); audited."""
    from zoneinfo import ZoneInfo

    try:
        day = date.fromisoformat(as_of) if as_of else now().astimezone(
            ZoneInfo(TEAM_ZONE)).date()
    except ValueError:
        err.print(f"[red]--as-of {as_of!r}[/]: expected a day such as 2026-03-31")
        raise typer.Exit(2) from None
    db = _db(db_url)
    _json(retention.run(db, build_dictionary(), _admin(by), day, dry_run=dry_run))


def register(app: typer.Typer) -> None:
    """Add the privacy commands to ``crm-bridge``."""
    app.command("erase")(erase_cmd)
    app.command("export-subject")(export_cmd)
    app.add_typer(hold_app, name="hold")
    app.add_typer(retention_app, name="retention")
