"""``crm-bridge``: set up the store, run the server, manage users, check the audit chain,
seed demo data."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bridge import audit, throttle
from bridge.auth import add_user, issue_token, list_users, revoke_user_tokens
from bridge.db import Database, connect, create_schema
from bridge.errors import ApiError
from bridge.passwords import check_strength, set_password
from bridge.settings import AuditKeyError, Settings
from schema.dictionary import build_dictionary
from schema.permissions import ROLES

app = typer.Typer(help="Excel CRM bridge: the central store.", no_args_is_help=True)
user_app = typer.Typer(help="Users and tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
rules_app = typer.Typer(help="Tag rules (value tiers, segments) from the reports.",
                        no_args_is_help=True)
app.add_typer(rules_app, name="rules")
out = Console()
err = Console(stderr=True)

DbUrl = Annotated[str | None, typer.Option("--db", help="Database URL (default: CRM_DATABASE_URL "
                                           "or a SQLite file in the user data folder)")]


def _db(url: str | None) -> tuple[Settings, Database]:
    settings = Settings(database_url=url) if url else Settings()
    db = connect(settings, build_dictionary())
    create_schema(db, settings.database_schema)
    return settings, db


@app.command()
def init(db_url: DbUrl = None) -> None:
    """Create the tables and, when no key is set, the audit key file (safe to run again)."""
    settings, _ = _db(db_url)
    out.print(f"[green]ready[/]: {settings.url()}")
    try:
        settings.load_audit_key(create=True)
    except AuditKeyError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    where = "CRM_AUDIT_KEY" if settings.audit_key else str(settings.audit_key_path())
    out.print(f"audit key: {where}; checkpoints: {settings.checkpoint_path()}")


@app.command()
def serve(db_url: DbUrl = None, host: str = "127.0.0.1", port: int = 8765,
          workers: int = 1,
          public_url: Annotated[str | None, typer.Option(
              help="The address users reach the bridge at, e.g. https://crm.example.com "
              "(CRM_PUBLIC_URL); the Office add-in's manifest is built from it")] = None,
          ssl_certfile: Annotated[Path | None, typer.Option(
              help="TLS certificate (PEM) to serve HTTPS directly")] = None,
          ssl_keyfile: Annotated[Path | None, typer.Option(help="TLS private key (PEM)")]
          = None,
          forwarded_allow_ips: Annotated[str | None, typer.Option(
              help="Reverse proxies whose X-Forwarded-Proto/-For are believed "
              "(CRM_FORWARDED_ALLOW_IPS; comma-separated IPs, or *)")] = None,
          plugins: Annotated[str | None, typer.Option(
              help="Plugins to load: all (default), none, or names (CRM_PLUGINS)")] = None,
          ) -> None:
    """Run the bridge with uvicorn. It keeps no state outside the database, so several
    processes (or machines) can serve one PostgreSQL database behind a load balancer.
    Installed plugins are served beside /api/v1 (the Office add-in at /office/)."""
    import os

    import uvicorn

    if (ssl_certfile is None) != (ssl_keyfile is None):
        err.print("[red]--ssl-certfile and --ssl-keyfile go together[/]")
        raise typer.Exit(2)
    for name, value in (("CRM_DATABASE_URL", db_url), ("CRM_PUBLIC_URL", public_url),
                        ("CRM_FORWARDED_ALLOW_IPS", forwarded_allow_ips),
                        ("CRM_PLUGINS", plugins)):
        if value is not None:
            os.environ[name] = value  # the workers build their app from the environment
    settings, _ = _db(db_url)
    try:
        settings.load_audit_key(create=True)  # a bad key stops the start, not a push
    except AuditKeyError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    tls = {"ssl_certfile": str(ssl_certfile), "ssl_keyfile": str(ssl_keyfile)} \
        if ssl_certfile else {}
    uvicorn.run("bridge.app:app_from_env", factory=True, host=host, port=port,
                workers=workers, proxy_headers=False, **tls)  # type: ignore[arg-type]


PasswordFlag = Annotated[bool, typer.Option(
    "--password", help="Ask for a password (typed twice, not shown) the user signs in with")]
PasswordStdin = Annotated[bool, typer.Option(
    "--password-stdin", help="Read the password from the first line of standard input")]


def _ask_password(username: str, from_stdin: bool) -> str:
    """The new password, from stdin or typed twice; refused when weak (exit 2)."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt(f"Password for {username}", hide_input=True,
                                confirmation_prompt=True)
    try:
        check_strength(username, password)
    except ApiError as exc:
        err.print(f"[red]{exc.item.message_en}[/] / {exc.item.message_zh}")
        raise typer.Exit(2) from None
    return password


@user_app.command("add")
def user_add(username: str,
             role: Annotated[str, typer.Option(help=f"one of: {', '.join(ROLES)}")],
             team: str | None = None, region: str | None = None,
             name: Annotated[str | None, typer.Option(help="display name")] = None,
             days: int = 90, password: PasswordFlag = False,
             password_stdin: PasswordStdin = False, db_url: DbUrl = None) -> None:
    """Create a user and print their token (shown only once); with --password, give them a
    password to sign in with instead (crm-sheet login --user, the Office add-in)."""
    _, db = _db(db_url)
    if role not in ROLES:
        err.print(f"[red]unknown role {role!r}[/]; roles: {', '.join(ROLES)}")
        raise typer.Exit(2)
    secret = _ask_password(username, password_stdin) if password or password_stdin else None
    try:
        with db.write() as conn:
            add_user(db, conn, username, role, team, region, name)
            if secret is not None:
                set_password(db, conn, username, secret)
            token = None if secret is not None else issue_token(db, conn, username, days)
    except ApiError as exc:
        err.print(f"[red]{exc.item.message_en}[/] / {exc.item.message_zh}")
        raise typer.Exit(1) from None
    if token is None:
        out.print(f"user [bold]{username}[/] ({role}) created with a password; they sign in "
                  f"with: crm-sheet login --server URL --user {username}")
        return
    out.print(f"user [bold]{username}[/] ({role}) created; token (keep it safe, shown once):")
    print(token)


@user_app.command("passwd")
def user_passwd(username: str, password_stdin: PasswordStdin = False,
                db_url: DbUrl = None) -> None:
    """Set a user's password (the old one stops working; a revocation and counted failed
    sign-ins end). Tokens already issued stay valid: revoke them with user revoke."""
    _, db = _db(db_url)
    secret = _ask_password(username, password_stdin)
    try:
        with db.write() as conn:
            set_password(db, conn, username, secret)
            throttle.unlock(db, conn, username)
    except ApiError as exc:
        err.print(f"[red]{exc.item.message_en}[/] / {exc.item.message_zh}")
        raise typer.Exit(1) from None
    out.print(f"password of [bold]{username}[/] set")


@user_app.command("unlock")
def user_unlock(username: str, db_url: DbUrl = None) -> None:
    """Forget a user's failed sign-ins, so a throttled user may try again at once."""
    _, db = _db(db_url)
    with db.write() as conn:
        n = throttle.unlock(db, conn, username)
    out.print(f"{n} failed sign-in(s) of {username} forgotten")


@user_app.command("token")
def user_token(username: str, days: int = 90, db_url: DbUrl = None) -> None:
    """Issue an additional token for an existing user."""
    _, db = _db(db_url)
    try:
        with db.write() as conn:
            print(issue_token(db, conn, username, days))
    except ApiError as exc:
        err.print(f"[red]{exc.item.message_en}[/]")
        raise typer.Exit(1) from None


@user_app.command("list")
def user_list(db_url: DbUrl = None) -> None:
    """List users with role, team and region."""
    _, db = _db(db_url)
    table = Table("username", "name", "role", "team", "region", "active")
    with db.engine.connect() as conn:
        for u in list_users(db, conn):
            table.add_row(u.username, u.display_name, u.role, u.team or "", u.region or "",
                          "yes" if u.active else "no")
    out.print(table)


@user_app.command("revoke")
def user_revoke(username: str, db_url: DbUrl = None) -> None:
    """Revoke every token of a user, and their password (until user passwd sets a new one)."""
    _, db = _db(db_url)
    with db.write() as conn:
        n = revoke_user_tokens(db, conn, username)
    out.print(f"revoked {n} token(s) of {username}")


KeyFile = Annotated[Path | None, typer.Option(
    "--key-file", help="The audit key file (default: CRM_AUDIT_KEY, CRM_AUDIT_KEY_FILE or "
    "audit.key in the user data folder)")]
EXIT_TAMPERED, EXIT_UNVERIFIED = 1, 3


def _audit_db(db_url: str | None, key_file: Path | None) -> tuple[Settings, Database]:
    settings, db = _db(db_url)
    if key_file is not None:
        settings.audit_key, settings.audit_key_file = "", str(key_file)
    return settings, db


def _heads(values: list[str]) -> list[audit.Anchor]:
    anchors = []
    for v in values:
        seq, _, digest = v.partition(":")
        if not seq.strip().isdigit() or len(digest.strip()) != 64:
            err.print(f"[red]--head {v!r}[/]: expected SEQ:HASH (a push answer's audit_head)")
            raise typer.Exit(2)
        anchors.append(audit.Anchor(int(seq), digest.strip().lower(), f"--head {seq}"))
    return anchors


def _checkpoint_anchors(settings: Settings, path: Path | None,
                        key: audit.keys.AuditKey | None) -> list[audit.Anchor]:
    """The checkpoints of ``path`` (default: this database's file, when it exists)."""
    chosen = path or settings.checkpoint_path()
    if path is None and not chosen.exists():
        return []
    try:
        return audit.checkpoints.read(chosen, key)
    except audit.checkpoints.CheckpointFileError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(EXIT_TAMPERED) from None


@audit_app.command("verify")
def audit_verify(db_url: DbUrl = None, key_file: KeyFile = None,
                 checkpoints: Annotated[Path | None, typer.Option(
                     help="Checkpoint file (default: this database's, in the data folder)")]
                 = None,
                 head: Annotated[list[str] | None, typer.Option(
                     help="A head seen elsewhere, SEQ:HASH (e.g. a workbook's audit_head); "
                     "repeatable")] = None) -> None:
    """Check the audit chain: links, places, HMACs, and every checkpoint and head given.
    Exit 0 intact, 1 tampered (truncated, rewritten, broken), 3 authenticity not checked."""
    settings, db = _audit_db(db_url, key_file)
    try:
        key = audit.keys.load(settings)
    except AuditKeyError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(EXIT_TAMPERED) from None
    anchors = _checkpoint_anchors(settings, checkpoints, key) + _heads(head or [])
    with db.read() as conn:
        r = audit.verify(db, conn, anchors=anchors, key=key)
    if r.ok:
        h = r.head or audit.Head(0, audit.GENESIS)
        out.print(f"[green]audit chain intact[/]: {r.entries} entries ({r.keyed} keyed, "
                  f"{r.unkeyed} unkeyed), head seq {h.seq} {h.hash[:16]}…, "
                  f"{r.anchors} checkpoint(s)/head(s) matched")
        return
    if r.status == "unverified":
        err.print(f"[yellow]audit chain NOT verified[/]: {r.reason} ({r.entries} entries)")
        raise typer.Exit(EXIT_UNVERIFIED)
    where = f" at entry {r.first_bad_id}" if r.first_bad_id is not None else ""
    err.print(f"[red]audit chain {r.status}[/]{where}: {r.reason} ({r.entries} entries "
              "verified before it)")
    raise typer.Exit(EXIT_TAMPERED)


@audit_app.command("checkpoint")
def audit_checkpoint(db_url: DbUrl = None, key_file: KeyFile = None,
                     out_file: Annotated[Path | None, typer.Option(
                         "--out", help="Checkpoint file to append to (default: this "
                         "database's, in the data folder)")] = None) -> None:
    """Append the chain's current head (seq, hash, time, HMAC) to a checkpoint file; keep
    that file (or a copy) where database writers cannot reach it."""
    settings, db = _audit_db(db_url, key_file)
    try:
        key = audit.keys.load(settings)
    except AuditKeyError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    if key is None:
        err.print(f"[red]no audit key[/] ({settings.audit_key_path()}): a checkpoint needs "
                  "the key that signs the chain")
        raise typer.Exit(1)
    with db.read() as conn:
        h = audit.head(db, conn)
    path = out_file or settings.checkpoint_path()
    audit.checkpoints.write(path, key, h, settings.database_fingerprint())
    out.print(f"checkpoint: seq {h.seq} {h.hash[:16]}… appended to {path}")


@rules_app.command("apply")
def rules_apply(db_url: DbUrl = None,
                as_of: Annotated[str | None, typer.Option(help="As-of date (default today)")]
                = None,
                window_days: int = 365) -> None:
    """Apply the active tag rules to every customer (for cron / a scheduler); the changes are
    ordinary audited pushes that reach the sheets on the next pull."""
    from bridge.reports.rules import apply_rules_job

    _, db = _db(db_url)
    try:
        result = apply_rules_job(db, build_dictionary(), as_of=as_of, window_days=window_days)
    except ApiError as exc:
        err.print(f"[red]{exc.item.message_en}[/] / {exc.item.message_zh}")
        raise typer.Exit(1) from None
    out.print_json(json.dumps(result, ensure_ascii=False, default=str))


@app.command()
def demo(db_url: DbUrl = None, customers: int = 300,
         tokens_file: Annotated[Path | None, typer.Option(help="write users' tokens as JSON")]
         = None) -> None:
    """Seed realistic bilingual demo data (users, customers, deals, orders, payments)."""
    from bridge.demo import seed

    settings, db = _db(db_url)
    try:
        result = seed(db, build_dictionary(), customers=customers)
    except ApiError as exc:
        err.print(f"[red]{exc.item.message_en}[/] — the demo needs an empty database")
        raise typer.Exit(1) from None
    table = Table("entity", "rows")
    for k, v in result.counts.items():
        table.add_row(k, str(v))
    out.print(table)
    if tokens_file:
        tokens_file.write_text(json.dumps(result.tokens, indent=2), encoding="utf-8")
        out.print(f"tokens written to {tokens_file}")
    out.print(f"[green]demo data in[/] {settings.url()}")


if __name__ == "__main__":
    app()
