"""Run a bridge app with uvicorn in a background thread on a free loopback port (tests,
benchmarks, embedding)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from bridge.app import create_app
from bridge.auth import add_user, issue_token
from bridge.db import Database, connect
from bridge.settings import Settings
from schema.dictionary import build_dictionary


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_in_thread(app: Any, timeout: float = 20.0, **config: Any) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 until the block ends; yields its base URL (``https``
    when ``config`` has ``ssl_certfile``). Forwarded headers are the app's business
    (``CRM_FORWARDED_ALLOW_IPS``), so uvicorn's own reading of them is off."""
    port = free_port()
    config = {"proxy_headers": False, **config}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off", **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError("the bridge did not start")
        time.sleep(0.02)
    try:
        scheme = "https" if config.get("ssl_certfile") else "http"
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def app_with_admin(settings: Settings) -> tuple[Any, Database, str]:
    """A bridge app on a fresh store plus an ``admin`` user's one-day token."""
    dictionary = build_dictionary()
    db = connect(settings, dictionary)
    app = create_app(settings, dictionary, db)
    with db.write() as conn:
        add_user(db, conn, "admin", "admin", None, None, "Administrator")
        token = issue_token(db, conn, "admin", days=1)
    return app, db, token
