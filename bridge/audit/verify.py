"""Verifying the chain: links, places, keyed hashes, and every anchor seen outside it.

``verify`` says exactly one of: intact; unverified (no key: links checked, authenticity
not); truncated (entries missing at the tail, as an anchor shows); missing (a gap in
the places); rewritten (a hash that the key or an
anchor contradicts); broken (links or places that do not hold).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Connection, select

from bridge.audit import keys
from bridge.audit.chain import CONTENT, GENESIS, Head, keyed_digest, legacy_digest
from bridge.audit.checkpoints import Anchor
from bridge.audit.keys import AuditKey
from bridge.auth import as_utc
from bridge.db import Database

Status = Literal["intact", "unverified", "truncated", "missing", "rewritten", "broken"]
_DEFAULT: Any = object()


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    entries: int  # entries checked before the verdict
    first_bad_id: int | None = None
    reason: str = ""
    status: Status = "intact"
    seq: int | None = None  # where: the last good seq (truncation) or the bad one
    missing: int = 0  # entries known to be missing
    head: Head | None = None
    keyed: int = 0
    unkeyed: int = 0
    anchors: int = 0


@dataclass
class _Walk:
    key: AuditKey | None
    watch: set[int]  # seqs whose hash an anchor names
    prev: str = GENESIS
    seq: int = 0
    count: int = 0
    keyed: int = 0
    seen: dict[int, str] = field(default_factory=dict)

    def fail(self, status: Status, reason: str, row_id: int | None, seq: int | None,
             missing: int = 0) -> VerifyResult:
        return VerifyResult(False, self.count, row_id, reason, status, seq, missing,
                            Head(self.seq, self.prev), self.keyed, self.count - self.keyed)

    def step(self, m: Any) -> VerifyResult | None:
        """Check one entry (a row mapping); a verdict when it does not hold."""
        rid, seq = m["id"], m["seq"]
        if seq is None or seq <= self.seq:
            return self.fail("broken", f"entry {rid} has no place after seq {self.seq} "
                             f"(seq {seq})", rid, self.seq)
        if seq != self.seq + 1:
            n = seq - self.seq - 1
            return self.fail("missing", f"{n} entries missing after seq {self.seq} "
                             f"(the next entry is seq {seq})", rid, self.seq, n)
        if m["prev_hash"] != self.prev:
            return self.fail("broken", f"link to the previous entry broken at seq {seq}",
                             rid, seq)
        if (bad := self._hash_problem(m)) is not None:
            return self.fail("rewritten", f"chain rewritten at seq {seq}: {bad}", rid, seq)
        self.prev, self.seq, self.count = m["hash"], seq, self.count + 1
        if seq in self.watch:
            self.seen[seq] = m["hash"]
        return None

    def _hash_problem(self, m: Any) -> str | None:
        stamp, content = as_utc(m["at"]).isoformat(), [m[c] for c in CONTENT]
        if m["key_id"] is None:
            if self.keyed:
                return "an unkeyed entry after keyed entries began"
            ok = legacy_digest(self.prev, stamp, content) == m["hash"]
            return None if ok else "entry content changed (unkeyed hash mismatch)"
        self.keyed += 1
        if self.key is None:
            return None  # links only: the verdict says authenticity was not checked
        if m["key_id"] != self.key.id:
            return f"signed with key {m['key_id']}, not with this key ({self.key.id})"
        if keyed_digest(self.key, self.prev, m["seq"], stamp, content) != m["hash"]:
            return "HMAC mismatch (changed by someone without the audit key)"
        return None


def verify(db: Database, conn: Connection, batch: int = 10_000,
           anchors: Sequence[Anchor] = (), key: AuditKey | None = _DEFAULT) -> VerifyResult:
    """Walk the whole chain, then hold its head against every anchor."""
    key = keys.checking_key(db) if key is _DEFAULT else key
    w = _Walk(key, {a.seq for a in anchors})
    t = db.table("sys_audit")
    last_id = 0
    while rows := conn.execute(select(t).where(t.c.id > last_id).order_by(t.c.id)
                               .limit(batch)).all():
        for r in rows:
            if (bad := w.step(r._mapping)) is not None:
                return bad
        last_id = rows[-1]._mapping["id"]
    return _against_anchors(w, anchors) or _verdict(w, len(anchors))


def _against_anchors(w: _Walk, anchors: Sequence[Anchor]) -> VerifyResult | None:
    """A rewrite (an anchor's hash differs) before a truncation (an anchor beyond the
    head); forged anchors count as failures too."""
    forged = [a for a in anchors if a.authentic is False]
    if forged:
        return w.fail("rewritten", f"{forged[0].source} does not carry a valid MAC under "
                      "this key (forged, or written with another key)", None, forged[0].seq)
    ordered = sorted(anchors, key=lambda a: a.seq)
    good = 0
    for a in ordered:
        if a.seq > w.seq:
            break
        if a.seq and w.seen.get(a.seq) != a.hash:
            return w.fail("rewritten", f"chain rewritten at or before seq {a.seq}, after seq "
                          f"{good}: its hash differs from {a.source}", None, a.seq)
        good = a.seq
    beyond = [a for a in ordered if a.seq > w.seq]
    if beyond:
        n = beyond[-1].seq - w.seq
        return w.fail("truncated", f"{n} entries missing after seq {w.seq} (tail truncation: "
                      f"{beyond[-1].source} saw seq {beyond[-1].seq})", None, w.seq, n)
    return None


def _verdict(w: _Walk, n_anchors: int) -> VerifyResult:
    head, unkeyed = Head(w.seq, w.prev), w.count - w.keyed
    base = dict(entries=w.count, head=head, keyed=w.keyed, unkeyed=unkeyed, anchors=n_anchors,
                seq=w.seq)
    if w.key is None and w.keyed:
        return VerifyResult(False, reason="cannot check authenticity: no audit key (links "
                            "and places checked only; set CRM_AUDIT_KEY or the key file)",
                            status="unverified", **base)  # type: ignore[arg-type]
    if unkeyed and not w.keyed:
        return VerifyResult(False, reason=f"cannot check authenticity: all {unkeyed} "
                            "entries are unkeyed and no keyed entry anchors them",
                            status="unverified", **base)  # type: ignore[arg-type]
    return VerifyResult(True, reason="", status="intact", **base)  # type: ignore[arg-type]
