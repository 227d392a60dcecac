"""Permission probes (issue 19): random (user, role, team, region, record, field, route,
verb) against a live bridge, each answer held to the row scopes and field access of
``schema.permissions`` (``tests.security.probes``). Prints the probes, the checks and the
violations per backend; exits 1 on any violation.

    python -m bench.probe_permissions --probes 50000                 # SQLite and PostgreSQL
    python -m bench.probe_permissions --probes 2000 --backend sqlite --seed 7
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from bench.common import bridge
from tests.conftest import pg_unreachable_reason
from tests.security.probes import NOTED, VIOLATIONS, Tally, run_probes


def report(backend: str, t: Tally) -> str:
    lines = [f"{backend}: {t.probes:,} probes, {t.checks:,} checks in {t.seconds:.0f} s "
             f"({t.probes / max(t.seconds, 1e-9):.0f} probes/s)",
             "  violations: " + ", ".join(f"{k} {t.counts[k]}" for k in VIOLATIONS),
             "  noted: " + ", ".join(f"{k} {t.counts[k]}" for k in NOTED),
             "  writes: " + ", ".join(f"{k} {n}" for k, n in sorted(t.writes.items())),
             f"  routes: {len(t.routes)} (" + ", ".join(
                 f"{r} {n}" for r, n in t.routes.most_common()) + ")"]
    lines += [f"  ! {e}" for e in t.examples]
    return "\n".join(lines)


def progress(backend: str) -> Callable[[Tally], None]:
    def say(t: Tally) -> None:
        print(f"{backend}: {t.probes:,} probes, {t.violations()} violations, {t.seconds:.0f} s",
              flush=True)
    return say


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.probe_permissions",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--probes", type=int, default=50_000, help="probes per backend")
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--seed", type=int, default=19)
    args = ap.parse_args(argv)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    bad = 0
    for backend in backends:
        if backend == "postgres" and (why := pg_unreachable_reason()):
            print(f"postgres: skipped ({why})")
            continue
        with bridge(backend, process=True) as b:
            tally = run_probes(b.url, b.token, args.probes, args.seed, progress(backend))
        print(report(backend, tally), flush=True)
        bad += tally.violations()
    print(f"total violations: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
