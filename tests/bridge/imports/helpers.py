"""Driving an import over HTTP, as the add-in and ``crm-sheet import`` do."""

from __future__ import annotations

from typing import Any

import httpx

from tests.bridge.helpers import body, insert


def push(c: httpx.Client, *rows: dict[str, Any]) -> list[dict[str, Any]]:
    r = c.post("/push", json=body(*rows))
    assert r.status_code == 200, r.text
    return list(r.json()["results"])


def source(*rows: dict[str, Any]) -> list[dict[str, Any]]:
    """Source rows numbered 1, 2, 3 ...: each a ``{"customer": {...}, "contact": {...}}``."""
    return [{"source_row": i, "sheet": "客户.xlsx › Sheet1", "line": i + 1, "values": v}
            for i, v in enumerate(rows, start=1)]


def staged(c: httpx.Client, rows: list[dict[str, Any]], **create: Any) -> str:
    """A new import holding ``rows``; its id."""
    r = c.post("/imports", json={"entity": "customer", "file_name": "客户.xlsx", **create})
    assert r.status_code == 201, r.text
    iid = str(r.json()["id"])
    for start in range(0, len(rows), 5000):
        r = c.post(f"/imports/{iid}/rows", json={"rows": rows[start:start + 5000]})
        assert r.status_code == 200, r.text
    return iid


def dry_run(c: httpx.Client, iid: str) -> dict[int, dict[str, Any]]:
    """Run the dry run and read every decision page; decisions by source row."""
    r = c.post(f"/imports/{iid}/dry-run")
    assert r.status_code == 200, r.text
    out: dict[int, dict[str, Any]] = {}
    after: int | None = 0
    while after is not None:
        page = c.get(f"/imports/{iid}/decisions", params={"after": after, "limit": 1000})
        assert page.status_code == 200, page.text
        out.update({d["source_row"]: d for d in page.json()["decisions"]})
        after = page.json()["next_after"]
    assert sum(r.json()["counts"].values()) == len(out)
    return out


def customer(**values: Any) -> dict[str, Any]:
    return insert("customer", **values)
