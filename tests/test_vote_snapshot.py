"""Latest-vote snapshot: the newest event per pair wins, exclusions and hashes are right."""

from __future__ import annotations

from sqlmodel import select

from assembly.models import Moderation, Statement, Vote
from assembly.results.vote_snapshot import load_snapshot
from assembly.voting.rules import add_statement, create_participant, record_vote


def test_latest_event_wins_whatever_the_insert_order(db, assembly):
    """The newest event per pair counts, even when its created_ms is older (a client's clock)."""
    a, b = create_participant(db, assembly), create_participant(db, assembly)
    for participant, tid, value, ms in [(a, 0, 1, 500), (b, 0, -1, 100), (a, 0, -1, 10), (a, 1, 0, 1), (b, 0, 1, 1)]:
        db.add(Vote(assembly_id=assembly.id, participant_id=participant.id, statement_id=_sid(db, assembly, tid),
                    value=value, created_ms=ms))
        db.commit()
    snap = load_snapshot(db, assembly.id)
    assert list(zip(snap.pids.tolist(), snap.tids.tolist(), snap.values.tolist(), strict=True)) == [
        (a.pid, 0, -1), (a.pid, 1, 0), (b.pid, 0, 1)
    ]


def _sid(db, assembly, tid: int) -> int:
    return db.exec(select(Statement.id).where(Statement.assembly_id == assembly.id, Statement.tid == tid)).one()


def test_snapshot_from_database(db, assembly):
    a, b = create_participant(db, assembly), create_participant(db, assembly)
    record_vote(db, assembly, a, 0, 1)
    record_vote(db, assembly, a, 0, -1)  # change of mind: only -1 counts
    record_vote(db, assembly, b, 1, 0)
    st = add_statement(db, assembly, "Close the road on Sundays.", author=b)  # b's agree vote
    meta = db.get(Statement, st.id)
    meta.is_meta = True
    db.add(meta)
    rejected = add_statement(db, assembly, "Off-topic advert.", moderation=Moderation.rejected)
    db.commit()
    snap = load_snapshot(db, assembly.id)
    assert list(zip(snap.pids.tolist(), snap.tids.tolist(), snap.values.tolist(), strict=True)) == [
        (a.pid, 0, -1), (b.pid, 1, 0), (b.pid, st.tid, 1)
    ]
    assert snap.n_votes == 3 and snap.n_participants == 2
    assert snap.rejected_tids.tolist() == [rejected.tid]
    assert snap.meta_tids.tolist() == [st.tid]
    assert snap.all_tids.tolist() == [0, 1, 2, 3, 4]
    # Same votes, same digest; one more vote, another digest.
    assert snap.digest() == load_snapshot(db, assembly.id).digest()
    record_vote(db, assembly, b, 2, 1)
    assert load_snapshot(db, assembly.id).digest() != snap.digest()
