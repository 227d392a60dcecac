"""Benchmark: reading a large legacy customer file for import (issue 10).

Writes a ``--rows`` customer table (default 200,000 rows, 10 columns: name, USCC, phone,
contact, mobile, e-mail, address, industry, created date, amount) below a title row, as
xlsx (XlsxWriter) and as GBK csv, then reads each in a fresh child process and prints its
wall and CPU seconds and peak RSS (VmHWM: the child's own, not its parent's):

- xlsx: ``addin.importing.files.read_tables`` (preflight scan + python-calamine + header),
  python-calamine alone, and openpyxl ``read_only`` ``values_only`` (the baseline);
- csv: ``read_tables`` (encoding and delimiter sniffed) and the stdlib csv module told the
  encoding and delimiter (the floor).

    python -m bench.bench_read [--rows 200000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import xlsxwriter

HEADER = ["客户名称", "统一社会信用代码", "电话", "联系人", "手机", "邮箱", "地址", "行业",
          "创建时间", "金额"]
CITIES = ["北京", "上海", "深圳", "广州", "杭州", "成都", "武汉", "南京", "苏州", "西安"]
TRADES = ["科技", "贸易", "实业", "物流", "医药", "信息技术", "网络科技", "机械"]


def rows(n: int, seed: int = 20261202) -> list[list[object]]:
    rnd = random.Random(seed)
    out: list[list[object]] = []
    for i in range(n):
        city = rnd.choice(CITIES)
        out.append([
            f"{city}恒{i}{rnd.choice(TRADES)}有限公司", f"91{rnd.randrange(10**15):016d}",
            f"0{rnd.randrange(10, 99)}-{rnd.randrange(10**7, 10**8)}",
            rnd.choice("张李王赵刘陈杨黄") + rnd.choice("伟娜芳敏静强磊军"),
            13800000000 + rnd.randrange(10**8), f"user{i}@example{i % 97}.cn",
            f"{city}市某区某路 {rnd.randrange(1, 999)} 号", rnd.choice(TRADES),
            dt.date(2015, 1, 1) + dt.timedelta(days=rnd.randrange(3650)),
            round(rnd.uniform(0, 10**6), 2),
        ])
    return out


def write_xlsx(path: Path, data: list[list[object]]) -> None:
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("客户")
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write(0, 0, "客户名单（旧系统导出）")
    ws.write_row(1, 0, HEADER)
    for r, row in enumerate(data, start=2):
        for c, v in enumerate(row):
            if isinstance(v, dt.date):
                ws.write_datetime(r, c, dt.datetime.combine(v, dt.time()), date_fmt)
            else:
                ws.write(r, c, v)
    wb.close()


def write_csv(path: Path, data: list[list[object]]) -> None:
    lines = [",".join(HEADER)] + [",".join(str(v) for v in row) for row in data]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))


READERS = {
    "read_tables": """
from pathlib import Path
from addin.importing.files import read_tables
t = read_tables(Path(PATH))
n = sum(len(x.rows) for x in t)
""",
    "calamine": """
from python_calamine import CalamineWorkbook
with CalamineWorkbook.from_path(PATH) as wb:
    n = sum(1 for _ in wb.get_sheet_by_index(0).iter_rows()) - 2
""",
    "openpyxl": """
import openpyxl
wb = openpyxl.load_workbook(PATH, read_only=True, data_only=True)
n = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True)) - 2
wb.close()
""",
    "csv module": """
import csv, io
with open(PATH, encoding="gbk", newline="") as fh:
    n = sum(1 for _ in csv.reader(fh)) - 1
""",
}

_CHILD = """
import json, sys, time
PATH = sys.argv[1]
t0, c0 = time.perf_counter(), time.process_time()
exec(sys.argv[2])
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"rows": n, "wall": wall, "cpu": cpu, "rss_mib": hwm / 1024}))
"""


def measure(reader: str, path: Path) -> dict[str, float]:
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path), READERS[reader]],
                         capture_output=True, text=True, check=True, cwd=root,
                         env={**os.environ, "PYTHONPATH": str(root)})
    return dict(json.loads(out.stdout))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=200_000)
    args = ap.parse_args()
    print(f"{platform.node()} {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
          f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    with tempfile.TemporaryDirectory(prefix="crm-read-") as tmp:
        data = rows(args.rows)
        t0 = time.perf_counter()
        xlsx, csv_path = Path(tmp) / "customers.xlsx", Path(tmp) / "customers.csv"
        write_xlsx(xlsx, data)
        write_csv(csv_path, data)
        mib = {p.suffix: f"{p.stat().st_size / 2**20:.1f} MiB" for p in (xlsx, csv_path)}
        print(f"wrote {args.rows} rows in {time.perf_counter() - t0:.1f} s: xlsx "
              f"{mib['.xlsx']}, csv {mib['.csv']}")
        print("| file | reader | rows | wall s | CPU s | peak RSS MiB |")
        print("|---|---|---|---|---|---|")
        for path, readers in ((xlsx, ("read_tables", "calamine", "openpyxl")),
                              (csv_path, ("read_tables", "csv module"))):
            for reader in readers:
                m = measure(reader, path)
                print(f"| {path.suffix[1:]} | {reader} | {int(m['rows'])} | {m['wall']:.2f} | "
                      f"{m['cpu']:.2f} | {m['rss_mib']:.0f} |", flush=True)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
