"""Benchmark: what rate limiting costs per request (issue 19, throttling).

One bridge (in a thread of this process, so the limits can be switched on and off between
rounds of the same run), ``--clients`` concurrent clients, each with its own token: rounds
of ``--requests`` requests alternate between limits on (the defaults: every request one
upsert of its token's and its address's window) and off (every count 0). Reported: the
median requests per second of each, and the cost per request in microseconds, for
``GET /me`` (the cheapest signed-in route: the largest share) and an incremental
``GET /pull`` with nothing new (it writes its audit entry and pull-log row).

    python -m bench.bench_limits --backend both --rounds 6 --requests 400
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bench.common import Bench, bridge
from bridge import limits
from bridge.auth import authenticate

DEFAULTS = ("rate_token_requests", "rate_role_requests", "rate_address_requests")


def _switch(b: Bench, on: bool, saved: dict[str, object]) -> None:
    for name in DEFAULTS:
        setattr(b.settings, name, saved[name] if on else ({} if name == "rate_role_requests"
                                                           else 0))
    if on:  # nobody may hit a limit in the run: lift it, keep the counting
        b.settings.rate_token_requests = b.settings.rate_address_requests = 10**9
        b.settings.rate_role_requests = {}


def _round(b: Bench, tokens: list[str], path: str, params: dict[str, int], n: int) -> float:
    per = n // len(tokens)

    def run(tok: str) -> int:
        with httpx.Client(base_url=b.url + "/api/v1", timeout=60,
                          headers={"Authorization": f"Bearer {tok}"}) as c:
            return sum(c.get(path, params=params).status_code == 200 for _ in range(per))

    t = time.perf_counter()
    with ThreadPoolExecutor(len(tokens)) as pool:
        ok = sum(pool.map(run, tokens))
    rate = per * len(tokens) / (time.perf_counter() - t)
    assert ok == per * len(tokens), f"{per * len(tokens) - ok} requests failed"
    return rate


def _latency(b: Bench, token: str, path: str, params: dict[str, int], n: int) -> float:
    """Median milliseconds of ``n`` requests one after the other (one client)."""
    times = []
    with httpx.Client(base_url=b.url + "/api/v1", timeout=60,
                      headers={"Authorization": f"Bearer {token}"}) as c:
        for _ in range(n):
            t = time.perf_counter()
            c.get(path, params=params).raise_for_status()
            times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def direct(b: Bench, token: str, n: int) -> tuple[float, float]:
    """Median microseconds of what ``deps.current_user`` does without and with the count
    (no HTTP: the share of the limits in a request, less noise on a busy machine)."""
    user = None

    def auth_only() -> None:
        nonlocal user
        with b.db.engine.connect() as conn:
            user = authenticate(b.db, conn, token)

    def auth_count() -> None:
        with b.db.engine.connect() as conn:
            u = authenticate(b.db, conn, token)
            limits.count(b.db, conn, b.settings, u, token, "127.0.0.1")

    out = []
    for fn in (auth_only, auth_count):
        fn()
        times = []
        for _ in range(n):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        out.append(statistics.median(times) * 1e6)
    return out[0], out[1]


def measure(backend: str, rounds: int, requests: int, clients: int) -> None:
    with bridge(backend, process=False) as b:
        saved = {name: getattr(b.settings, name) for name in DEFAULTS}
        with b.client() as c:
            tokens = [c.post("/users", json={"username": f"u{i}", "role": "sales"})
                      .json()["token"] for i in range(clients)]
            cursor = c.get("/pull").json()["cursor"]
        _switch(b, True, saved)
        plain, counted = direct(b, tokens[0], requests)
        print(f"{backend:8} in process: authenticate {plain:.0f} us, authenticate + count "
              f"{counted:.0f} us ({counted - plain:+.0f} us per request)")
        for path, params in (("/me", {}), ("/pull", {"since": cursor})):
            rates: dict[bool, list[float]] = {True: [], False: []}
            lat: dict[bool, list[float]] = {True: [], False: []}
            _round(b, tokens, path, params, clients * 10)  # warm up
            for i in range(rounds * 2):
                on = i % 2 == 0
                _switch(b, on, saved)
                rates[on].append(_round(b, tokens, path, params, requests))
                lat[on].append(_latency(b, tokens[0], path, params, requests // 4))
            on_rate, off_rate = (statistics.median(rates[k]) for k in (True, False))
            on_ms, off_ms = (statistics.median(lat[k]) for k in (True, False))
            print(f"{backend:8} GET {path:5} {clients} clients: limits off {off_rate:6.0f} "
                  f"req/s, on {on_rate:6.0f} req/s ({(1 - on_rate / off_rate) * 100:+.1f}%); "
                  f"one client: median {off_ms:.2f} ms off, {on_ms:.2f} ms on "
                  f"({(on_ms - off_ms) * 1000:+.0f} us per request)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="sqlite")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--clients", type=int, default=4)
    args = ap.parse_args()
    for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        measure(backend, args.rounds, args.requests, args.clients)


if __name__ == "__main__":
    main()
