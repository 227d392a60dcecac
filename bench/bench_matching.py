"""Benchmark: company matching quality and blocking at scale.

Quality: on the generated labelled set (tests/schema/labelled_companies.py), pairwise
precision, recall and F1 against one-legal-entity answer keys (branches their own entity)
and the time, for ``schema.matching.dedupe`` at its default thresholds beside two baselines
in the same run: equal name keys (``schema.names.name_key``), and a plain rapidfuzz
``fuzz.ratio >= 90`` over the name keys of all pairs (union-find of the matches).

Scale: ``--existing`` stored customers are parsed and indexed under their blocking keys;
``--source`` new rows (a tenth of them re-typed stored names) look up their candidates and
every candidate pair is scored. Times and the growth of the process's peak RSS are printed.

    python -m bench.bench_matching                       # quality + 20,000 against 100,000
    python -m bench.bench_matching --source 200000 --existing 1000000
    python -m bench.bench_matching --skip-scale
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import time
from collections.abc import Callable

from rapidfuzz import fuzz, process

from schema.matching import BlockIndex, blocking_keys, compare, dedupe, profile, query_keys
from schema.matching.match import CompanyRecord
from schema.names import name_key
from tests.schema.labelled_companies import existing_records, labelled_companies, pairwise_scores


def _union_find(n: int, pairs: list[tuple[int, int]]) -> list[int]:
    roots = list(range(n))

    def find(i: int) -> int:
        while roots[i] != i:
            roots[i] = roots[roots[i]]
            i = roots[i]
        return i

    for i, j in pairs:
        roots[find(j)] = find(i)
    return [find(i) for i in range(n)]


def exact_name(records: list[CompanyRecord]) -> list[int]:
    """Baseline: one cluster per name key."""
    ids: dict[str, int] = {}
    return [ids.setdefault(name_key(r.name), len(ids)) for r in records]


def fuzzy_ratio(records: list[CompanyRecord]) -> list[int]:
    """Baseline: ``fuzz.ratio >= 90`` on name keys, all pairs, union-find."""
    keys = [name_key(r.name) for r in records]
    scores = process.cdist(keys, keys, scorer=fuzz.ratio, score_cutoff=90, dtype="uint8",
                           workers=1)
    pairs = [(int(i), int(j)) for i, j in zip(*scores.nonzero(), strict=True) if i < j]
    return _union_find(len(records), pairs)


def matcher(records: list[CompanyRecord]) -> list[int]:
    """schema.matching at its default thresholds."""
    return dedupe(records).cluster_of


def quality() -> None:
    data = labelled_companies()
    records = [r.record for r in data]
    truth = [r.entity for r in data]
    entities = len(set(truth))
    print(f"labelled set: {len(data):,} records, {entities:,} legal entities, "
          f"{sum(r.parent is not None for r in data):,} branch rows")
    print(f"{'method':<28}{'precision':>10}{'recall':>9}{'F1':>8}{'CPU s':>9}")
    methods: list[tuple[str, Callable[[list[CompanyRecord]], list[int]]]] = [
        ("exact name key", exact_name), ("fuzz.ratio >= 90", fuzzy_ratio),
        ("schema.matching", matcher)]
    for label, method in methods:
        start = time.process_time()
        predicted = method(records)
        elapsed = time.process_time() - start
        p, r, f1 = pairwise_scores(truth, predicted)
        print(f"{label:<28}{p:>10.3f}{r:>9.3f}{f1:>8.3f}{elapsed:>9.2f}")


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _source_rows(count: int, stored: list[CompanyRecord]) -> list[CompanyRecord]:
    """New rows: nine in ten new companies, one in ten a stored one re-typed."""
    rng = random.Random(7)
    rows = list(existing_records(count - count // 10, seed=99))
    for record in rng.sample(stored, count // 10):
        rows.append(CompanyRecord(name=record.name.replace("有限公司", "公司") + " 销售部",
                                  phone=record.phone.replace("-", " ")))
    return rows


def scale(source_count: int, existing_count: int) -> None:
    rss0 = _rss_mib()
    start = time.perf_counter()
    stored_records = list(existing_records(existing_count))
    generated = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    index = BlockIndex()
    stored = []
    for i, record in enumerate(stored_records):
        p = profile(record)
        stored.append(p)
        index.add(i, blocking_keys(p))
    built, built_cpu = time.perf_counter() - start, time.process_time() - cpu
    rss1 = _rss_mib()
    rows = _source_rows(source_count, stored_records)
    start, cpu = time.perf_counter(), time.process_time()
    compared = same = 0
    for record in rows:
        p = profile(record)
        for j in index.candidates(query_keys(p)):
            compared += 1
            same += compare(p, stored[j]).decision == "same"
    scored, scored_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"scale: {source_count:,} source rows against {existing_count:,} stored "
          f"(generated in {generated:.1f} s)")
    print(f"  index: {len(index.blocks):,} keys, built (parse + keys) in {built:.1f} s "
          f"({built_cpu:.1f} s CPU), "
          f"peak RSS +{rss1 - rss0:,.0f} MiB")
    print(f"  lookup + scoring: {compared:,} candidate pairs ({compared / len(rows):.1f} a row), "
          f"{same:,} same, in {scored:.1f} s ({scored_cpu:.1f} s CPU, "
          f"{len(rows) / scored_cpu:,.0f} rows/CPU-s); "
          f"peak RSS {_rss_mib():,.0f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=int, default=20_000)
    ap.add_argument("--existing", type=int, default=100_000)
    ap.add_argument("--skip-scale", action="store_true")
    args = ap.parse_args()
    print(f"{platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    quality()
    if not args.skip_scale:
        scale(args.source, args.existing)


if __name__ == "__main__":
    main()
