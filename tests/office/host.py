"""A thin host over HTTP, as the Office.js client behaves: it sends what the session asks
for (a snapshot of a workbook file, in row blocks), runs the command, fetches the pages of
actions and applies them with the reference host (``replay_openpyxl``), and downloads the
files the run produced."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import orjson

from addin.payload.actions import MAX_BYTES
from addin.payload.from_openpyxl import snapshot_of
from addin.payload.replay_openpyxl import replay

JSON = {"Content-Type": "application/json"}


@dataclass
class HostRun:
    result: dict[str, Any]
    answer: dict[str, Any]
    pages: list[list[dict[str, Any]]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    opened: list[tuple[str, str]] = field(default_factory=list)
    sent_bytes: list[int] = field(default_factory=list)
    page_bytes: list[int] = field(default_factory=list)  # each page's response body


def _post(c: httpx.Client, url: str, body: Any, sizes: list[int]) -> httpx.Response:
    data = orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    sizes.append(len(data))
    return c.post(url, content=data, headers=JSON)


def _upload(c: httpx.Client, sid: str, upload: list[str], blocks: list[Any],
            notes: list[Any], sizes: list[int]) -> None:
    for block in blocks:
        if block.sheet in upload:
            r = _post(c, f"/api/sessions/{sid}/cells", block.model_dump(), sizes)
            assert r.status_code == 204, r.text
    for sheet_notes in notes:
        if sheet_notes.sheet in upload:
            r = _post(c, f"/api/sessions/{sid}/notes", sheet_notes.model_dump(), sizes)
            assert r.status_code == 204, r.text


def send_file(c: httpx.Client, sid: str, name: str, data: bytes, part_bytes: int) -> None:
    parts = [data[i:i + part_bytes] for i in range(0, len(data), part_bytes)] or [b""]
    for k, chunk in enumerate(parts):
        r = c.post(f"/api/sessions/{sid}/files/{name}", json={
            "part": k, "parts": len(parts), "base64": base64.b64encode(chunk).decode()})
        assert r.status_code == 204, r.text


def fetch_file(c: httpx.Client, sid: str, name: str) -> bytes:
    got, k, parts = b"", 0, 1
    while k < parts:
        r = c.get(f"/api/sessions/{sid}/files/{name}", params={"part": k})
        assert r.status_code == 200, r.text
        assert len(r.content) < MAX_BYTES + 1000
        body = r.json()
        got += base64.b64decode(body["base64"])
        parts, k = body["parts"], k + 1
    return got


def open_and_upload(c: httpx.Client, path: Path, command: str, *,
                    options: dict[str, Any] | None = None, lang: str = "zh",
                    rows_per_block: int | None = None, files: dict[str, bytes] | None = None,
                    sizes: list[int] | None = None) -> str:
    """A session for ``command`` with what it asks for of the file at ``path``; its id."""
    sizes = [] if sizes is None else sizes
    wb = openpyxl.load_workbook(path, keep_vba=True)
    info, blocks, notes = snapshot_of(wb, openpyxl.load_workbook(path, data_only=True),
                                      rows_per_block)
    r = _post(c, "/api/sessions", {"command": command, "lang": lang, "options": options or {},
                                   "workbook": info.model_dump()}, sizes)
    assert r.status_code == 201, r.text
    sid, upload = r.json()["session"], r.json()["upload"]
    _upload(c, sid, upload, blocks, notes, sizes)
    for name, data in (files or {}).items():
        send_file(c, sid, name, data, 1_000_000)
    return str(sid)


def run(c: httpx.Client, sid: str) -> dict[str, Any]:
    r = c.post(f"/api/sessions/{sid}/run", json={})
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def host_run(c: httpx.Client, path: Path, command: str, *, options: dict[str, Any] | None
             = None, lang: str = "zh", rows_per_block: int | None = None,
             files: dict[str, bytes] | None = None, apply: bool = True) -> HostRun:
    """``command`` on the workbook file at ``path`` through the service; the actions are
    applied to the file (saved) unless ``apply`` is false."""
    sizes: list[int] = []
    sid = open_and_upload(c, path, command, options=options, lang=lang,
                          rows_per_block=rows_per_block, files=files, sizes=sizes)
    answer = run(c, sid)
    out = HostRun(answer["result"], answer, sent_bytes=sizes)
    finish(c, sid, path, out, apply)
    return out


def finish(c: httpx.Client, sid: str, path: Path, out: HostRun, apply: bool = True) -> None:
    """Fetch the pages (and files), apply them to the file at ``path``, close the session."""
    answer = out.answer
    for k in range(answer["pages"]):
        page = c.get(f"/api/sessions/{sid}/actions/{k}")
        assert page.status_code == 200 and len(page.content) < MAX_BYTES, len(page.content)
        out.page_bytes.append(len(page.content))
        body = page.json()
        assert (body["page"], body["pages"]) == (k, answer["pages"])
        out.pages.append(body["actions"])
    if apply:
        wb = openpyxl.load_workbook(path, keep_vba=True)
        done = replay(wb, [a for page in out.pages for a in page])
        out.opened = list(done.opened)
        buf = io.BytesIO()
        wb.save(buf)
        path.write_bytes(buf.getvalue())
    for f in answer["files"]:
        out.files[f["name"]] = fetch_file(c, sid, f["name"])
        assert len(out.files[f["name"]]) == f["bytes"]
    assert c.delete(f"/api/sessions/{sid}").status_code == 204
