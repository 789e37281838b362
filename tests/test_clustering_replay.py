"""Polis's history: the update schedule, the monotone in-conv set across runs, and the replay of a vote log."""

from __future__ import annotations

import numpy as np
import pytest

from clustering import ClusterConfig, VoteMatrix, cluster
from clustering.pipeline import clustered_participants
from clustering.replay import history_config, replay, update_points
from tests.conftest import need_shared
from tests.polis_data import load_log, load_polis_groups, load_votes


def test_update_points_grow_geometrically_and_keep_bursts_whole():
    # 10 votes a second apart, then after an hour 5 more: one burst of 10 and one of 5.
    times = np.array([i * 1000 for i in range(10)] + [3_600_000 + i * 1000 for i in range(5)], dtype=float)
    pts = update_points(times, growth=0.5, gap_ms=60_000)
    # From 0: step 1 -> 1; 1 -> 2; 2 -> 3; 3 -> 5 (ceil 1.5 = 2); from 5 the step (3) reaches 8 and the
    # one after it 12, past the burst's end at 10, so the update moves on to the end of the burst: 10; then 15.
    assert pts.tolist() == [1, 2, 3, 5, 10, 15]
    assert update_points(np.zeros(0)).tolist() == []
    big = update_points(np.arange(50_000, dtype=float))  # one long burst
    assert big[-1] == 50_000 and 250 < len(big) < 300  # 33 single steps, then ~log(50k / 33) / log(1.03)


def test_in_conv_keeps_whoever_was_in_before():
    counts = np.array([3, 9, 0, 2])
    before = np.array([True, False, False, False])  # p0 entered when there were 3 statements
    assert clustered_participants(counts, 10, 7, 0, before).tolist() == [True, True, False, False]
    assert clustered_participants(counts, 10, 7, 0).tolist() == [False, True, False, False]


def _two_camps(n_statements: int, late_votes: int):
    """20 participants in two camps voting on every statement; participant 99 votes on the first 3 only."""
    p, t, v = [], [], []
    for person in range(20):
        for tid in range(n_statements):
            p.append(person)
            t.append(tid)
            v.append(1 if (tid % 2 == 0) == (person < 10) else -1)
    for tid in range(late_votes):
        p.append(99)
        t.append(tid)
        v.append(1)
    return VoteMatrix.from_events(p, t, v)


def test_a_participant_who_entered_early_stays_in_across_runs():
    early = cluster(_two_camps(3, 3), ClusterConfig(device="cpu"))
    assert early.group_of()[99] is not None  # voted on all 3 statements there were: in
    later = _two_camps(12, 3)  # now 12 statements; 99 still has 3 votes
    assert cluster(later, ClusterConfig(device="cpu")).group_of()[99] is None  # a cold run drops them
    warm = cluster(later, ClusterConfig(device="cpu", previous=early.to_dict()))  # the app passes its last run
    assert warm.group_of()[99] is not None
    assert 99 in warm.method["in_conv"] and warm.method["k_smoother"]["last_k"] >= 2


def test_replay_follows_the_log_and_refuses_bad_logs():
    rng = np.random.default_rng(0)
    n, m = 40, 12
    p = np.repeat(np.arange(n), m)
    t = np.tile(np.arange(m), n)
    v = np.where((t % 2 == 0) == (p < 20), 1, -1)
    times = np.arange(len(p)) * 1000.0 + rng.random(len(p))
    perm = rng.permutation(len(p))  # the log need not come in time order
    out = replay(p[perm], t[perm], v[perm], times[perm], config=ClusterConfig(device="cpu"))
    assert out.result.k == 2
    groups = out.result.group_of()
    assert len({groups[i] for i in range(20)}) == 1 and len({groups[i] for i in range(20, 40)}) == 1
    assert [s.n_events for s in out.steps] == update_points(np.sort(times)).tolist()
    assert out.result.method["replay"]["updates"] == len(out.steps)
    assert all(a.n_clustered <= b.n_clustered for a, b in zip(out.steps, out.steps[1:], strict=False))  # monotone
    with pytest.raises(ValueError, match="empty"):
        replay([], [], [], [])
    with pytest.raises(ValueError, match="differ in length"):
        replay([1], [1, 2], [1], [0])
    with pytest.raises(ValueError, match="update points"):
        replay(p, t, v, times, points=np.array([5, 3]))


@pytest.mark.shared
def test_replay_clusters_the_early_entrants_polis_clustered():
    # brexit-consensus: Polis clustered participants 5 and 8 with 3 and 1 votes: they came in with
    # the greedy top-up while the conversation was young and stayed in. A run on the final votes
    # cannot see that; the replay does.
    folder = need_shared() / "brexit-consensus"
    polis = load_polis_groups(folder)
    final = cluster(load_votes(folder), ClusterConfig(device="cpu")).group_of()
    out = replay(**load_log(folder), config=history_config(device="cpu"))
    ours = out.result.group_of()
    for pid in (5, 8):
        assert polis[pid] is not None and final[pid] is None and ours[pid] is not None
    assert out.result.k == len(set(polis.values()))
