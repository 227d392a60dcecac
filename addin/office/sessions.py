"""Sessions on disk: one folder per session under the sessions folder, so that the uvicorn
workers of one machine share them (several machines need a shared folder or sticky
sessions). A session belongs to the token that opened it (kept as a hash, never the token):
another token is told it does not exist. A session unused for ``ttl`` seconds expires; its
uploads are deleted and a small tombstone says "expired" for a day.

Layout: ``session.json`` (owner, command, state), ``touched`` (its mtime: last use),
``info.json``, ``cells/*.json``, ``notes/*.json``, ``files/<key>/`` (uploaded parts),
``result.json``, ``pages/<k>.json`` and ``out/<key>/`` (files the command produced).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from addin.errors import AddinError
from schema.errors import ErrorCode

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
TOMBSTONE_SECONDS = 86_400
FILE_PART_BYTES = 2_900_000  # raw bytes per downloaded part: base64 stays under 4 MB
MAX_PARTS = 10_000
BAD_NAME = re.compile(r"[\x00-\x1f/\\]")


def owner_of(token: str) -> str:
    """What a session keeps of the token that opened it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _write(path: Path, data: bytes) -> None:
    """Write atomically (aside, then renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    aside.write_bytes(data)
    os.replace(aside, path)


def _key(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:32]


def check_file_name(name: str) -> str:
    if not 1 <= len(name) <= 200 or BAD_NAME.search(name) or name in (".", ".."):
        raise AddinError(ErrorCode.OFFICE_FILE_PART_INVALID, name=name[:50],
                         detail="a file name has 1 to 200 characters, no / \\ or control "
                         "characters", field="name")
    return name


class Session:
    """One session's folder."""

    def __init__(self, store: SessionStore, path: Path, meta: dict[str, Any]) -> None:
        self.store, self.path, self.meta = store, path, meta
        self.id = str(meta["id"])

    # --- uploads ---------------------------------------------------------------------
    def used_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())

    def _room_for(self, size: int) -> None:
        used = self.used_bytes() + size
        if used > self.store.max_bytes:
            raise AddinError(ErrorCode.OFFICE_SESSION_TOO_LARGE, max=self.store.max_bytes,
                             used=used)

    def _open_for_upload(self) -> None:
        if self.has_run():
            raise AddinError(ErrorCode.OFFICE_SESSION_DONE, session=self.id)

    def add(self, kind: str, data: bytes) -> None:
        """Keep one posted cell block or notes body (``kind``: cells | notes)."""
        self._open_for_upload()
        self._room_for(len(data))
        name = f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(4)}.json"
        _write(self.path / kind / name, data)

    def bodies(self, kind: str) -> Iterator[bytes]:
        folder = self.path / kind
        for p in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            yield p.read_bytes()

    def add_file_part(self, name: str, part: int, parts: int, data: bytes) -> None:
        """Keep part ``part`` (0-based) of ``parts`` of uploaded file ``name``."""
        self._open_for_upload()
        check_file_name(name)
        if not 1 <= parts <= MAX_PARTS or not 0 <= part < parts:
            raise AddinError(ErrorCode.OFFICE_FILE_PART_INVALID, name=name, field="part",
                             detail=f"part {part} of {parts}: parts run from 0 to parts - 1, "
                             f"at most {MAX_PARTS}")
        folder = self.path / "files" / _key(name)
        known = folder / "parts"
        if known.exists() and int(known.read_text()) != parts:
            raise AddinError(ErrorCode.OFFICE_FILE_PART_INVALID, name=name, field="parts",
                             detail=f"earlier parts said {known.read_text()} parts, not {parts}")
        self._room_for(len(data))
        _write(folder / "name", name.encode("utf-8"))
        _write(known, str(parts).encode())
        _write(folder / f"{part:05d}.bin", data)

    def uploaded_files(self) -> dict[str, bytes]:
        """Every uploaded file whose parts all arrived, by name."""
        out: dict[str, bytes] = {}
        root = self.path / "files"
        for folder in sorted(root.iterdir()) if root.is_dir() else []:
            name = (folder / "name").read_text(encoding="utf-8")
            parts = int((folder / "parts").read_text())
            chunks = [folder / f"{k:05d}.bin" for k in range(parts)]
            missing = [k for k, c in enumerate(chunks) if not c.exists()]
            if missing:
                raise AddinError(ErrorCode.OFFICE_FILE_PART_INVALID, name=name, field="part",
                                 detail=f"parts {missing[:10]} of {parts} never arrived")
            out[name] = b"".join(c.read_bytes() for c in chunks)
        return out

    # --- the run and what it produced ---------------------------------------------------
    def set_progress(self, text: str, fraction: float | None = None) -> None:
        """What the running command says it is doing (read by ``GET .../sessions/{id}``)."""
        _write(self.path / "progress.json", orjson.dumps({"text": text, "fraction": fraction}))

    def status(self) -> dict[str, Any]:
        """The session's command, whether it ran, and its latest progress."""
        progress = self.path / "progress.json"
        failed = self.path / "failed.json"
        state = "done" if (self.path / "result.json").exists() else "failed" if \
            failed.exists() else "running" if self.has_run() else "open"
        out = {"session": self.id, "command": self.meta.get("command"), "state": state,
               "progress": orjson.loads(progress.read_bytes()) if progress.exists() else None}
        if failed.exists():
            out["error"] = orjson.loads(failed.read_bytes())["error"]
        return out

    def fail(self, body: dict[str, Any]) -> None:
        """The run ended with an error (its error body): the status says so."""
        _write(self.path / "failed.json", orjson.dumps(body))

    def has_run(self) -> bool:
        return (self.path / "run.lock").exists()

    def claim_run(self) -> None:
        """Mark the session as run (once, whichever worker asks first)."""
        try:
            fd = os.open(self.path / "run.lock", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            raise AddinError(ErrorCode.OFFICE_SESSION_DONE, session=self.id) from None
        os.close(fd)

    def save_result(self, answer: dict[str, Any], pages: list[list[dict[str, Any]]],
                    files: dict[str, bytes]) -> dict[str, Any]:
        """Keep the pages of actions and the files; returns the run's answer."""
        for k, page in enumerate(pages):
            _write(self.path / "pages" / f"{k}.json", orjson.dumps(page))
        listed = []
        for name, data in files.items():
            folder = self.path / "out" / _key(check_file_name(name))
            _write(folder / "name", name.encode("utf-8"))
            _write(folder / "data.bin", data)
            listed.append({"name": name, "parts": max(1, -(-len(data) // FILE_PART_BYTES)),
                           "bytes": len(data)})
        full = {**answer, "pages": len(pages), "files": listed}
        _write(self.path / "result.json", orjson.dumps(full))
        return full

    def result(self) -> dict[str, Any]:
        path = self.path / "result.json"
        if not path.exists():
            raise AddinError(ErrorCode.OFFICE_SESSION_NOT_RUN, session=self.id)
        out: dict[str, Any] = orjson.loads(path.read_bytes())
        return out

    def page(self, k: int) -> dict[str, Any]:
        pages = int(self.result()["pages"])
        if not 0 <= k < pages:
            raise AddinError(ErrorCode.OFFICE_PAGE_NOT_FOUND, session=self.id, page=k,
                             pages=pages)
        actions = orjson.loads((self.path / "pages" / f"{k}.json").read_bytes())
        return {"page": k, "pages": pages, "actions": actions}

    def produced(self, name: str, part: int) -> tuple[bytes, int]:
        """Part ``part`` (0-based) of a produced file, and how many parts it has."""
        self.result()
        path = self.path / "out" / _key(name) / "data.bin"
        if not path.exists():
            raise AddinError(ErrorCode.OFFICE_FILE_NOT_FOUND, session=self.id, name=name)
        size = path.stat().st_size
        parts = max(1, -(-size // FILE_PART_BYTES))
        if not 0 <= part < parts:
            raise AddinError(ErrorCode.OFFICE_FILE_PART_INVALID, name=name, field="part",
                             detail=f"part {part}: the file has parts 0 to {parts - 1}")
        with path.open("rb") as f:
            f.seek(part * FILE_PART_BYTES)
            return f.read(FILE_PART_BYTES), parts


class SessionStore:
    """The sessions folder: open, find (checking owner and age), sweep."""

    def __init__(self, root: Path, ttl: int, max_bytes: int) -> None:
        self.root, self.ttl, self.max_bytes = root, ttl, max_bytes
        self._swept = 0.0

    def open(self, owner: str, meta: dict[str, Any], info: bytes) -> Session:
        self.sweep_now_and_then()
        sid = secrets.token_urlsafe(18)
        path = self.root / sid
        path.mkdir(parents=True)
        full = {"id": sid, "owner": owner, "state": "open", "created": time.time(), **meta}
        session = Session(self, path, full)
        session._room_for(len(info))
        _write(path / "info.json", info)
        _write(path / "session.json", orjson.dumps(full))
        (path / "touched").touch()
        return session

    def get(self, sid: str, owner: str) -> Session:
        """The caller's session; 404 for an unknown id or another token, 410 if expired."""
        path = self.root / sid
        meta_path = path / "session.json"
        if not SESSION_ID.match(sid) or not meta_path.exists():
            raise AddinError(ErrorCode.OFFICE_SESSION_NOT_FOUND, session=sid[:64])
        meta = orjson.loads(meta_path.read_bytes())
        if not secrets.compare_digest(str(meta.get("owner")), owner):
            raise AddinError(ErrorCode.OFFICE_SESSION_NOT_FOUND, session=sid)
        if meta.get("state") == "expired" or self._age(path) > self.ttl:
            self._bury(path, meta)
            raise AddinError(ErrorCode.OFFICE_SESSION_EXPIRED, session=sid,
                             minutes=max(1, self.ttl // 60))
        os.utime(path / "touched")
        return Session(self, path, meta)

    def delete(self, sid: str, owner: str) -> None:
        shutil.rmtree(self.get(sid, owner).path, ignore_errors=True)

    @staticmethod
    def _age(path: Path) -> float:
        try:
            return time.time() - (path / "touched").stat().st_mtime
        except FileNotFoundError:
            return float("inf")

    @staticmethod
    def _bury(path: Path, meta: dict[str, Any]) -> None:
        """Delete an expired session's data, keeping a tombstone that says so."""
        if meta.get("state") != "expired":
            for child in path.iterdir():
                if child.name not in ("session.json", "touched"):
                    shutil.rmtree(child) if child.is_dir() else child.unlink(missing_ok=True)
            _write(path / "session.json", orjson.dumps({**meta, "state": "expired"}))

    def sweep(self) -> int:
        """Bury expired sessions and drop old tombstones; how many were touched."""
        n = 0
        for path in self.root.iterdir() if self.root.is_dir() else []:
            meta_path = path / "session.json"
            if not path.is_dir() or not SESSION_ID.match(path.name):
                continue
            age = self._age(path)
            try:
                if not meta_path.exists() and time.time() - path.stat().st_mtime < 600:
                    continue  # another worker is opening it
                if not meta_path.exists() or age > self.ttl + TOMBSTONE_SECONDS:
                    shutil.rmtree(path, ignore_errors=True)
                    n += 1
                elif age > self.ttl:
                    meta = orjson.loads(meta_path.read_bytes())
                    n += meta.get("state") != "expired"
                    self._bury(path, meta)
            except (OSError, orjson.JSONDecodeError):  # another worker got there first
                continue
        return n

    def sweep_now_and_then(self, every: float = 60.0) -> None:
        if time.monotonic() - self._swept > every:
            self._swept = time.monotonic()
            self.sweep()
