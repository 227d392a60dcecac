"""A schemathesis run against a live bridge, counted and explained (used by the suite's
``test_schemathesis.py`` and by ``python -m bench.fuzz_api``).

Every operation of the bridge's own ``/openapi.json`` gets generated requests, valid and
invalid (positive and negative data, half and half), and every answer is checked against
what the document says: no 5xx, a documented status, the documented content type, body
schema and headers (errors included). Nothing stops at the first failure: each distinct
one (operation, check, status, code) is kept with its first example, the server's own
exception for a 500 (read from the bridge's log when it runs in this process), and a count.

Operations marked ``x-revokes-credentials`` in the document (revoking a user's tokens, and
any future rotation or deactivation) are left out of the main run, which uses an admin of
its own; ``fuzz_revoking`` runs them against throwaway users only, so the run cannot lock
itself out.
"""

from __future__ import annotations

import logging
import math
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup

from bridge.routes.responses import REVOKES_CREDENTIALS

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
REVOKES = next(iter(REVOKES_CREDENTIALS))
_REF = re.compile(r"reference ([0-9a-f]{12})")


@dataclass
class Finding:
    """One distinct failure, with its first example and how often it came back."""

    operation: str
    kind: str
    status: int
    code: str | None
    detail: str
    example: str
    count: int = 1

    def line(self) -> str:
        return (f"{self.operation} | {self.kind} | HTTP {self.status} {self.code or ''} | "
                f"{self.detail} ({self.count}x)\n    {self.example}")


@dataclass
class FuzzReport:
    """Cases sent, statuses seen and the distinct failures of one run."""

    label: str
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    per_operation: Counter[str] = field(default_factory=Counter)
    findings: dict[tuple[str, str, int, str | None, str], Finding] = field(default_factory=dict)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def add(self, finding: Finding) -> None:
        """Count ``finding``; a 500 is told apart by its exception (numbers aside)."""
        cause = re.sub(r"\d+", "N", finding.detail) if finding.status >= 500 else ""
        key = (finding.operation, finding.kind, finding.status, finding.code, cause)
        if key in self.findings:
            self.findings[key].count += 1
        else:
            self.findings[key] = finding

    def summary(self) -> str:
        head = (f"{self.label}: {self.cases} cases, {self.server_errors} answers of 5xx, "
                f"{len(self.findings)} distinct failures; statuses "
                f"{dict(sorted(self.statuses.items()))}")
        return "\n".join([head, *(f.line() for f in self.findings.values())])


class ServerLog(logging.Handler):
    """The bridge's logged exceptions by their reference (the ``ref`` of an INTERNAL)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.by_ref: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None and record.args:
            exc = record.exc_info[1]
            first = (str(exc).strip().splitlines() or [""])[0]
            self.by_ref[str(record.args[0])] = f"{type(exc).__name__}: {first}"[:300]

    def explain(self, resp: requests.Response) -> str:
        found = _REF.search(resp.text)
        return self.by_ref.get(found.group(1), "(not logged here)") if found else resp.text[:300]


@contextmanager
def server_log() -> Iterator[ServerLog]:
    handler = ServerLog()
    logger = logging.getLogger("crm.bridge")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def _code(resp: requests.Response) -> str | None:
    try:
        body = resp.json()
    except ValueError:
        return None
    err = body.get("error") if isinstance(body, dict) else None
    return str(err.get("code")) if isinstance(err, dict) else None


@dataclass
class Sender:
    """Sends cases as one signed-in client and records what came back."""

    url: str
    token: str
    report: FuzzReport
    log: ServerLog
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def curl(self, case: Any) -> str:
        return str(case.as_curl_command(base_url=self.url))[:600]

    def send(self, case: Any) -> None:
        label = case.operation.label
        try:
            resp = case.call(base_url=self.url, session=self.session, headers=self.headers,
                             timeout=60)
        except requests.RequestException as exc:  # e.g. a connection dropped after a 500
            self.report.add(Finding(label, "connection failed", 0, None,
                                    f"{type(exc).__name__}: {exc}"[:300], self.curl(case)))
            self.session = requests.Session()
            return
        self.report.cases += 1
        self.report.statuses[resp.status_code] += 1
        self.report.per_operation[label] += 1
        try:
            case.validate_response(resp, checks=CHECKS, headers=self.headers)
        except FailureGroup as group:
            detail = self.log.explain(resp) if resp.status_code >= 500 else ""
            for failure in group.exceptions:
                lines = failure.message.strip().splitlines()
                first = detail or (lines[0][:300] if lines else failure.title)
                self.report.add(Finding(label, failure.title, resp.status_code, _code(resp),
                                        first, self.curl(case)))


def _run(op: Any, examples: int, send: Callable[[Any], None], derandomize: bool) -> None:
    strategy = st.one_of(op.as_strategy(generation_mode=GenerationMode.POSITIVE),
                         op.as_strategy(generation_mode=GenerationMode.NEGATIVE))

    @settings(max_examples=examples, deadline=None, database=None, derandomize=derandomize,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def one(case: Any) -> None:
        send(case)

    one()


def takes_input(op: Any) -> bool:
    return bool(op.body or len(op.query) or len(op.path_parameters) or len(op.headers))


def load_operations(url: str, token: str) -> tuple[list[Any], list[Any]]:
    """The bridge's operations, split into (the main run's, the credential-revoking)."""
    schema = schemathesis.openapi.from_url(url + "/openapi.json",
                                           headers={"Authorization": f"Bearer {token}"})
    doc = requests.get(url + "/openapi.json", timeout=60).json()
    revoking = {(m.upper(), p) for p, ops in doc["paths"].items()
                for m, o in ops.items() if o.get(REVOKES)}
    ops = sorted((r.ok() for r in schema.get_all_operations()), key=lambda o: o.label)
    main = [o for o in ops if (o.method.upper(), o.path) not in revoking]
    return main, [o for o in ops if (o.method.upper(), o.path) in revoking]


def new_admin(url: str, token: str, prefix: str = "fuzz") -> tuple[str, str]:
    """A fresh admin (name, token) made with ``token``: the run's own credentials."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    resp = requests.post(url + "/api/v1/users", json={"username": name, "role": "admin"},
                         headers={"Authorization": f"Bearer {token}"}, timeout=60)
    resp.raise_for_status()
    return name, str(resp.json()["token"])


def still_signed_in(url: str, token: str) -> bool:
    resp = requests.get(url + "/api/v1/me", headers={"Authorization": f"Bearer {token}"},
                        timeout=60)
    return resp.status_code == 200


def fuzz(url: str, admin_token: str, cases: int, label: str, log: ServerLog,
         derandomize: bool = True, rounds: int = 1, deadline: float | None = None,
         progress: Callable[[FuzzReport], None] | None = None) -> FuzzReport:
    """At least ``cases`` generated requests over every operation except the revoking ones
    (shared evenly among those that take input; the others once), as a new admin.

    ``rounds`` > 1 (with ``derandomize=False``) visits every operation that many times with
    a share each, so a run stopped at ``deadline`` (``time.monotonic()``) still covers every
    operation; ``progress`` sees the report after each round."""
    _, token = new_admin(url, admin_token)
    main, _ = load_operations(url, token)
    with_input = [o for o in main if takes_input(o)]
    per_op = math.ceil(cases / max(1, len(with_input)) / rounds)
    sender = Sender(url, token, FuzzReport(label), log)
    for turn in range(rounds):
        for op in main:
            if takes_input(op) or turn == 0:
                _run(op, per_op if takes_input(op) else 1, sender.send, derandomize)
        if progress:
            progress(sender.report)
        if deadline is not None and time.monotonic() > deadline:
            break
    if not still_signed_in(url, token):
        sender.report.add(Finding("(run)", "the run lost its own credentials", 401, None,
                                  "an operation outside x-revokes-credentials revoked them",
                                  ""))
    return sender.report


def fuzz_revoking(url: str, admin_token: str, cases: int, label: str, log: ServerLog,
                  derandomize: bool = True) -> FuzzReport:
    """The credential-revoking operations, aimed only at throwaway users: a generated name
    of a real user is swapped for a throwaway one, and every other case names one."""
    me, token = new_admin(url, admin_token, "fuzzrev")
    throwaway = [new_admin(url, token, "throwaway")[0] for _ in range(3)]
    protected = {me, "admin", *(u["username"] for u in requests.get(
        url + "/api/v1/users", headers={"Authorization": f"Bearer {token}"},
        timeout=60).json())} - set(throwaway)
    _, revoking = load_operations(url, token)
    sender = Sender(url, token, FuzzReport(label), log)
    turn = Counter[str]()

    def aimed(case: Any) -> None:
        turn["n"] += 1
        for name, value in list((case.path_parameters or {}).items()):
            if value in protected or (name == "username" and turn["n"] % 2):
                case.path_parameters[name] = throwaway[turn["n"] % len(throwaway)]
        sender.send(case)

    for op in revoking:
        _run(op, max(1, cases // max(1, len(revoking))), aimed, derandomize)
    for name, held in ((me, token), ("admin", admin_token)):
        if not still_signed_in(url, held):
            sender.report.add(Finding("(run)", "the run revoked credentials it must not",
                                      401, None, name, ""))
    return sender.report
