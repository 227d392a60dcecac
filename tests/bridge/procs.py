"""Run the bridge as a real subprocess (``uvicorn --factory bridge.app:app_from_env``) on a
loopback port, wait for ``/api/v1/health``, and kill it with SIGKILL.

The database is prepared in the calling process (tables, an admin user and token) so that
several bridge processes can share it without racing on schema creation.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from bridge.auth import add_user, issue_token
from bridge.db import Database, connect, create_schema
from bridge.server import free_port
from bridge.settings import Settings
from schema.dictionary import build_dictionary

REPO = Path(__file__).resolve().parents[2]




def prepare_database(settings: Settings, admin: str = "admin") -> str:
    """Create the tables and an admin user; returns the admin's token."""
    db = connect(settings, build_dictionary())
    try:
        create_schema(db, settings.database_schema)
        with db.write() as conn:
            add_user(db, conn, admin, "admin", None, None, "Administrator")
            return issue_token(db, conn, admin, days=1)
    finally:
        db.engine.dispose()


def open_db(settings: Settings) -> Database:
    """A direct connection to the bridge's database (for checks from the test side)."""
    return connect(settings, build_dictionary())


def bridge_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env["CRM_DATABASE_URL"] = settings.url()
    if settings.database_schema:
        env["CRM_DATABASE_SCHEMA"] = settings.database_schema
    env["CRM_MAX_BATCH_ROWS"] = str(settings.max_batch_rows)
    env["CRM_MAX_BODY_BYTES"] = str(settings.max_body_bytes)
    env["CRM_POOL_SIZE"] = str(settings.pool_size)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@dataclass
class BridgeProc:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return self.url + "/api/v1"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bridge exited with {self.proc.returncode}:\n{self.log()}")
            try:
                r = httpx.get(self.api + "/health", timeout=2)
                if r.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"bridge did not become healthy:\n{self.log()}")
            time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL (no clean shutdown), then reap."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log(self) -> str:
        if self._log is not None:
            self._log.flush()
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return ""


def start_bridge_proc(settings: Settings, log_dir: Path, *, port: int | None = None,
                      wait: bool = True) -> BridgeProc:
    """Start ``uvicorn --factory bridge.app:app_from_env`` on a loopback port."""
    port = port or free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"bridge-{port}-{time.monotonic_ns()}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed in kill()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "bridge.app:app_from_env",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
         "--no-access-log"],
        cwd=REPO, env=bridge_env(settings), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    bp = BridgeProc(proc, port, log_path, log)
    if wait:
        bp.wait_healthy()
    return bp
