"""Checkpoints: the chain head written outside the database, as append-only JSON lines.

Each line holds ``seq``, ``hash``, ``at``, ``db`` (the database's fingerprint), ``key_id``
and ``mac`` (HMAC of the others under the audit key). ``crm-bridge audit checkpoint``
writes one on demand; :func:`maybe_write` writes one every ``audit_checkpoint_every``
entries or ``audit_checkpoint_seconds`` (settings), of the head as already committed.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from bridge.audit.keys import AuditKey
from bridge.db import Database
from bridge.settings import Settings

if TYPE_CHECKING:
    from bridge.audit.chain import Head

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Anchor:
    """A head seen outside the audit table: a checkpoint line, or a push answer's
    ``audit_head`` kept by a workbook (``--head SEQ:HASH``)."""

    seq: int
    hash: str
    source: str  # where it came from, for messages
    authentic: bool | None = None  # its MAC checked out (None: not checked / no MAC)


def _mac(key: AuditKey, seq: int, hash_: str, at: str, db: str) -> str:
    return key.sign(b"ckpt|" + orjson.dumps([seq, hash_, at, db, key.id]))


def write(path: Path, key: AuditKey, head: Head, db_fingerprint: str) -> dict[str, Any]:
    """Append one checkpoint line for ``head`` to ``path`` (made 0600 when new)."""
    at = datetime.now(UTC).isoformat(timespec="seconds")
    line = {"seq": head.seq, "hash": head.hash, "at": at, "db": db_fingerprint,
            "key_id": key.id, "mac": _mac(key, head.seq, head.hash, at, db_fingerprint)}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "ab") as f:
        f.write(orjson.dumps(line) + b"\n")
        f.flush()
        os.fsync(f.fileno())
    return line


class CheckpointFileError(Exception):
    """A checkpoint file that cannot be read as checkpoint lines."""


def read(path: Path, key: AuditKey | None) -> list[Anchor]:
    """The checkpoints in ``path``, each marked authentic or not when ``key`` is given."""
    anchors = []
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise CheckpointFileError(f"cannot read {path}: {exc}") from None
    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            c = orjson.loads(raw)
            seq, hash_ = int(c["seq"]), str(c["hash"])
            mac = _mac(key, seq, hash_, str(c["at"]), str(c["db"])) if key else None
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise CheckpointFileError(f"{path} line {n} is not a checkpoint") from None
        anchors.append(Anchor(seq, hash_, f"checkpoint {path.name} line {n} ({c['at']})",
                              None if mac is None else mac == c.get("mac")))
    return anchors


@dataclass
class _Last:
    seq: int
    at: float


_last: dict[Path, _Last] = {}


def _last_seq(path: Path) -> int:
    try:
        lines = path.read_bytes().splitlines()
    except OSError:
        return 0
    for raw in reversed(lines):
        try:
            return int(orjson.loads(raw)["seq"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            continue
    return 0


def maybe_write(db: Database, key: AuditKey, head: Head) -> None:
    """Write a checkpoint of ``head`` when one is due (cheap when not); a file that cannot
    be written is logged, never fails the write in progress."""
    settings = db.settings if db.settings is not None else Settings()
    every, seconds = settings.audit_checkpoint_every, settings.audit_checkpoint_seconds
    if head.seq == 0 or (every <= 0 and seconds <= 0):
        return
    path = settings.checkpoint_path()
    last = _last.get(path)
    if last is None:
        last = _last[path] = _Last(_last_seq(path), time.monotonic())
    due = (every > 0 and head.seq // every > last.seq // every) or (
        seconds > 0 and head.seq > last.seq and time.monotonic() - last.at >= seconds)
    if not due:
        return
    try:
        write(path, key, head, settings.database_fingerprint())
    except OSError as exc:
        log.warning("audit checkpoint not written to %s: %s", path, exc)
        return
    last.seq, last.at = head.seq, time.monotonic()
