"""A small asyncio TCP proxy on loopback that can cut a connection mid-request or
mid-response, to test that retried pushes are applied exactly once.

Each accepted client connection asks ``policy()`` for an action:

* ``("pass", 0)``: forward both ways untouched;
* ``("cut_request", f)``: forward only the first ``f`` (0 < f < 1) of the HTTP request
  (headers + Content-Length body), then drop both sides: the server never sees a whole
  request;
* ``("cut_response", f)``: forward the whole request, then only the first ``f``
  (0 <= f < 1) of the response, then drop both sides: the server applied the request but
  the client never sees the whole answer.

Use one TCP connection per request on the client (no keep-alive) so each request meets
its own action.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from collections.abc import Callable

Action = tuple[str, float]


def random_policy(rng: random.Random, p_request: float = 0.3, p_response: float = 0.35
                  ) -> Callable[[], Action]:
    def policy() -> Action:
        x = rng.random()
        if x < p_request:
            return ("cut_request", rng.uniform(0.01, 0.99))
        if x < p_request + p_response:
            return ("cut_response", rng.choice([0.0, rng.uniform(0.0, 0.99)]))
        return ("pass", 0.0)
    return policy


def _message_length(buf: bytes) -> int | None:
    """Total length of the HTTP message starting ``buf`` once its headers are complete."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    length = 0
    for line in buf[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return end + 4 + length


class CuttingProxy:
    def __init__(self, upstream_port: int, policy: Callable[[], Action],
                 upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.policy = policy
        self.stats: Counter[str] = Counter()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> CuttingProxy:
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        fut.result(10)
        return self

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def _stop() -> None:
            if self._server is not None:
                self._server.close()
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in others:
                t.cancel()
            await asyncio.gather(*others, return_exceptions=True)
        asyncio.run_coroutine_threadsafe(_stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> CuttingProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _handle(self, cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        with self._lock:
            kind, frac = self.policy()
        self.stats[kind] += 1
        try:
            ur, uw = await asyncio.open_connection(*self.upstream)
        except OSError:
            self.stats["upstream_refused"] += 1
            cw.transport.abort()
            return
        cut = asyncio.Event()

        def drop() -> None:
            cut.set()
            cw.transport.abort()
            uw.transport.abort()

        async def c2s() -> None:
            buf, sent, limit = b"", 0, None
            while not cut.is_set():
                data = await cr.read(65536)
                if not data:
                    if uw.can_write_eof():
                        uw.write_eof()
                    return
                if kind == "cut_request":
                    buf += data
                    if limit is None:
                        total = _message_length(buf)
                        if total is None:
                            continue  # wait for the whole header block
                        limit = max(1, min(total - 1, int(total * frac)))
                        data = buf
                    if sent + len(data) >= limit:
                        uw.write(data[:limit - sent])
                        await uw.drain()
                        await asyncio.sleep(0.005)
                        self.stats["cut_request_done"] += 1
                        drop()
                        return
                uw.write(data)
                sent += len(data)
                await uw.drain()

        async def s2c() -> None:
            buf, sent, limit = b"", 0, None
            while not cut.is_set():
                data = await ur.read(65536)
                if not data:
                    cw.transport.close()
                    return
                if kind == "cut_response":
                    buf += data
                    if limit is None:
                        total = _message_length(buf)
                        if total is None:
                            continue
                        limit = min(total - 1, int(total * frac))
                        data = buf
                    if sent + len(data) > limit:
                        if limit > sent:
                            cw.write(data[:limit - sent])
                            await cw.drain()
                        self.stats["cut_response_done"] += 1
                        drop()
                        return
                cw.write(data)
                sent += len(data)
                await cw.drain()

        tasks = [asyncio.ensure_future(c2s()), asyncio.ensure_future(s2c())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.ALL_COMPLETED, timeout=120)
        except (Exception, asyncio.CancelledError):  # a broken pipe or stop() ends the pair
            pass
        finally:
            for t in tasks:
                if not t.done():
                    t.cancel()
                elif not t.cancelled() and t.exception() is not None:
                    self.stats["pump_error"] += 1
            cw.transport.abort()
            uw.transport.abort()
