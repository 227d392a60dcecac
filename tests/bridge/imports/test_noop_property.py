"""Property: importing a pulled export is a no-op. Every row is a ``match`` of the record
it came from, with no differences, and confirm changes nothing (both backends)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.bridge.helpers import VALID_USCC
from tests.bridge.imports.helpers import customer, dry_run, push, source, staged
from tests.conftest import LiveBridge

STEM = st.text(alphabet="甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥", min_size=2, max_size=4)
FORM = st.sampled_from(["有限公司", "公司", "科技有限公司", "贸易有限公司", "股份有限公司"])
COMPANY = st.fixed_dictionaries({"name": st.tuples(STEM, FORM).map("".join)}, optional={
    "phone": st.sampled_from(["010-65528888", "13800138000", "021 5555 1234"]),
    "address": st.sampled_from(["北京市朝阳区建国路 1 号", "上海市浦东新区"]),
    "website": st.sampled_from(["https://www.example.cn", "hengtong.com.cn"]),
    "notes": st.text(alphabet="备注 abc", min_size=1, max_size=8),
})
COMPANIES = st.lists(COMPANY, min_size=1, max_size=6, unique_by=lambda c: c["name"])


def _export(lb: LiveBridge) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The pulled customers as source rows (every visible field), and each id's version."""
    with lb.client() as c:
        data = c.get("/pull", params={"entities": "customer"}).json()[
            "entities"]["customer"]["data"]
    ids = data["id"]
    fields = [k for k in data if k not in ("id", "version")]
    rows = [{f: data[f][i] for f in fields} for i in range(len(ids))]
    return rows, dict(zip(ids, data["version"], strict=True))


@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(companies=COMPANIES, with_uscc=st.booleans())
def test_importing_a_pulled_export_changes_nothing(live_bridge_any: LiveBridge,
                                                   companies: list[dict[str, Any]],
                                                   with_uscc: bool) -> None:
    lb = live_bridge_any
    with lb.client() as c:
        fresh = [customer(**co, **({"uscc": u} if with_uscc else {}))
                 for co, u in zip(companies, VALID_USCC * 2, strict=False)]
        # a name already stored (an earlier example) is refused: that is fine here
        push(c, *fresh)
        rows, versions = _export(lb)
        ids = list(versions)
        iid = staged(c, source(*({"customer": r} for r in rows)))
        decisions = dry_run(c, iid)
        for n, rid in enumerate(ids, start=1):
            d = decisions[n]
            assert (d["decision"], d["record_id"], d["differences"]) == ("match", rid, []), d
        out = c.post(f"/imports/{iid}/confirm").json()
        assert out["counts"]["unchanged"] == len(ids) and out["import"]["push_keys"] == []
        assert sum(out["counts"][k] for k in ("applied", "merged", "conflict", "rejected")) == 0
    assert _export(lb)[1] == versions
