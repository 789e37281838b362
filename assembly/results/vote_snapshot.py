"""The latest-vote snapshot of an assembly as arrays, with the digest that names it in provenance.

Clustering, the Polis export and the constitution all start from the same thing: for
each (participant, statement) the value of the latest vote event. The reduction is
`voting.latest_votes.latest_vote_ids` (the newest event id per pair, one grouped query, also
behind `latest_votes` and the API's votes/me); the digest is `digest` here, which the
constitution's provenance uses too (tests/test_one_place.py checks that all agree).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func
from sqlmodel import Session, select

from assembly.models import Moderation, Participant, Statement, Vote
from assembly.voting.latest_votes import latest_vote_ids


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
        return digest(self.pids, self.tids, self.values)

    def as_dict(self) -> dict[tuple[int, int], int]:
        """{(pid, tid): value}, the form the constitution's rules take."""
        return dict(zip(zip(self.pids.tolist(), self.tids.tolist(), strict=True), self.values.tolist(), strict=True))


def digest(pids, tids, values) -> str:
    """sha256 of latest votes sorted by (pid, tid): pids (int64 LE), then tids (int64 LE), then values (int8)."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(pids, dtype="<i8").tobytes())
    h.update(np.ascontiguousarray(tids, dtype="<i8").tobytes())
    h.update(np.ascontiguousarray(values, dtype="<i1").tobytes())
    return h.hexdigest()


def votes_digest(votes: dict[tuple[int, int], int]) -> str:
    """`digest` of a {(pid, tid): value} mapping."""
    rows = sorted(votes.items())
    return digest([p for (p, _t), _v in rows], [t for (_p, t), _v in rows], [v for _k, v in rows])


def counted_vote_events(db: Session, assembly_id: int) -> int:
    """Vote events that count: every event but those of blocked participants (kept for the audit)."""
    return db.exec(select(func.count()).select_from(Vote).join(Participant, Participant.id == Vote.participant_id)
                   .where(Vote.assembly_id == assembly_id, Participant.blocked_at.is_(None))).one()


def blocked_author_tids(db: Session, assembly_id: int) -> set[int]:
    """Statements written by blocked participants: they leave the groups as rejected ones do."""
    return set(db.exec(select(Statement.tid).join(Participant, Participant.id == Statement.author_id)
                       .where(Statement.assembly_id == assembly_id, Participant.blocked_at.is_not(None))).all())


def load_snapshot(db: Session, assembly_id: int) -> Snapshot:
    """Read the assembly's vote events and reduce them to the latest vote per pair.

    Blocked participants are left out (their votes, themselves, and their statements, which are
    treated as rejected); their rows stay in the database for the audit trail.
    """
    rows = db.exec(
        select(Vote.id, Participant.pid, Statement.tid, Vote.value)
        .join(Participant, Participant.id == Vote.participant_id)
        .join(Statement, Statement.id == Vote.statement_id)
        .where(Vote.id.in_(latest_vote_ids(assembly_id)), Participant.blocked_at.is_(None))
    ).all()
    arr = np.array(rows, dtype=np.int64).reshape(-1, 4)
    order = np.lexsort((arr[:, 2], arr[:, 1]))
    pids, tids, values = arr[order, 1], arr[order, 2], arr[order, 3].astype(np.int8)
    statements = db.exec(
        select(Statement.tid, Statement.moderation, Statement.is_meta).where(Statement.assembly_id == assembly_id)
    ).all()
    all_pids = np.array(
        db.exec(select(Participant.pid).where(Participant.assembly_id == assembly_id,
                                              Participant.blocked_at.is_(None))).all(), dtype=np.int64
    )
    blocked_tids = blocked_author_tids(db, assembly_id)
    return Snapshot(
        pids=pids,
        tids=tids,
        values=values,
        last_vote_id=int(arr[:, 0].max()) if arr.shape[0] else 0,  # the newest event is its pair's latest
        all_pids=np.sort(all_pids),
        all_tids=np.array(sorted(t for t, _m, _meta in statements), dtype=np.int64),
        rejected_tids=np.array(sorted(t for t, m, _meta in statements if m == Moderation.rejected or t in blocked_tids),
                               dtype=np.int64),
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
