"""The generated parts of docs/sync.md and docs/reports.md, made from the code and dictionary.

A doc marks each generated part ``<!-- generated:NAME -->`` … ``<!-- /generated -->``; the
text between is what ``BLOCKS[doc][NAME]()`` returns, and nothing else. Prose around the
blocks is written by hand. Where a block needs words the code does not hold (what a row
status means), they are kept here keyed by the code's own values, and the block refuses to
render when the two disagree, so a new status or op cannot go undocumented.

    python -m bridge.docgen          # rewrite the blocks in docs/
    python -m bridge.docgen --check  # exit 1 when a doc differs (tests/test_docs.py does this)
"""

from __future__ import annotations

import enum
import re
import sys
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import SimpleNamespace

from bridge.reports import breakdowns, cards, funnel, kpis, rfm, rules
from schema.enums import STAGE
from schema.errors import CATALOGUE, ErrorCode
from schema.permissions import ALL_MODULES, ROLES
from schema.sql import RECORD_COLUMNS
from schema.wire import RowChange, RowStatus

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SOURCES = ROOT / "bridge"
BLOCK = re.compile(r"(<!-- generated:(?P<name>[a-z0-9-]+) -->\n)(?P<body>.*?)(<!-- /generated -->)",
                   re.S)

STATUS_MEANING = {
    "applied": "written; the record was still at `base_version`",
    "merged": "written; others changed the record since `base_version`, but not these fields",
    "conflict": "not written: a field changed on the server since the base (`conflicts` lists "
                "`field`, `base`, `theirs`, `mine`; `server` is the server's copy with its "
                "`version`). A delete of a record changed since `base_version` is a conflict too",
    "rejected": "not written: `errors` say which field and why (codes in `errors.md`)",
}
OP_MEANING = {
    "insert": ("`id` (a UUID the client makes), `values`", "a new record at version 1"),
    "update": ("`id`, `base_version`, `values`, `base` (the values the edit started from)",
               "the changed fields, merged field by field"),
    "delete": ("`id`, `base_version`", "a tombstone (`deleted`), kept for incremental pulls"),
}
SYNC_SOURCES = ("sync", "routes/sync.py")


class DocDrift(ValueError):
    """The code names something the hand-kept words here do not describe (or the reverse)."""


def choices(annotation: object) -> list[str]:
    """The values a ``Literal[...]`` or ``Enum`` annotation allows, in declared order."""
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [str(m.value) for m in annotation]
    return [str(a) for a in typing.get_args(annotation)]


def _described(names: list[str], words: Mapping[str, object], what: str) -> None:
    if set(names) != set(words):
        raise DocDrift(f"{what}: code has {names}, bridge/docgen.py describes {list(words)}")


def table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


# --- docs/sync.md ---------------------------------------------------------------------------


def row_statuses() -> str:
    names = choices(RowStatus)
    _described(names, STATUS_MEANING, "row statuses (schema.wire.RowStatus)")
    return table(["status", "meaning"], ((f"`{s}`", STATUS_MEANING[s]) for s in names))


def ops() -> str:
    names = choices(RowChange.model_fields["op"].annotation)
    _described(names, OP_MEANING, "push ops (schema.wire.RowChange.op)")
    return table(["op", "carries", "writes"],
                 ((f"`{o}`", *OP_MEANING[o]) for o in names))


def record_columns() -> str:
    return "System columns of every entity table, in order: " + ", ".join(
        f"`{c}`" for c in RECORD_COLUMNS) + ".\n"


def roles() -> str:
    def cell(role: str, module: str) -> str:
        scope_access = ROLES[role].modules.get(module)
        if scope_access is None:
            return "–"
        scope, access = scope_access
        return f"{scope.value} / {access.value}"

    return table(["role", "角色", *ALL_MODULES],
                 ([f"`{code}` ({r.en})", r.zh, *(cell(code, m) for m in ALL_MODULES)]
                  for code, r in ROLES.items()))


CODE_USE = re.compile(r"""["']([A-Z][A-Z0-9_]+)["']|ErrorCode\.([A-Z][A-Z0-9_]+)""")


def codes_used(paths: Iterable[Path]) -> list[ErrorCode]:
    """Catalogued codes a set of source files names (``"CODE"`` or ``ErrorCode.<CODE>``)."""
    found: set[str] = set()
    for path in paths:
        found |= {a or b for a, b in CODE_USE.findall(path.read_text(encoding="utf-8"))}
    return [c for c in CATALOGUE if c in found]


def _sync_files() -> list[Path]:
    out: list[Path] = []
    for name in SYNC_SOURCES:
        p = SOURCES / name
        out += sorted(p.rglob("*.py")) if p.is_dir() else [p]
    return out


def push_pull_errors() -> str:
    return table(["code", "HTTP", "English", "中文"],
                 ((f"`{c}`", CATALOGUE[c].status, CATALOGUE[c].en, CATALOGUE[c].zh)
                  for c in codes_used(_sync_files())))


SIGNIN_SOURCES = ("signin.py", "passwords.py", "throttle.py", "routes/auth.py")


def signin_errors() -> str:
    """The codes password sign-in answers (``bridge.signin`` and the modules it uses)."""
    return table(["code", "HTTP", "English", "中文"],
                 ((f"`{c}`", CATALOGUE[c].status, CATALOGUE[c].en, CATALOGUE[c].zh)
                  for c in codes_used(SOURCES / n for n in SIGNIN_SOURCES)))


def signin_settings() -> str:
    """The throttle's and the tokens' settings with their defaults (``bridge.settings``)."""
    from bridge.settings import Settings

    fields = Settings.model_fields
    return table(["setting", "environment", "default"],
                 ((f"`{name}`", f"`CRM_{name.upper()}`", fields[name].default)
                  for name in ("signin_failures", "signin_address_failures",
                               "signin_window_seconds", "token_days")))


# --- docs/reports.md ------------------------------------------------------------------------


def definitions(module: object) -> Callable[[], str]:
    def block() -> str:
        en: list[str] = getattr(module, "DEFINITIONS_EN")  # noqa: B009
        zh: list[str] = getattr(module, "DEFINITIONS_ZH")  # noqa: B009
        if len(en) != len(zh):
            raise DocDrift(f"{module}: {len(en)} English definitions, {len(zh)} Chinese")
        return "".join(f"- {e}\n  {z}\n" for e, z in zip(en, zh, strict=True))

    return block


def funnel_stages() -> str:
    return table(["order", "stage", "阶段", "code"],
                 ((i, v.en, v.zh, f"`{v.code}`") for i, v in enumerate(STAGE.values, 1)))


def _hl(flag: bool | None) -> str:
    return "–" if flag is None else ("H" if flag else "L")


def rfm_segments() -> str:
    return table(["R", "F", "M", "segment", "客户分群"],
                 ((*(_hl(None if rule is None else x) for x in (rule or (None,) * 3)),
                   f"{en} (`{code}`)", zh) for code, zh, en, rule in rfm.SEGMENTS))


def card_list() -> str:
    return table(["report", "key", "English", "中文", "format"],
                 ((report, f"`{k}`", en, zh, f)
                  for report, specs in (("funnel", cards.OPPORTUNITY_CARDS),
                                        ("kpis", [*cards.KPI_CARDS, *cards.OPPORTUNITY_CARDS]),
                                        ("rfm", cards.RFM_CARDS))
                  for k, zh, en, f in specs))


def rule_metrics() -> str:
    return table(["metric", "English", "中文"],
                 ((f"`{m}`", en, zh) for m, (zh, en) in rules.METRICS.items()))


def rule_operators() -> str:
    return "Operators: " + " ".join(f"`{op}`" for op in rules.OPS) + ".\n"


BLOCKS: dict[str, dict[str, Callable[[], str]]] = {
    "sync.md": {
        "row-statuses": row_statuses,
        "ops": ops,
        "record-columns": record_columns,
        "roles": roles,
        "push-pull-errors": push_pull_errors,
        "signin-errors": signin_errors,
        "signin-settings": signin_settings,
    },
    "reports.md": {
        "funnel-definitions": definitions(funnel),
        "funnel-stages": funnel_stages,
        "breakdown-definitions": definitions(breakdowns),
        "card-definitions": definitions(cards),
        "rfm-card-definitions": definitions(SimpleNamespace(
            DEFINITIONS_EN=cards.RFM_DEFINITIONS_EN, DEFINITIONS_ZH=cards.RFM_DEFINITIONS_ZH)),
        "card-list": card_list,
        "rfm-definitions": definitions(rfm),
        "rfm-segments": rfm_segments,
        "kpi-definitions": definitions(kpis),
        "rule-metrics": rule_metrics,
        "rule-operators": rule_operators,
    },
}


def regenerate(text: str, blocks: dict[str, Callable[[], str]]) -> str:
    """``text`` with every generated block's body made anew (unknown names are an error)."""
    def body(m: re.Match[str]) -> str:
        name = m["name"]
        if name not in blocks:
            raise DocDrift(f"no generator for block {name!r}")
        return m[1] + blocks[name]() + m[4]

    return BLOCK.sub(body, text)


def block_names(text: str) -> list[str]:
    return [m["name"] for m in BLOCK.finditer(text)]


def main(argv: list[str] | None = None) -> int:
    check = "--check" in (argv if argv is not None else sys.argv[1:])
    stale = []
    for doc, blocks in BLOCKS.items():
        path = DOCS / doc
        text = path.read_text(encoding="utf-8")
        new = regenerate(text, blocks)
        if new != text:
            stale.append(doc)
            if not check:
                path.write_text(new, encoding="utf-8")
    if stale:
        print(("stale: " if check else "rewrote: ") + ", ".join(stale))
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
