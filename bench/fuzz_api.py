"""The long schemathesis run: at least ``--cases`` generated requests per backend.

The same run as ``tests/bridge/test_schemathesis.py`` (``tests/bridge/fuzzing.py``: every
documented response shape checked, positive and negative data, the credential-revoking
operations aimed at throwaway users only) with the count given on the command line:

    python -m bench.fuzz_api --backend both --cases 10000

Each backend gets a fresh store and a bridge served by uvicorn in this process (so a 500's
exception can be read from the bridge's log). Prints the number of cases and of 5xx
answers, and every distinct failure with an example; exits 1 when there is one.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

from bench.stress_sync import fresh_settings
from bridge.server import app_with_admin, serve_in_thread
from tests.bridge.fuzzing import FuzzReport, fuzz, fuzz_revoking, server_log


def progress(report: FuzzReport) -> None:
    print(f"  {report.label}: {report.cases} cases, {report.server_errors} of 5xx, "
          f"{len(report.findings)} distinct failures so far", flush=True)


def run_backend(backend: str, cases: int, seeded: bool,
                minutes: float | None) -> list[FuzzReport]:
    deadline = time.monotonic() + minutes * 60 if minutes else None
    with tempfile.TemporaryDirectory() as tmp, fresh_settings(backend, Path(tmp)) as settings:
        app, db, token = app_with_admin(settings)
        try:
            with serve_in_thread(app) as url, server_log() as log:
                main = fuzz(url, token, cases, backend, log, derandomize=seeded,
                            rounds=1 if seeded else 20, deadline=deadline, progress=progress)
                revoking = fuzz_revoking(url, token, max(20, cases // 100),
                                         f"{backend} (revoking)", log, derandomize=seeded)
        finally:
            db.engine.dispose()
    return [main, revoking]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--cases", type=int, default=10_000, help="cases per backend")
    ap.add_argument("--minutes", type=float, default=None,
                    help="stop after the round running when this many minutes have passed "
                         "(the count reached is printed)")
    ap.add_argument("--seeded", action="store_true",
                    help="derandomize (the suite's fixed examples) instead of fresh ones")
    args = ap.parse_args()
    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
    logging.getLogger("crm.bridge").propagate = False  # the findings name each exception
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    failed = False
    for backend in backends:
        started = time.monotonic()
        for report in run_backend(backend, args.cases, args.seeded, args.minutes):
            print(report.summary(), flush=True)
            failed = failed or bool(report.findings)
        print(f"{backend}: {time.monotonic() - started:.0f} s", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
