"""Pairwise matching of company records, blocking keys, and clustering into legal entities.

A pair is scored from its signals; each signal found is a reason:

=================  ======  ==========================================================
reason             weight  when
=================  ======  ==========================================================
same_uscc          1.0     both USCCs valid and equal: an identity, decides ``same``
name_equal         0.6     stems, industries and branches agree, regions compatible
name_partial       0.5     stems agree, one side lacks the industry word (A公司, A科技公司)
name_typo          0.4     full stems one edit apart (typo, or a homophone: never enough alone)
same_phone         0.5     a number (E.164, extension dropped) in both
same_domain        0.3     a company e-mail domain (free mail never counts) in both
uscc_hint          0.3     an invalid USCC one character from the other's valid one
same_address       0.2     normalised addresses equal (0.1 when fuzzy ratio >= 90)
=================  ======  ==========================================================

Vetoes make ``different`` whatever the sum: two valid USCCs that differ, regions that
cannot be one place (北京 vs 上海), two different branches. When the names say one is a
branch of the other (same stem, one has 分公司/分部/办事处 ...), the decision is
``branch_of``. Otherwise ``same`` at :data:`SAME_THRESHOLD` and above, ``uncertain`` from
:data:`UNCERTAIN_THRESHOLD` (for a person to decide), ``different`` below.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from schema.matching.company import CompanyName, parse_company_name
from schema.matching.regions import regions_compatible
from schema.matching.signals import (
    address_key,
    compact_uscc,
    company_domains,
    phones_e164,
    uscc_neighbours,
    valid_uscc,
)

SAME_THRESHOLD = 0.6
UNCERTAIN_THRESHOLD = 0.4
MAX_BLOCK = 200  # a name key shared by more rows than this is too common to block on
WEIGHTS: dict[str, float] = {
    "same_uscc": 1.0, "name_equal": 0.6, "name_partial": 0.5, "name_typo": 0.4,
    "same_phone": 0.5, "same_domain": 0.3, "uscc_hint": 0.3, "same_address": 0.2,
    "similar_address": 0.1,
}
Decision = Literal["same", "branch_of", "different", "uncertain"]


@dataclass(frozen=True, slots=True)
class CompanyRecord:
    """One company as typed in a sheet or stored: the cells matching reads."""

    name: str
    uscc: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""


@dataclass(frozen=True, slots=True)
class Profile:
    """A record's parsed signals, computed once per record."""

    name: CompanyName
    uscc: str = ""
    uscc_typed: str = ""
    phones: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    address: str = ""


@dataclass(frozen=True, slots=True)
class Match:
    """The decision on a pair, its score and the reasons (see the module docstring)."""

    decision: Decision
    score: float
    reasons: tuple[str, ...] = ()


def profile(record: CompanyRecord) -> Profile:
    """The parsed signals of ``record``."""
    code = compact_uscc(record.uscc) if record.uscc else ""
    is_valid = bool(code) and valid_uscc(code)
    return Profile(
        name=parse_company_name(record.name),
        uscc=code if is_valid else "",
        uscc_typed="" if is_valid else code,
        phones=phones_e164(record.phone) if record.phone else (),
        domains=company_domains(record.email) if record.email else (),
        address=address_key(record.address) if record.address else "",
    )


def _deletions(text: str) -> Iterator[str]:
    """``text`` with each one character deleted (the typo neighbourhood of a stem)."""
    for i in range(len(text)):
        yield text[:i] + text[i + 1:]


def blocking_keys(p: Profile) -> list[str]:
    """The keys under which ``p`` is indexed: stem, typo neighbourhood, USCC, phones, domains."""
    keys = [f"n:{p.name.stem}"] if p.name.stem else []
    for stem in {p.name.stem, p.name.full_stem}:
        if len(stem) >= 3:
            keys.extend(f"d:{d}" for d in _deletions(stem))
    if p.uscc:
        keys.append(f"u:{p.uscc}")
    keys.extend(f"p:{n}" for n in p.phones)
    keys.extend(f"e:{d}" for d in p.domains)
    return keys


def query_keys(p: Profile) -> list[str]:
    """The keys to look ``p`` up by: its own, plus the valid USCCs its invalid one may mean."""
    keys = blocking_keys(p)
    if p.uscc_typed:
        keys.extend(f"u:{c}" for c in uscc_neighbours(p.uscc_typed))
    return keys


def _one_typo_apart(a: CompanyName, b: CompanyName) -> bool:
    """Whether the stems (with their industry words, when both have one) are one edit apart."""
    if a.industry and b.industry:
        return Levenshtein.distance(a.full_stem, b.full_stem) == 1
    return min(len(a.stem), len(b.stem)) >= 2 and Levenshtein.distance(a.stem, b.stem) == 1


def _name_relation(a: CompanyName, b: CompanyName) -> tuple[str, str]:
    """How two names relate: (reason or veto, branch side ``""``/``"a"``/``"b"``)."""
    if not regions_compatible(a.region, b.region):
        return "veto_region", ""
    if a.stem == b.stem:
        if a.industry and b.industry and a.industry != b.industry:
            return "industry_differs", ""
        reason = "name_equal" if a.industry == b.industry else "name_partial"
    elif _one_typo_apart(a, b):
        reason = "name_typo"
    else:
        return "", ""
    if a.branch == b.branch:
        return reason, ""
    if a.branch and b.branch:
        return "veto_branch", ""
    return reason, "a" if a.branch else "b"


def _signals(a: Profile, b: Profile) -> list[str]:
    """The reasons beside the name that a pair shares."""
    reasons = []
    if set(a.phones) & set(b.phones):
        reasons.append("same_phone")
    if set(a.domains) & set(b.domains):
        reasons.append("same_domain")
    if (a.uscc_typed and b.uscc and b.uscc in uscc_neighbours(a.uscc_typed)) or (
            b.uscc_typed and a.uscc and a.uscc in uscc_neighbours(b.uscc_typed)):
        reasons.append("uscc_hint")
    if a.address and b.address:
        if a.address == b.address:
            reasons.append("same_address")
        elif fuzz.ratio(a.address, b.address) >= 90:
            reasons.append("similar_address")
    return reasons


def compare(a: Profile, b: Profile) -> Match:
    """The decision on a pair of records (see the module docstring for the rules)."""
    if a.uscc and a.uscc == b.uscc:
        return Match("same", 1.0, ("same_uscc",))
    name_reason, branch_side = _name_relation(a.name, b.name)
    if name_reason.startswith("veto"):
        return Match("different", 0.0, (name_reason,))
    if branch_side and name_reason in ("name_equal", "name_partial"):
        return Match("branch_of", WEIGHTS[name_reason], (name_reason, f"branch_{branch_side}"))
    if a.uscc and b.uscc:
        return Match("different", 0.0, ("veto_uscc",))
    reasons = [r for r in (name_reason,) if r in WEIGHTS and not branch_side]
    reasons += _signals(a, b)
    score = min(1.0, round(sum(WEIGHTS[r] for r in reasons), 3))
    if score >= SAME_THRESHOLD:
        return Match("same", score, tuple(reasons))
    return Match("uncertain" if score >= UNCERTAIN_THRESHOLD else "different", score,
                 tuple(reasons))


class BlockIndex:
    """Record ids under their blocking keys; candidates are the ids sharing a key.

    Keys are held by their hash (a collision only adds a candidate, which the scorer then
    rejects), and a key with one id holds the bare id: a million records fit in far less.
    """

    def __init__(self) -> None:
        self.blocks: dict[int, int | list[int]] = {}

    def add(self, record_id: int, keys: Iterable[str]) -> None:
        """Index ``record_id`` under ``keys``."""
        blocks = self.blocks
        for key in keys:
            h = hash(key)
            held = blocks.get(h)
            if held is None:
                blocks[h] = record_id
            elif isinstance(held, list):
                held.append(record_id)
            elif held != record_id:
                blocks[h] = [held, record_id]

    def candidates(self, keys: Iterable[str]) -> set[int]:
        """Ids sharing any of ``keys``; name keys of over :data:`MAX_BLOCK` ids are skipped."""
        found: set[int] = set()
        for key in keys:
            held = self.blocks.get(hash(key))
            if held is None:
                continue
            if isinstance(held, int):
                found.add(held)
            elif len(held) <= MAX_BLOCK or key[0] in "upe":
                found.update(held)
        return found


def candidate_pairs(profiles: list[Profile]) -> set[tuple[int, int]]:
    """Pairs ``(i, j)``, ``i < j``, of profiles that share a blocking key."""
    index = BlockIndex()
    pairs: set[tuple[int, int]] = set()
    for i, p in enumerate(profiles):
        pairs.update((j, i) for j in index.candidates(query_keys(p)))
        index.add(i, blocking_keys(p))
    return pairs


@dataclass
class _Cluster:
    """What a cluster holds that two legal entities cannot share."""

    usccs: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    industries: set[str] = field(default_factory=set)
    branches: set[str] = field(default_factory=set)

    def conflicts(self, other: _Cluster) -> bool:
        """Whether one legal entity cannot hold both clusters."""
        if len(self.usccs | other.usccs) > 1 or len(self.industries | other.industries) > 1:
            return True
        if len(self.branches | other.branches) > 1:
            return True
        return any(not regions_compatible(x, y) for x in self.regions for y in other.regions)

    def absorb(self, other: _Cluster) -> None:
        """Take ``other``'s contents in."""
        self.usccs |= other.usccs
        self.regions |= other.regions
        self.industries |= other.industries
        self.branches |= other.branches


def _facts(p: Profile) -> _Cluster:
    """The one-record cluster of ``p``."""
    return _Cluster(usccs={p.uscc} - {""}, regions={p.name.region} - {""},
                    industries={p.name.industry} - {""}, branches={p.name.branch})


@dataclass
class Clustering:
    """Legal entities: a cluster id per record, each branch cluster's parent cluster, and
    the ``uncertain`` record pairs left in different clusters (for a person to review)."""

    cluster_of: list[int]
    parent: dict[int, int]
    uncertain: list[tuple[int, int]] = field(default_factory=list)


def _parents(cluster_of: list[int], matches: dict[tuple[int, int], Match]) -> dict[int, int]:
    """Each branch cluster's head-office cluster: the one most ``branch_of`` pairs name."""
    votes: dict[int, Counter[int]] = {}
    for (i, j), m in matches.items():
        if m.decision == "branch_of":
            child, head = (i, j) if m.reasons[-1] == "branch_a" else (j, i)
            votes.setdefault(cluster_of[child], Counter())[cluster_of[head]] += 1
    return {child: max(sorted(heads), key=heads.__getitem__) for child, heads in votes.items()}


def _find(roots: list[int], i: int) -> int:
    while roots[i] != i:
        roots[i] = roots[roots[i]]
        i = roots[i]
    return i


def cluster(profiles: list[Profile], matches: dict[tuple[int, int], Match]) -> Clustering:
    """Union-find over ``same`` pairs, strongest first, never joining conflicting clusters."""
    roots = list(range(len(profiles)))
    facts = [_facts(p) for p in profiles]
    ranked = sorted(((m.score, pair) for pair, m in matches.items() if m.decision == "same"),
                    reverse=True)
    for _, (i, j) in ranked:
        ri, rj = _find(roots, i), _find(roots, j)
        if ri != rj and not facts[ri].conflicts(facts[rj]):
            roots[rj] = ri
            facts[ri].absorb(facts[rj])
    cluster_of = [_find(roots, i) for i in range(len(profiles))]
    uncertain = sorted(pair for pair, m in matches.items() if m.decision == "uncertain"
                       and cluster_of[pair[0]] != cluster_of[pair[1]])
    return Clustering(cluster_of=cluster_of, parent=_parents(cluster_of, matches),
                      uncertain=uncertain)


def dedupe(records: list[CompanyRecord]) -> Clustering:
    """Cluster ``records`` into legal entities (blocking, pairwise decisions, union-find)."""
    profiles = [profile(r) for r in records]
    matches = {pair: compare(profiles[pair[0]], profiles[pair[1]])
               for pair in candidate_pairs(profiles)}
    return cluster(profiles, matches)
