"""Text the parsers trim: a value typed (or pasted) with a tab or a line break at its start or
end is saved without it, and the user is told so, naming the sheet, row and field."""

from __future__ import annotations

from addin.sheets import Problem, Sheet
from schema.errors import ErrorCode

EDGE_CHARACTERS = ("\t", "\r", "\n")


def trims_edge(raw: object) -> bool:
    """Whether ``raw`` is text that starts or ends with a tab or a line break."""
    return isinstance(raw, str) and raw.strip() != "" and (
        raw.startswith(EDGE_CHARACTERS) or raw.endswith(EDGE_CHARACTERS))


def trimmed_text_warnings(table: Sheet) -> list[Problem]:
    """A warning per cell about to be pushed whose tab or line break at an edge is dropped
    (one pass per column, not one cell look-up per row)."""
    out: list[Problem] = []
    labels = [lbl for lbl, plan in table.plans.items() if plan.op in ("insert", "update")]
    if not labels:
        return out
    for code in table.field_codes:
        cells = table.column(code).loc[labels]
        for label in cells.index[cells.map(trims_edge).astype(bool)]:
            if code in table.plans[label].values:
                f = table.entity.field(code)
                out.append(Problem.of(ErrorCode.TEXT_EDGE_TRIMMED, "warning", sheet=table.sheet,
                                      row=label, field=code, zh={"field": f.zh},
                                      en={"field": f.en}))
    return out
