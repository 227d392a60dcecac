"""Benchmark: what a password costs (issue 15, password sign-in).

1. One argon2id hash and one verify with the bridge's parameters (``bridge.passwords.HASHER``)
   beside argon2-cffi's defaults (the baseline: 64 MiB, 3 passes, 4 lanes), medians.
2. ``POST /api/v1/auth/token`` against a live bridge (in a thread of this process, the
   throttle lifted for the run): the median answer time of a right password, a wrong one,
   a name that is no user and a user without a password. The last three must not differ by
   more than noise: the answer's timing must not tell which names exist.
3. Sign-ins per second with ``--clients`` concurrent clients (wrong passwords).

    python -m bench.bench_passwords --backend both --rounds 40
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
from argon2 import PasswordHasher

from bench.common import bridge
from bridge.passwords import CONCURRENT, HASHER, set_password

PASSWORD = "correct horse battery"


def _median_ms(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def hashes(rounds: int) -> None:
    for label, ph in (("bridge", HASHER), ("argon2-cffi default", PasswordHasher())):
        digest = ph.hash(PASSWORD)
        h = _median_ms(lambda ph=ph: ph.hash(PASSWORD), rounds)
        v = _median_ms(lambda ph=ph, d=digest: ph.verify(d, PASSWORD), rounds)
        print(f"{label:22} m={ph.memory_cost // 1024} MiB t={ph.time_cost} "
              f"p={ph.parallelism}: hash {h:6.1f} ms, verify {v:6.1f} ms")


def sign_ins(backend: str, rounds: int, clients: int) -> None:
    with bridge(backend, process=False) as b:
        b.settings.signin_failures, b.settings.signin_address_failures = 10**9, 0
        with b.client() as c:
            for name in ("amy", "tokens_only"):
                c.post("/users", json={"username": name, "role": "sales"}).raise_for_status()
        with b.db.write() as conn:
            set_password(b.db, conn, "amy", PASSWORD)
        url = b.url + "/api/v1/auth/token"
        with httpx.Client(timeout=60) as http:
            def send(user: str, pw: str) -> Callable[[], object]:
                return lambda: http.post(url, json={"username": user, "password": pw})

            send("amy", "warm-up")()
            cases = {"right password (201)": send("amy", PASSWORD),
                     "wrong password (401)": send("amy", "wrong guess"),
                     "unknown user (401)": send("nobody_here", "wrong guess"),
                     "user without password (401)": send("tokens_only", "wrong guess")}
            for label, fn in cases.items():
                print(f"{backend:8} {label:28} median {_median_ms(fn, rounds):6.1f} ms")

        def one(_: int) -> int:
            with httpx.Client(timeout=60) as http:
                return http.post(url, json={"username": "amy", "password": "x"}).status_code

        n = rounds * clients
        t = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            statuses = list(pool.map(one, range(n)))
        rate = n / (time.perf_counter() - t)
        print(f"{backend:8} {clients} clients: {rate:.0f} wrong sign-ins/s "
              f"({statuses.count(401)}/{n} answered 401; {CONCURRENT} hashes at once)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="sqlite")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--clients", type=int, default=8)
    args = ap.parse_args()
    hashes(args.rounds)
    for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        sign_ins(backend, args.rounds, args.clients)


if __name__ == "__main__":
    main()
