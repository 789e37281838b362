"""Latest-vote snapshot: the newest event per pair wins, exclusions and hashes are right."""

from __future__ import annotations

import numpy as np

from assembly.models import Moderation, Statement
from assembly.results.vote_snapshot import latest_from_events, load_snapshot
from assembly.voting.rules import add_statement, create_participant, record_vote


def test_latest_event_wins_whatever_the_input_order():
    pids = np.array([1, 0, 1, 1, 0])
    tids = np.array([5, 5, 5, 6, 5])
    values = np.array([1, -1, -1, 0, 1])
    order = np.array([10, 11, 30, 12, 2])  # pid 1/tid 5: order 30 (-1) beats 10 (+1); pid 0: 11 (-1) beats 2
    p, t, v = latest_from_events(pids, tids, values, order)
    assert list(zip(p.tolist(), t.tolist(), v.tolist(), strict=True)) == [(0, 5, -1), (1, 5, -1), (1, 6, 0)]


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
