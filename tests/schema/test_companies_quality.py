"""Matching quality on the generated labelled set, and blocking at a reduced scale.

Pairwise precision and recall against one-legal-entity answer keys (a branch is its own
entity), at the default thresholds; the exact-name baseline must do worse on recall, so the
test fails if matching degrades to comparing name keys.
"""

from __future__ import annotations

from functools import cache

from schema.matching import (
    BlockIndex,
    Clustering,
    blocking_keys,
    dedupe,
    profile,
    query_keys,
)
from schema.names import name_key
from tests.schema.labelled_companies import (
    LabelledRecord,
    existing_records,
    labelled_companies,
    pairwise_scores,
)


@cache
def _labelled() -> tuple[list[LabelledRecord], Clustering]:
    data = labelled_companies()
    return data, dedupe([r.record for r in data])


def test_the_labelled_set_is_large_deterministic_and_hard() -> None:
    data, _ = _labelled()
    assert len(data) >= 3000
    assert data == labelled_companies()
    assert sum(r.parent is not None for r in data) >= 100  # branches
    names = {r.record.name for r in data}
    assert any("\u3000" in n for n in names) and any("銷售部" in n or "貿" in n for n in names)


def test_precision_and_recall_at_the_default_threshold() -> None:
    data, result = _labelled()
    truth = [r.entity for r in data]
    precision, recall, _ = pairwise_scores(truth, result.cluster_of)
    assert precision >= 0.95, precision
    assert recall >= 0.90, recall
    exact = [hash(name_key(r.record.name)) for r in data]
    assert pairwise_scores(truth, exact)[1] < recall - 0.3  # names alone find far fewer


def test_branches_point_at_their_head_office() -> None:
    data, result = _labelled()
    entity_of_cluster = {}
    for r, c in zip(data, result.cluster_of, strict=True):
        entity_of_cluster.setdefault(c, r.entity)
    head_of = {r.entity: r.parent for r in data}
    right = sum(head_of.get(entity_of_cluster[child]) == entity_of_cluster[head]
                for child, head in result.parent.items())
    assert result.parent and right / len(result.parent) >= 0.9


def test_blocking_finds_the_pairs_among_many_stored_records() -> None:
    data, _ = _labelled()
    half = len(data) // 2
    stored = [profile(r) for r in existing_records(5_000)]
    stored += [profile(r.record) for r in data[:half]]
    entity = [-1] * 5_000 + [r.entity for r in data[:half]]
    index = BlockIndex()
    for i, p in enumerate(stored):
        index.add(i, blocking_keys(p))
    compared = found = wanted = 0
    for r in data[half:]:
        candidates = index.candidates(query_keys(profile(r.record)))
        compared += len(candidates)
        wanted += entity.count(r.entity)
        found += sum(entity[j] == r.entity for j in candidates)
    assert compared < 20 * (len(data) - half)  # blocking, not all pairs
    assert found >= 0.97 * wanted  # and the pairs that matter share a key
