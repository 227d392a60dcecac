"""Benchmark: the CPU a push of new customers costs in process (issue 10's push side: the
``SIMILAR_RECORD`` check through the company matcher and the match keys and profiles written
beside each new customer).

Pushes ``--rows`` new customers (``bench.common.customers``) into an empty store, then as
many more into the store now holding the first ones, each push through
``bridge.sync.push.push`` in this process, and prints the CPU time of each, with the time
spent in the similar-record check and in writing the match keys (cProfile, a second pair of
pushes). Run it on another checkout (``PYTHONPATH=...``) for a baseline in the same session.

    python -m bench.bench_push_customers --rows 10000
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
import uuid
from typing import Any

from bench.common import bridge, customers
from bridge.auth import User
from bridge.sync import push
from schema.dictionary import DICTIONARY_VERSION, build_dictionary
from schema.wire import PushRequest

ADMIN = User("admin", "Administrator", "admin", None, None)


def _request(values: list[dict[str, Any]]) -> PushRequest:
    return PushRequest.model_validate({
        "idempotency_key": f"bench-{uuid.uuid4().hex}", "template_version": DICTIONARY_VERSION,
        "rows": [{"op": "insert", "entity": "customer", "id": str(uuid.uuid4()), "values": v,
                  "row": i + 2} for i, v in enumerate(values)]})


def _pushes(n: int, prof: cProfile.Profile | None) -> list[float]:
    """CPU seconds of two pushes of ``n`` new customers into a fresh SQLite store."""
    dictionary = build_dictionary()
    out = []
    with bridge("sqlite", serve=False) as b:
        for k in range(2):
            req = _request(customers(n, start=k * n, seed=k + 7, tag="基"))
            c0 = time.process_time()
            if prof:
                prof.enable()
            res = push.push(b.db, dictionary, ADMIN, req, max_rows=10 * n)
            if prof:
                prof.disable()
            out.append(time.process_time() - c0)
            assert res.counts["applied"] == n, res.counts
    return out


def _part(stats: pstats.Stats, name: str, file: str) -> float:
    """Cumulative seconds of the function ``name`` defined in a file ending in ``file``."""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    return sum(v[3] for (f, _, fn), v in raw.items() if fn == name and f.endswith(file))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=10_000)
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    first, second = _pushes(args.rows, None)
    print(f"push of {args.rows:,} new customers: {first:.2f} s CPU into an empty store, "
          f"{second:.2f} s into one holding {args.rows:,}")
    prof = cProfile.Profile()
    _pushes(args.rows, prof)
    stats = pstats.Stats(prof)
    similar = _part(stats, "warn_similar", "checks.py")
    keys = _part(stats, "_match_keys", "write.py")
    print(f"under cProfile, both pushes: similar-record check {similar:.2f} s, "
          f"match keys (and profiles) written {keys:.2f} s")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
