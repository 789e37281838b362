"""Unit tests of the clustering formulas on small hand-worked examples (expected numbers worked by hand)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from clustering import ClusterConfig, ClusterResult, VoteMatrix, cluster, stats
from clustering import kmeans as km
from clustering import pca as pca_mod
from clustering.pipeline import clustered_participants, stable_labels


def test_from_events_keeps_latest_vote_by_order_not_position():
    # p1 agrees at t=5, then an older event (t=1, disagree) arrives later in the log: t=5 wins.
    vm = VoteMatrix.from_events([1, 1, 2, 1], [7, 7, 7, 8], [1, -1, 0, -1], order=[5, 1, 3, 2])
    triples = zip(vm.rows, vm.cols, vm.values, strict=True)
    got = {(int(vm.participant_ids[r]), int(vm.tids[c])): int(v) for r, c, v in triples}
    assert got == {(1, 7): 1, (2, 7): 0, (1, 8): -1}


def test_from_events_equal_order_later_in_log_wins():
    vm = VoteMatrix.from_events([1, 1], [7, 7], [1, -1], order=[4, 4])
    assert vm.values.tolist() == [-1]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"values": [2]}, "must be -1, 0 or 1"),
    ({"rows": [0, 0], "cols": [0, 0], "values": [1, 1]}, "duplicate"),
    ({"rows": [3]}, "row index out of range"),
])
def test_vote_matrix_rejects_bad_input(kwargs, message):
    args = {"rows": [0], "cols": [0], "values": [1], "participant_ids": [10, 11], "tids": [0]} | kwargs
    with pytest.raises(ValueError, match=message):
        VoteMatrix(**args)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"device": "tpu"}, "device"),
    ({"min_groups": 1}, "min_groups"),
    ({"max_groups": 2, "min_groups": 3}, "min_groups"),
    ({"confidence": 1.5}, "confidence"),
    ({"silhouette": "fancy"}, "silhouette"),
])
def test_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ClusterConfig(**kwargs)


def test_config_rejects_wrong_type():
    with pytest.raises(TypeError, match="min_votes"):
        ClusterConfig(min_votes="7")


def test_pca_and_projection_hand_worked():
    # Votes: p0 (+1,+1), p1 (-1,-1), p2 (+1, unseen), p3 (-1, unseen). Column means 0 and 0,
    # so A = [[1,1],[-1,-1],[1,0],[-1,0]], A^T A = [[4,2],[2,2]], top eigenvalue 3 + sqrt(5),
    # eigenvector (1, (sqrt(5)-1)/2) normalised.
    rows = torch.tensor([0, 0, 1, 1, 2, 3])
    cols = torch.tensor([0, 1, 0, 1, 0, 0])
    vals = torch.tensor([1.0, 1, -1, -1, 1, -1], dtype=torch.float64)
    a, at, center = pca_mod.centred_sparse(rows, cols, vals, torch.tensor([False, False]), 4, 2)
    res = pca_mod.sparse_pca(a, at, center, n_cols=2, seed=0, iters=100, tol=1e-15)
    r = (math.sqrt(5) - 1) / 2
    v1 = torch.tensor([1, r], dtype=torch.float64) / math.sqrt(1 + r * r)
    assert torch.allclose(res.comps[0], v1, atol=1e-9)
    assert res.explained_variance[0].item() == pytest.approx((3 + math.sqrt(5)) / 3)
    proj = pca_mod.project_participants(a, res, torch.tensor([2, 2, 1, 1]))
    # p2 has 1 of 2 statements: x = sqrt(2/1) * (1 * v1[0]); p0: sqrt(2/2) * (v1[0] + v1[1]).
    assert proj[2, 0].item() == pytest.approx(math.sqrt(2) / math.sqrt(1 + r * r))
    assert proj[0, 0].item() == pytest.approx((1 + r) / math.sqrt(1 + r * r))
    # Statement 1's lone agreeing participant: (1 - mean 0) * v1[1] * sqrt(2 statements / 1 vote).
    assert pca_mod.project_statements(res)[1, 0].item() == pytest.approx(math.sqrt(2) * r / math.sqrt(1 + r * r))


def test_repness_z_tests_and_gic_hand_worked():
    # Statement 0: group 0 has 3 agree of 4 seen, group 1 has 1 agree of 4 seen.
    agree = torch.tensor([[3], [1]])
    disagree = torch.tensor([[0], [2]])
    seen = torch.tensor([[4], [4]])
    st = stats.group_stats(agree, disagree, seen)
    assert st["pa"][0, 0].item() == pytest.approx(4 / 6)
    assert st["pa_out"][0, 0].item() == pytest.approx(2 / 6)
    assert st["ra"][0, 0].item() == pytest.approx(2.0)
    assert st["pat"][0, 0].item() == pytest.approx(2 * math.sqrt(5) * (4 / 5 - 0.5))
    # two-proportion: (3+1)/(4+1)=0.8 vs (1+1)/(4+1)=0.4, pooled 6/10.
    assert st["rat"][0, 0].item() == pytest.approx(0.4 / math.sqrt(0.6 * 0.4 * (1 / 5 + 1 / 5)))
    gic_a, gic_d = stats.group_informed_consensus(st["pa"], st["pd"])
    assert gic_a.item() == pytest.approx((4 / 6) * (2 / 6))
    assert gic_d.item() == pytest.approx((1 / 6) * (3 / 6))
    assert stats.z_threshold(0.9) == pytest.approx(1.2815515655)


def test_two_prop_test_is_zero_when_pooled_share_is_one():
    z = stats.two_prop_test(torch.tensor([4.0]), torch.tensor([3.0]), torch.tensor([4.0]), torch.tensor([3.0]))
    assert z.item() == 0.0


def test_priority_hand_worked():
    # A=2, D=1, S=4 (so 1 pass), extremity 0.5:
    # importance = (1 - 2/6) * 1.5 * 3/6 = 0.5; newness = 1 + 8 * 2^(-4/5).
    p = stats.priority(torch.tensor([2.0]), torch.tensor([1.0]), torch.tensor([4.0]), torch.tensor([0.5]),
                       torch.tensor([False]))
    assert p.item() == pytest.approx((0.5 * (1 + 8 * 2 ** -0.8)) ** 2)
    meta = stats.priority(torch.tensor([2.0]), torch.tensor([1.0]), torch.tensor([4.0]), torch.tensor([0.5]),
                          torch.tensor([True]))
    assert meta.item() == 49.0


def test_silhouette_hand_worked():
    pts = torch.tensor([[0.0, 0], [1, 0], [10, 0]], dtype=torch.float64)
    labels = torch.tensor([0, 0, 1])
    # a=1, b=10 -> 0.9; a=1, b=9 -> 8/9; a singleton scores 0.
    assert km.silhouette(pts, labels, 2) == pytest.approx((0.9 + 8 / 9 + 0) / 3)
    # Weighted: the singleton base cluster holds 3 participants, so its own a is 0 -> s = 1.
    w = torch.tensor([1.0, 1, 3], dtype=torch.float64)
    assert km.silhouette(pts, labels, 2, w) == pytest.approx((0.9 + 8 / 9 + 3 * 1) / 5)


def test_first_distinct_keeps_row_order_and_kmeans_weighted_centre():
    x = torch.tensor([[5.0, 0], [5, 0], [1, 0], [9, 0]], dtype=torch.float64)
    assert km.first_distinct(x, 2).tolist() == [[5.0, 0.0], [1.0, 0.0]]
    fit = km.kmeans(torch.tensor([[0.0, 0], [2, 0], [100, 0]], dtype=torch.float64), 2, 10,
                    weights=torch.tensor([3.0, 1, 1], dtype=torch.float64))
    centres = sorted(c[0] for c in fit.centers.tolist())
    assert centres == pytest.approx([0.5, 100.0])  # (3*0 + 1*2) / 4


def _plain_lloyd(x, centers, iters: int, threshold: float):
    """Textbook Lloyd with Polis's stop rule and empty-cluster drop: every distance, every time."""
    labels = torch.cdist(x, centers).argmin(1)
    for _ in range(iters):
        mass = torch.bincount(labels, minlength=centers.shape[0]).to(x.dtype)
        sums = torch.zeros_like(centers).index_add_(0, labels, x)
        new = sums[mass > 0] / mass[mass > 0, None]
        moved = new.shape != centers.shape or bool((new - centers).norm(dim=1).max() >= threshold)
        centers = new
        labels = torch.cdist(x, centers).argmin(1)
        if not moved:
            break
    mass = torch.bincount(labels, minlength=centers.shape[0]).to(x.dtype)
    return labels, torch.zeros_like(centers).index_add_(0, labels, x) / mass[:, None]  # of the final labels


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bounded_kmeans_labels_equal_plain_lloyd_after_every_iteration(seed):
    # Hamerly's bounds skip distance computations; they must never change a label. Checked after
    # each number of iterations, on overlapping blobs where many points change centre early on.
    g = torch.Generator().manual_seed(seed)
    x = torch.cat([torch.randn(3000, 2, generator=g, dtype=torch.float64) * 0.7 + torch.tensor(c, dtype=torch.float64)
                   for c in ([0.0, 0.0], [2.0, 0.5], [0.5, 2.0])])
    init = x[torch.randperm(x.shape[0], generator=g)[:40]]
    for iters in (1, 2, 3, 5, 8, 13, 40):
        fit = km.kmeans(x, 40, iters, init=init, threshold=1e-9)
        labels, centers = _plain_lloyd(x, init, iters, 1e-9)
        assert torch.equal(fit.labels, labels), iters
        torch.testing.assert_close(fit.centers, centers, rtol=0, atol=1e-12)


def test_bounded_kmeans_drops_an_emptied_cluster_as_lloyd_does():
    # A far start that wins no point is dropped at once; the labels then index the survivors.
    x = torch.tensor([[0.0, 0], [0.1, 0], [5, 0], [5.1, 0]], dtype=torch.float64)
    init = torch.tensor([[0.0, 0], [5, 0], [100, 100]], dtype=torch.float64)
    fit = km.kmeans(x, 3, 10, init=init)
    torch.testing.assert_close(fit.centers, torch.tensor([[0.05, 0.0], [5.05, 0.0]], dtype=torch.float64))
    assert fit.labels.tolist() == [0, 0, 1, 1]


def test_clustered_participants_threshold_and_greedy_top_up():
    counts = np.array([7, 6, 3, 0, 10])
    got = clustered_participants(counts, n_cols=50, min_votes=7, greedy=0)
    assert got.tolist() == [True, False, False, False, True]
    # Fewer statements than 7: all of them suffice.
    assert clustered_participants(counts, n_cols=3, min_votes=7, greedy=0).tolist() == [True, True, True, False, True]
    # Polis tops up to `greedy` by vote count, never with someone who has not voted.
    assert clustered_participants(counts, n_cols=50, min_votes=7, greedy=4).tolist() == [True, True, True, False, True]


def test_stable_labels_follow_previous_groups():
    labels = np.array([0, 0, 1, 1, 2, -1])
    pids = np.array([1, 2, 3, 4, 5, 6])
    prev = {"1": 1, "2": 1, "3": 0, "4": 0}
    new_id = stable_labels(labels, 3, pids, prev)
    assert new_id.tolist() == [1, 0, 2]  # label 0 was group 1, label 1 was group 0, label 2 is new
    assert stable_labels(np.array([1, 1, 1, 0]), 2, pids[:4], {}).tolist() == [1, 0]  # largest first


def _two_camps(n_per: int = 30, m: int = 12, seed: int = 1) -> VoteMatrix:
    """Two planted camps that answer every statement oppositely, with some noise and gaps."""
    rng = np.random.default_rng(seed)
    rows, cols, vals = [], [], []
    for p in range(2 * n_per):
        side = 1 if p < n_per else -1
        for t in range(m):
            if rng.random() < 0.2:
                continue
            v = side * (1 if t % 2 == 0 else -1)
            rows.append(p)
            cols.append(t)
            vals.append(v if rng.random() > 0.1 else 0)
    return VoteMatrix(rows, cols, vals, participant_ids=np.arange(100, 100 + 2 * n_per), tids=np.arange(m))


def test_cluster_recovers_planted_camps_and_result_round_trips_json():
    vm = _two_camps().with_moderation(moderated_out=[11], meta=[10])
    res = cluster(vm, ClusterConfig(device="cpu"))
    assert res.k == 2
    g = res.groups
    assert (g >= 0).sum() >= 50  # most planted participants cast 7+ votes
    a, b = set(g[:30][g[:30] >= 0]), set(g[30:][g[30:] >= 0])
    assert len(a) == 1 and len(b) == 1 and a != b
    d = json.loads(json.dumps(res.to_dict()))
    assert set(d["participants"].values()) == {0, 1, None}
    st = d["statements"]
    assert st["11"]["priority"] == 0.0 and st["11"]["moderated_out"] is True
    assert st["10"]["priority"] == 49.0
    assert st["11"]["x"] == 0.0 and st["10"]["extremity"] == 0.0  # zeroed out of the PCA
    listed = {e["tid"] for g in d["top_repness"].values() for e in g}
    assert listed and not listed & {10, 11}
    again = ClusterResult.from_dict(d)
    assert again.to_dict() == d


def test_cluster_is_deterministic_and_warm_start_keeps_labels():
    vm = _two_camps()
    cfg = ClusterConfig(device="cpu", seed=3)
    first = cluster(vm, cfg)
    a, b = cluster(vm, cfg).to_dict(), first.to_dict()
    for d in (a, b):
        del d["method"]["timings_s"]
    assert a == b
    # Reverse the previous labels: the next run must adopt them, not its own size order.
    flipped = first.to_dict()
    flipped["participants"] = {p: (None if g is None else 1 - g) for p, g in flipped["participants"].items()}
    second = cluster(vm, ClusterConfig(device="cpu", previous=flipped))
    assert second.groups.tolist() == [g if g < 0 else 1 - g for g in first.groups.tolist()]
    assert second.method["warm_start"] is True


def test_k_smoother_holds_k_until_it_wins_k_buffer_runs():
    vm = _two_camps()
    res = cluster(vm, ClusterConfig(device="cpu")).to_dict()
    res["method"]["k_smoother"] = {"last_k": 3, "last_k_count": 1, "smoothed_k": 3}
    held = cluster(vm, ClusterConfig(device="cpu", previous=res))
    assert held.k == 3 and held.method["k_smoother"] == {"last_k": 2, "last_k_count": 1, "smoothed_k": 3}
    at_once = cluster(vm, ClusterConfig(device="cpu", previous=res, k_buffer=1))
    assert at_once.k == 2


def test_cluster_refuses_empty_matrix():
    with pytest.raises(ValueError, match="nothing to cluster"):
        cluster(VoteMatrix([], [], [], [1], [1]), ClusterConfig(device="cpu"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_cuda_matches_cpu():
    vm = _two_camps()
    cpu = cluster(vm, ClusterConfig(device="cpu"))
    gpu = cluster(vm, ClusterConfig(device="cuda"))
    assert gpu.groups.tolist() == cpu.groups.tolist()
    assert np.allclose(gpu.projections, cpu.projections, atol=1e-8)


def test_tiny_conversations_give_a_result():
    one = cluster(VoteMatrix.from_events([1], [0], [1]), ClusterConfig(device="cpu"))
    assert one.k == 1 and one.group_of() == {1: 0}
    # Two people who disagree on the only statement: each is the whole of a group.
    two = cluster(VoteMatrix.from_events([1, 2], [0, 0], [1, -1]), ClusterConfig(device="cpu"))
    assert two.k == 2 and sorted(two.group_of().values()) == [0, 1]
    assert json.loads(json.dumps(two.to_dict()))["group_sizes"] == [1, 1]
