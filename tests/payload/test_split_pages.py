"""``split_pages``: every page under the limit, the order kept, a large ``set_values`` cut
by rows and put back together equal to the original."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from addin.payload.actions import MAX_BYTES, Action, action, size_of, split_pages

cells = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                  st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40))


def rejoin(pages: list[list[Action]]) -> list[Action]:
    """Parts of one split action (consecutive, same op and place) joined again."""
    out: list[Action] = []
    for act in (a for page in pages for a in page):
        prev = out[-1] if out else None
        if (prev is not None and act["op"] == "set_values" == prev["op"]
                and (act["sheet"], act["col"]) == (prev["sheet"], prev["col"])
                and act["row"] == prev["row"] + len(prev["values"])):
            prev["values"] = prev["values"] + act["values"]
        elif prev is not None and act["op"] == "set_notes" == prev["op"] \
                and act["sheet"] == prev["sheet"]:
            prev["notes"] = prev["notes"] + act["notes"]
        else:
            out.append(dict(act))
    return out


def _page_bytes(page: list[Action]) -> int:
    return len(orjson.dumps(page))


def test_a_100k_row_table_is_cut_into_pages_under_the_limit_and_put_back_equal() -> None:
    values = [[f"客户{i}", i, i * 1.5, None, "=not a formula", True, "北京市朝阳区建国路88号"]
              for i in range(100_000)]
    big = action("set_values", sheet="客户", row=3, col=1, values=values)
    acts = [action("activate", sheet="客户"), big, action("freeze", sheet="客户", row=3, col=3)]
    pages = split_pages(acts)
    assert size_of(big) > 1.5 * MAX_BYTES and len(pages) >= 2
    assert all(_page_bytes(p) < MAX_BYTES for p in pages)
    assert rejoin(pages) == acts
    parts = [a for p in pages for a in p if a["op"] == "set_values"]
    assert [a["row"] for a in parts] == [3 + sum(len(b["values"]) for b in parts[:i])
                                         for i in range(len(parts))]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["values", "notes", "other"]),
                          st.integers(1, 400), st.lists(cells, min_size=1, max_size=6)),
                min_size=1, max_size=12),
       st.integers(600, 20_000))
def test_pages_stay_under_any_limit_and_keep_the_order(
        spec: list[tuple[str, int, list[Any]]], limit: int) -> None:
    acts: list[Action] = []
    for i, (kind, n, row) in enumerate(spec):
        sheet = f"S{i}"
        if kind == "values":
            acts.append(action("set_values", sheet=sheet, row=2, col=1,
                               values=[list(row) for _ in range(n)]))
        elif kind == "notes":
            acts.append(action("set_notes", sheet=sheet, notes=[
                {"row": r, "col": 1, "text": str(row)[:50]} for r in range(1, n + 1)]))
        else:
            acts.append(action("hide_rows", sheet=sheet, rows=[1]))
    pages = split_pages(acts, limit)
    assert all(_page_bytes(p) < limit for p in pages)
    assert all(pages)
    assert rejoin(pages) == acts
