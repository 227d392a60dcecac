"""Stress runs of the sync fault, kill and contention scenarios with large counts.

The same code as the test suite (``tests/bridge/test_faults.py``,
``tests/bridge/test_contention.py``) with the counts given on the command line:

    python -m bench.stress_sync contention --backend both --pushes 500 --clients 16
    python -m bench.stress_sync faults --backend both --pushes 5000
    python -m bench.stress_sync kills --backend both --runs 200

PostgreSQL comes from ``CRM_TEST_PG_URL`` (default postgres@127.0.0.1:5432/test); each run
uses a fresh schema and drops it afterwards. Exits non-zero on the first broken invariant.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from bridge.app import create_app
from bridge.auth import add_user, issue_token
from bridge.db import connect
from bridge.server import free_port
from bridge.settings import Settings
from schema.dictionary import build_dictionary
from tests.bridge.test_contention import CLIENTS, run_contention
from tests.bridge.test_faults import run_cut_connections, run_kills
from tests.conftest import PG_URL, _drop_pg_schema, pg_unreachable_reason


@contextmanager
def fresh_settings(backend: str, folder: Path) -> Iterator[Settings]:
    if backend == "postgres":
        reason = pg_unreachable_reason()
        if reason:
            raise SystemExit(reason)
        s = Settings(database_url=PG_URL, database_schema=f"stress_{uuid.uuid4().hex[:10]}")
    else:
        s = Settings(database_url=f"sqlite:///{folder / f'stress-{uuid.uuid4().hex[:8]}.db'}")
    try:
        yield s
    finally:
        if s.database_schema:
            _drop_pg_schema(s.database_schema)


def faults(settings: Settings, pushes: int) -> dict[str, Any]:
    """A bridge in this process (uvicorn thread) behind the cutting proxy."""
    dictionary = build_dictionary()
    db = connect(settings, dictionary)
    app = create_app(settings, dictionary, db)
    with db.write() as conn:
        add_user(db, conn, "admin", "admin", None, None)
        token = issue_token(db, conn, "admin", days=1)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        return run_cut_connections(port, token, db, pushes)
    finally:
        server.should_exit = True
        thread.join(10)
        db.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", choices=["contention", "faults", "kills"])
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--pushes", type=int, default=None,
                    help="contention: pushes per client (500); faults: pushes (5000)")
    ap.add_argument("--clients", type=int, default=CLIENTS, help="contention clients (16)")
    ap.add_argument("--runs", type=int, default=200, help="kills: SIGKILLs per backend")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory(prefix="crm-stress-") as tmp:
        folder = Path(tmp)
        for backend in backends:
            with fresh_settings(backend, folder) as s:
                t0 = time.monotonic()
                if args.scenario == "contention":
                    stats = run_contention(s, folder / "logs", args.pushes or 500,
                                           args.clients, seed=args.seed)
                elif args.scenario == "faults":
                    stats = faults(s, args.pushes or 5000)
                else:
                    stats = run_kills(s, folder / "logs", args.runs, seed=args.seed)
                print(f"{args.scenario} {backend}: ok in {time.monotonic() - t0:.1f} s {stats}",
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
