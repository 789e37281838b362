"""The latest-vote snapshot of an assembly as arrays, with a hash for provenance.

Clustering, the Polis export and the constitution all start from the same
thing: for each (participant, statement) the value of the latest vote event.
Doing it here, once, in numpy over the event log (ordered by event id) keeps
those three in agreement and scales to millions of events.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from sqlmodel import Session, select

from assembly.models import Moderation, Participant, Statement, Vote


@dataclass(frozen=True)
class Snapshot:
    """Latest votes as parallel arrays of Polis ids (pid, tid) and values, sorted by (pid, tid)."""

    pids: np.ndarray  # (V,) int64 participant pid
    tids: np.ndarray  # (V,) int64 statement tid
    values: np.ndarray  # (V,) int8 in {-1, 0, 1}
    last_vote_id: int  # newest event included, so later runs can tell what changed
    all_pids: np.ndarray  # (P,) every participant pid, voters or not
    all_tids: np.ndarray  # (S,) every statement tid
    rejected_tids: np.ndarray  # statements moderated out: zeroed by Polis, never routed
    meta_tids: np.ndarray  # meta statements (about the process): zeroed by Polis, still routed

    @property
    def n_votes(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_participants(self) -> int:
        return int(np.unique(self.pids).shape[0])

    def digest(self) -> str:
        """sha256 over the sorted (pid, tid, value) triples: equal snapshots, equal hashes."""
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.pids, dtype="<i8").tobytes())
        h.update(np.ascontiguousarray(self.tids, dtype="<i8").tobytes())
        h.update(np.ascontiguousarray(self.values, dtype="<i1").tobytes())
        return h.hexdigest()


def latest_from_events(
    pids: np.ndarray, tids: np.ndarray, values: np.ndarray, order: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep the event with the largest `order` per (pid, tid); return arrays sorted by (pid, tid)."""
    if pids.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), np.zeros(0, dtype=np.int8)
    # Sort by pair, then by order descending, and take the first of each pair.
    idx = np.lexsort((-order, tids, pids))
    p, t = pids[idx], tids[idx]
    first = np.ones(idx.shape[0], dtype=bool)
    first[1:] = (p[1:] != p[:-1]) | (t[1:] != t[:-1])
    keep = idx[first]
    return pids[keep].astype(np.int64), tids[keep].astype(np.int64), values[keep].astype(np.int8)


def load_snapshot(db: Session, assembly_id: int) -> Snapshot:
    """Read the assembly's vote events and reduce them to the latest vote per pair."""
    rows = db.exec(
        select(Vote.id, Participant.pid, Statement.tid, Vote.value)
        .join(Participant, Participant.id == Vote.participant_id)
        .join(Statement, Statement.id == Vote.statement_id)
        .where(Vote.assembly_id == assembly_id)
    ).all()
    arr = np.array(rows, dtype=np.int64).reshape(-1, 4)
    pids, tids, values = latest_from_events(arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 0])
    statements = db.exec(
        select(Statement.tid, Statement.moderation, Statement.is_meta).where(Statement.assembly_id == assembly_id)
    ).all()
    all_pids = np.array(
        db.exec(select(Participant.pid).where(Participant.assembly_id == assembly_id)).all(), dtype=np.int64
    )
    return Snapshot(
        pids=pids,
        tids=tids,
        values=values,
        last_vote_id=int(arr[:, 0].max()) if arr.shape[0] else 0,
        all_pids=np.sort(all_pids),
        all_tids=np.array(sorted(t for t, _m, _meta in statements), dtype=np.int64),
        rejected_tids=np.array(sorted(t for t, m, _meta in statements if m == Moderation.rejected), dtype=np.int64),
        meta_tids=np.array(sorted(t for t, _m, meta in statements if meta), dtype=np.int64),
    )


def vote_log(db: Session, assembly_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every vote event as (pid, tid, value, time) arrays in event order, for replaying the history."""
    rows = db.exec(
        select(Participant.pid, Statement.tid, Vote.value, Vote.created_ms)
        .join(Participant, Participant.id == Vote.participant_id)
        .join(Statement, Statement.id == Vote.statement_id)
        .where(Vote.assembly_id == assembly_id)
        .order_by(Vote.id)
    ).all()
    arr = np.array(rows, dtype=np.int64).reshape(-1, 4)
    return arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3]
