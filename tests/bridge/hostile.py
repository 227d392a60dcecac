"""Hostile input for fuzzing the bridge: strings, a hypothesis strategy, and encoders that
can carry what ``httpx`` refuses to encode (lone surrogates in JSON and in query strings).

    from tests.bridge.hostile import HOSTILE_STRINGS, hostile_text, json_bytes, query_url
    c.post("/push", content=json_bytes(payload), headers=JSON)
    c.get(query_url("/audit", {"entity": s}))
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

JSON = {"content-type": "application/json"}

HOSTILE_STRINGS: tuple[str, ...] = (
    "\x00", "a\x00b", "\x00" * 64,                      # NUL: PostgreSQL text cannot hold it
    "\ud800", "x\udfffy", "\udc80\ud800",               # lone surrogates: not UTF-8
    "\x01\x02\x07\x1b[31m", "\x0b\x0c", "\ufffe\uffff",  # controls a workbook cannot hold
    "\u202eevil.exe\u202c", "\u200f\u05e9\u05dc\u05d5\u05dd",  # RTL override, Hebrew
    "a\u200bb\u200c\u200d\u2060", "\ufeffBOM",            # zero-width characters
    "'; DROP TABLE crm_customer; --", '" OR 1=1 --', "\\'; SELECT pg_sleep(5); --",
    "=HYPERLINK(\"http://evil.example\",\"x\")", "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd",
    "-2+3", "=1+1", "#N/A", "%00", "%s%s%n", "{0}{field}", "../../etc/passwd",
    "NaN", "Infinity", "-0", "1e400", "9" * 400, "0x1F", "２０２６-０３-３１",
    "😀" * 50, "中文" * 300, " \t\r\n ", "\u3000", "𠜎𠜱𠝹",
    "9999-12-31T23:59:59-23:59", "0001-01-01", "2026-11-01T25:00", "2026-03-31T10:00+99:00",
)
MEGABYTE = "x" * 1_000_000  # over the default body limit when sent more than once


def hostile_text(max_size: int = 2_000) -> st.SearchStrategy[str]:
    """Text built from hostile pieces and any code point (surrogates included)."""
    anything = st.text(st.characters(codec=None, exclude_categories=()), max_size=max_size)
    pieces = st.lists(st.sampled_from(HOSTILE_STRINGS) | anything, max_size=4).map("".join)
    return st.sampled_from(HOSTILE_STRINGS) | pieces


def json_bytes(payload: Any) -> bytes:
    """JSON with every non-ASCII character escaped: lone surrogates travel as ``\\udXXX``."""
    return json.dumps(payload, ensure_ascii=True).encode("ascii")


def query_url(path: str, params: dict[str, str]) -> str:
    """``path?k=v`` with each value percent-encoded as UTF-8 (surrogates as their bytes)."""
    if not params:
        return path
    pairs = "&".join(f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}"
                     for k, v in params.items())
    return f"{path}?{pairs}"
