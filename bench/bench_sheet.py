"""Workbook benchmarks: pull and push through the ``crm-sheet`` CLI against a real bridge, each
beside the bridge-only figure (HTTP alone) and a plain openpyxl baseline (the file part).

    python -m bench.bench_sheet --backend sqlite|postgres|both
        [--pull-rows 100000] [--push-rows 10000] [--repeat 1] [--only pull,push]

The CLI is run in process: ``addin.cli.app`` (the typer app behind ``crm-sheet``) is called
with the same arguments a user types (``new BOOK --server URL``, ``pull BOOK --token T``,
``push BOOK --token T``), so everything from argument parsing to the atomic save is timed,
Python start-up and imports excepted. Where the time goes is recorded by wrapping the steps
of ``addin.commands`` (see :func:`instrumented`), which costs a few function calls.

1. pull: N customers bulk-loaded, then ``crm-sheet new`` + ``crm-sheet pull`` into a fresh
   .xlsm. Beside: (a) bridge only: ``GET /pull`` (all entities, as the add-in asks), JSON
   parsed with orjson; (b) file only: a plain openpyxl ``Workbook()``, ``ws.append`` of the
   same N rows x the same columns as the pulled customer sheet, ``save`` to .xlsx (and the
   same in ``write_only`` mode, the fastest openpyxl can write).
2. push: M customers bulk-loaded into two identical databases (same ids, same rows), pulled
   into a workbook with the CLI, 2-3 cells per row edited with openpyxl (intent, notes and,
   on every other row, status; enum cells get labels, as the dropdown gives), saved, then
   ``crm-sheet push``. Beside: (a) bridge only: the very request body the CLI sent, POSTed
   to the twin database's bridge (fresh idempotency key), response parsed with orjson;
   (b) file only: ``openpyxl.load_workbook`` of the edited workbook and reading every cell
   of every sheet (``iter_rows(values_only=True)``).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import orjson

from addin import commands
from addin import port_openpyxl as port_mod
from addin.cli import app
from addin.client import BridgeClient
from addin.port_openpyxl import OpenpyxlPort
from addin.sheets import to_cell
from bench.common import CUSTOMER, Bench, bridge, bulk_load, customers, db_rows, fmt_s, median
from schema.enums import CUSTOMER_STATUS, INTENT
from schema.layout import FIRST_DATA_ROW, META_SHEET
from schema.sql import table_name

STEPS = ("open", "read", "http", "validate", "write", "save")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- timing the CLI's steps -------------------------------------------------------------------


@dataclass
class Steps:
    """Seconds spent per step while :func:`instrumented` is active."""

    times: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    pushed: list[bytes] = field(default_factory=list)  # bodies the CLI POSTed to /push
    inside: bool = False

    def line(self, total: float) -> str:
        parts = [f"{k} {fmt_s(self.times[k])}" for k in STEPS if self.times.get(k)]
        rest = total - sum(self.times.values())
        return ", ".join([*parts, f"other {fmt_s(rest)}"])


def _timer(steps: Steps, step: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        if steps.inside:  # nested steps count for the outermost one
            return fn(*args, **kwargs)
        steps.inside = True
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            steps.times[step] += time.perf_counter() - t0
            steps.inside = False
    return run


@contextmanager
def instrumented() -> Iterator[Steps]:
    """Time the steps of ``commands.pull``/``push`` by wrapping them in place:

    open: safety check + ``openpyxl.load_workbook`` (file -> cells); read: ``commands.load``
    (cells -> DataFrames); http: ``/me``, ``/pull``, ``/push`` with pydantic parsing;
    validate: conflicts, ``analyse_all`` (parse, validate, hash, classify) and
    ``merge_pull``; write: ``finish`` and ``write_meta`` (DataFrames -> cells, marks,
    ``_base``, lists); save: ``OpenpyxlPort.save`` (cells -> zip, atomic replace)."""
    steps = Steps()
    originals: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, name: str, step: str, static: bool = False) -> None:
        fn = owner.__dict__[name] if static else getattr(owner, name)
        originals.append((owner, name, fn))
        inner = fn.__func__ if static else fn
        timed = _timer(steps, step, inner)
        setattr(owner, name, staticmethod(timed) if static else timed)

    def push_and_keep(self: BridgeClient, req: Any) -> Any:
        steps.pushed.append(req.model_dump_json(exclude_none=True).encode("utf-8"))
        return original_push(self, req)

    original_push = BridgeClient.push
    BridgeClient.push = push_and_keep  # type: ignore[method-assign]
    originals.append((BridgeClient, "push", original_push))
    try:
        wrap(port_mod, "check_workbook_file", "open")
        wrap(OpenpyxlPort, "_load", "open", static=True)
        wrap(OpenpyxlPort, "save", "save")
        wrap(OpenpyxlPort, "write_meta", "write")
        wrap(commands, "load", "read")
        for name in ("resolve_conflicts", "analyse_all", "hold_conflicts", "merge_pull"):
            wrap(commands, name, "validate")
        wrap(commands, "finish", "write")
        for name in ("me", "pull", "push"):
            wrap(BridgeClient, name, "http")
        yield steps
    finally:
        for owner, name, fn in reversed(originals):
            setattr(owner, name, fn)


def cli(*args: str) -> None:
    """``crm-sheet ARGS`` in process; raises unless it exits 0."""
    with redirect_stdout(sys.stderr):  # its messages, not the figures
        code = app(list(args), standalone_mode=False, prog_name="crm-sheet")
    if code not in (None, 0):
        raise RuntimeError(f"crm-sheet {' '.join(args[:1])} exited with {code}")


def cli_timed(*args: str) -> tuple[float, Steps]:
    with instrumented() as steps:
        t0 = time.perf_counter()
        cli(*args)
        return time.perf_counter() - t0, steps


# --- data ---------------------------------------------------------------------------------------


def load_customers(b: Bench, rows: list[tuple[Any, ...]]) -> None:
    chunk = 100_000
    for start in range(0, len(rows), chunk):
        bulk_load(b, rows[start:start + chunk], set_counter=2)
    with b.raw() as conn:
        conn.execute("ANALYZE")
        conn.commit()


def make_rows(n: int, seed: int) -> list[tuple[Any, ...]]:
    random.seed(seed)  # db_rows draws the ids from the module generator
    out: list[tuple[Any, ...]] = []
    for start in range(0, n, 100_000):
        out += db_rows(customers(min(100_000, n - start), start=start, seed=start + 11),
                       seq_of=lambda i: 1)
    return out


def customer_sheet(wb: Any) -> Any:
    meta = {r[0]: r[1] for r in wb[META_SHEET].iter_rows(min_row=2, values_only=True)}
    name = next(k[6:] for k, v in meta.items() if k and k.startswith("sheet:")
                and v == "customer")
    return wb[name]


def sheet_rows(path: Path) -> list[tuple[Any, ...]]:
    """Every row of the pulled customer sheet (keys, headers, data), as values."""
    wb = openpyxl.load_workbook(path, keep_vba=True)
    try:
        return [tuple(r) for r in customer_sheet(wb).iter_rows(values_only=True)]
    finally:
        wb.close()


def _get_pull(c: Any) -> dict[str, Any]:
    r = c.get("/pull")  # all entities, as the add-in asks
    r.raise_for_status()
    return dict(orjson.loads(r.content))


# --- 1. pull ------------------------------------------------------------------------------------


def plain_write(rows: list[tuple[Any, ...]], path: Path, write_only: bool) -> float:
    t0 = time.perf_counter()
    wb = openpyxl.Workbook(write_only=write_only)
    ws = wb.create_sheet("customers") if write_only else wb.active
    for r in rows:
        ws.append(r)
    wb.save(path)
    return time.perf_counter() - t0


@dataclass
class Result:
    backend: str
    name: str
    cli: float
    bridge: float
    bridge_name: str
    file: float
    file_name: str
    steps: str
    extra: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"| {self.backend} | {self.name} | {fmt_s(self.cli)} | {fmt_s(self.bridge)} "
                f"| {self.cli / self.bridge:.1f}x | {fmt_s(self.file)} | "
                f"{self.cli / self.file:.1f}x | {fmt_s(self.bridge + self.file)} | "
                f"{self.cli / (self.bridge + self.file):.2f}x |")


def bench_pull(backend: str, n: int, repeat: int, tmp: Path) -> Result:
    with bridge(backend) as b, b.client() as c:
        log(f"[{backend}] pull: {n:,} customers")
        t0 = time.perf_counter()
        load_customers(b, make_rows(n, seed=1))
        log(f"  bulk-loaded in {fmt_s(time.perf_counter() - t0)}")
        cli_times, steps_lines, new_times, http_times = [], [], [], []
        book = tmp / "pull.xlsm"
        for k in range(repeat):
            book.unlink(missing_ok=True)
            t_new, _ = cli_timed("new", str(book), "--server", b.url)
            t, steps = cli_timed("pull", str(book), "--token", b.token)
            cli_times.append(t_new + t)
            new_times.append(t_new)
            steps_lines.append(f"new {fmt_s(t_new)}; pull: " + steps.line(t))
            log(f"  round {k}: crm-sheet new {fmt_s(t_new)} + pull {fmt_s(t)} "
                f"({steps.line(t)}), file {book.stat().st_size / 2**20:.1f} MiB")
            ht, res = _run(lambda: _get_pull(c))
            assert len(res["entities"]["customer"]["data"]["id"]) == n
            http_times.append(ht)
            log(f"  round {k}: GET /pull {fmt_s(ht)}")
        rows = sheet_rows(book)
        assert len(rows) == n + FIRST_DATA_ROW - 1, len(rows)
        width = max(len(r) for r in rows)
        plain_times, wo_times = [], []
        for k in range(repeat):
            plain_times.append(plain_write(rows, tmp / "plain.xlsx", write_only=False))
            wo_times.append(plain_write(rows, tmp / "plain-wo.xlsx", write_only=True))
            log(f"  round {k}: openpyxl append+save {fmt_s(plain_times[-1])}, write_only "
                f"{fmt_s(wo_times[-1])}")
        i = cli_times.index(median(cli_times)) if repeat % 2 else 0
        return Result(backend, f"pull {n:,} customers (new + pull)", median(cli_times),
                      median(http_times), "GET /pull", median(plain_times),
                      f"openpyxl append+save {n:,}x{width}", steps_lines[i],
                      [f"openpyxl write_only append+save {fmt_s(median(wo_times))}"])


def _run(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


# --- 2. push ------------------------------------------------------------------------------------


def edit_like_a_user(path: Path, seed: int = 3) -> int:
    """Change intent and notes on every row, status on every other one (labels, as picked
    from the dropdowns); returns the number of rows edited."""
    rnd = random.Random(seed)
    intent = [to_cell(c, CUSTOMER.field("intent"), "zh") for c in INTENT.codes()]
    status = [to_cell(c, CUSTOMER.field("status"), "zh") for c in CUSTOMER_STATUS.codes()]
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = customer_sheet(wb)
    keys = {cell.value: cell.column for cell in ws[1] if cell.value}
    n = 0
    for r in range(FIRST_DATA_ROW, ws.max_row + 1):
        if ws.cell(row=r, column=keys["_id"]).value is None:
            continue
        cur = ws.cell(row=r, column=keys["intent"])
        cur.value = rnd.choice([v for v in intent if v != cur.value])
        ws.cell(row=r, column=keys["notes"]).value = f"第1轮回访：客户{r}确认预算"
        if r % 2:
            st = ws.cell(row=r, column=keys["status"])
            st.value = rnd.choice([v for v in status if v != st.value])
        n += 1
    wb.save(path)
    return n


def plain_read(path: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    wb = openpyxl.load_workbook(path, keep_vba=True)
    cells = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            cells += len(row)
    t = time.perf_counter() - t0
    wb.close()
    return t, cells


def bench_push(backend: str, n: int, tmp: Path) -> Result:
    rows = make_rows(n, seed=2)
    with ExitStack() as stack:
        b = stack.enter_context(bridge(backend))
        twin = stack.enter_context(bridge(backend))
        c = stack.enter_context(twin.client())
        log(f"[{backend}] push: {n:,} edited customers")
        load_customers(b, rows)
        load_customers(twin, rows)
        book = tmp / "push.xlsm"
        book.unlink(missing_ok=True)
        cli("new", str(book), "--server", b.url)
        t_pull, _ = cli_timed("pull", str(book), "--token", b.token)
        t_edit, edited = _run(lambda: edit_like_a_user(book))
        assert edited == n, edited
        log(f"  crm-sheet pull {fmt_s(t_pull)}; openpyxl edit of {n:,} rows {fmt_s(t_edit)}")
        t_read, cells = plain_read(book)
        log(f"  openpyxl load + read {cells:,} cells {fmt_s(t_read)}")
        t, steps = cli_timed("push", str(book), "--token", b.token)
        log(f"  crm-sheet push {fmt_s(t)} ({steps.line(t)})")
        bodies = [orjson.loads(x) for x in steps.pushed]  # the CLI sends 5,000 rows a batch
        assert sum(len(x["rows"]) for x in bodies) == n
        assert all(r["op"] == "update" for x in bodies for r in x["rows"])
        with b.raw() as conn:
            cur = conn.cursor()
            cur.execute(f"SELECT count(*) FROM {table_name('customer')} WHERE version = 2")
            assert cur.fetchone()[0] == n
            conn.rollback()
        payloads = [orjson.dumps({**x, "idempotency_key": f"bench-{uuid.uuid4().hex}"})
                    for x in bodies]

        def post() -> int:
            applied = 0
            for payload in payloads:
                r = c.post("/push", content=payload,
                           headers={"Content-Type": "application/json"})
                r.raise_for_status()
                applied += orjson.loads(r.content)["counts"]["applied"]
            return applied

        t_http, applied = _run(post)
        assert applied == n, applied
        log(f"  POST /push of the same {n:,} updates ({len(payloads)} bodies) {fmt_s(t_http)}")
        return Result(backend, f"push {n:,} edited customers", t, t_http, "POST /push",
                      t_read, "openpyxl load+read", steps.line(t),
                      [f"setup: crm-sheet pull {fmt_s(t_pull)}, openpyxl edit+save "
                       f"{fmt_s(t_edit)}"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--pull-rows", type=int, default=100_000)
    p.add_argument("--push-rows", type=int, default=10_000)
    p.add_argument("--repeat", type=int, default=1, help="rounds of the pull figures (median)")
    p.add_argument("--only", default="pull,push")
    a = p.parse_args(argv)
    only = set(a.only.split(","))
    backends = ["sqlite", "postgres"] if a.backend == "both" else [a.backend]
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="crm-bench-sheet-") as tmp:
        for backend in backends:
            if "pull" in only:
                results.append(bench_pull(backend, a.pull_rows, a.repeat, Path(tmp)))
            if "push" in only:
                results.append(bench_push(backend, a.push_rows, Path(tmp)))
    print("| backend | benchmark | CLI | bridge only | CLI / bridge | file only (openpyxl) "
          "| CLI / file | bridge + file | CLI / (bridge + file) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(r.line())
    print()
    for r in results:
        print(f"- {r.backend}, {r.name}: bridge only = {r.bridge_name}; file only = "
              f"{r.file_name}; CLI steps: {r.steps}" + "".join(f"; {x}" for x in r.extra))
    return 0


if __name__ == "__main__":
    sys.exit(main())
