"""cluster(): vote matrix -> PCA -> base clusters -> opinion groups -> statement statistics."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from clustering import kmeans as km
from clustering import pca as pca_mod
from clustering import stats
from clustering.config import ClusterConfig
from clustering.matrix import VoteMatrix
from clustering.result import ClusterResult


class _Clock:
    """Wall time per stage; synchronises CUDA so a stage's time is its own."""

    def __init__(self, device: str) -> None:
        self.cuda = device.startswith("cuda")
        self.times: dict[str, float] = {}
        self.peaks: dict[str, int] = {}
        self.t = time.perf_counter()

    def lap(self, name: str) -> None:
        import torch

        if self.cuda:
            torch.cuda.synchronize()
            self.peaks[name] = int(torch.cuda.max_memory_allocated())
            torch.cuda.reset_peak_memory_stats()
        now = time.perf_counter()
        self.times[name] = round(now - self.t, 6)
        self.t = now


def _previous(prev: Any) -> tuple[dict[str, Any], dict[str, int]]:
    """(method dict, str(participant id) -> group) of a previous result, or empty ones."""
    if prev is None:
        return {}, {}
    if isinstance(prev, ClusterResult):
        groups = {str(p): int(g) for p, g in zip(prev.participant_ids, prev.groups, strict=True) if g >= 0}
        return prev.method, groups
    if isinstance(prev, dict) and "method" in prev and "participants" in prev:
        return prev["method"], {p: g for p, g in prev["participants"].items() if g is not None}
    raise TypeError(f"ClusterConfig.previous must be a ClusterResult or its to_dict(), got {type(prev).__name__}")


def clustered_participants(counts: np.ndarray, n_cols: int, min_votes: int, greedy: int,
                           already: np.ndarray | None = None) -> np.ndarray:
    """(n,) bool: Polis's in-conv set (conversation.clj `:in-conv`).

    Everyone in `already` (the previous run's set) stays in; anyone with min(min_votes, statements)
    votes joins; while fewer than `greedy` are in, the most active others join, most votes first.
    """
    inc = (counts >= min(min_votes, n_cols)) & (counts > 0)
    if already is not None:
        inc |= already
    short = greedy - int(inc.sum())
    if short > 0:
        order = np.argsort(-counts, kind="stable")
        extra = [i for i in order if not inc[i] and counts[i] > 0][:short]
        inc[extra] = True
    return inc


def previous_in_conv(prev_method: dict[str, Any], pids: np.ndarray) -> np.ndarray | None:
    """(n,) bool: who the previous run clustered (its `method.in_conv`), None without one."""
    ids = prev_method.get("in_conv")
    if ids is None:
        return None
    keep = {str(p) for p in ids}
    return np.fromiter((str(p) in keep for p in pids), dtype=bool, count=len(pids))


def stable_labels(labels: np.ndarray, k: int, pids: np.ndarray, prev_groups: dict[str, int]) -> np.ndarray:
    """(k,) new id per label: previous ids by best overlap (Hungarian), compacted to 0..k-1; else by size."""
    from scipy.optimize import linear_sum_assignment

    sizes = np.bincount(labels[labels >= 0], minlength=k)
    by_size = sorted(range(k), key=lambda g: (-sizes[g], g))
    if not prev_groups:
        return np.argsort(by_size)  # largest group gets id 0
    kp = max(prev_groups.values()) + 1
    overlap = np.zeros((k, kp), dtype=np.int64)
    for p, g in zip(pids, labels, strict=True):
        pg = prev_groups.get(str(p))
        if g >= 0 and pg is not None:
            overlap[g, pg] += 1
    rows, cols = linear_sum_assignment(-overlap)
    matched = {int(r): int(c) for r, c in zip(rows, cols, strict=True) if overlap[r, c] > 0}
    # Matched groups keep their previous order; new groups follow, largest first.
    order = sorted(matched, key=lambda g: matched[g]) + [g for g in by_size if g not in matched]
    new_id = np.empty(k, dtype=np.int64)
    new_id[order] = np.arange(k)
    return new_id


def choose_groups(base_centers, base_sizes, config: ClusterConfig, prev_method: dict[str, Any]):
    """Weighted k-means on base centres for each k; best silhouette, smoothed as Polis's group-k-smoother."""
    import torch

    nb = base_centers.shape[0]
    if nb < 2:
        return torch.zeros(nb, dtype=torch.int64), 1, {}, {}, {}
    upper = min(nb, max(config.min_groups, min(config.max_groups, 2 + nb // 12)))
    lower = min(config.min_groups, upper)
    prev_centers = prev_method.get("group_centers", {})
    fits, sil = {}, {}
    for k in range(lower, upper + 1):
        init = prev_centers.get(str(k))
        init_t = None if init is None else torch.tensor(init, dtype=base_centers.dtype, device=base_centers.device)
        fit = km.best_of(base_centers, k, config.group_iters, base_sizes, init_t, config.group_restarts,
                         config.seed + k, config.restart_gain)
        fits[k] = fit
        sil_w = base_sizes if config.silhouette == "weighted" else None
        sil[k] = km.silhouette(base_centers, fit.labels, fit.centers.shape[0], sil_w)
    this_k = min(sil)
    for k in sorted(sil):  # a larger k must earn its extra group by k_margin
        if sil[k] > sil[this_k] + config.k_margin:
            this_k = k
    smoother = prev_method.get("k_smoother") or {}
    count = smoother.get("last_k_count", 0) + 1 if smoother.get("last_k") == this_k else 1
    smoothed = this_k if count >= config.k_buffer else smoother.get("smoothed_k", this_k)
    if smoothed not in fits:
        smoothed = this_k
    state = {"last_k": this_k, "last_k_count": count, "smoothed_k": smoothed}
    return fits[smoothed].labels, fits[smoothed].centers.shape[0], fits, sil, state


def cluster(matrix: VoteMatrix, config: ClusterConfig | None = None) -> ClusterResult:
    """Run the Polis pipeline on `matrix` and return groups, projections and statement statistics."""
    import torch

    config = config or ClusterConfig()
    threads = config.threads
    if threads == 0 and config.resolved_device() == "cpu" and matrix.nnz < 2_000_000:
        threads = 1  # small problems: thread hand-offs cost more than they save, badly so on a busy machine
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        with torch.inference_mode():  # no autograd bookkeeping: less dispatch overhead per small op
            return _cluster(matrix, config)
    finally:
        torch.set_num_threads(before)


def _cluster(matrix: VoteMatrix, config: ClusterConfig) -> ClusterResult:
    """The pipeline itself (cluster() picks the thread count)."""
    import torch

    if not isinstance(matrix, VoteMatrix):
        raise TypeError(f"cluster() needs a VoteMatrix, got {type(matrix).__name__}")
    device = config.resolved_device()
    dtype = getattr(torch, config.dtype)
    clock = _Clock(device)
    prev_method, prev_groups = _previous(config.previous)
    n, m = matrix.shape
    if n == 0 or m == 0 or matrix.nnz == 0:
        raise ValueError(f"nothing to cluster: {n} participants, {m} statements, {matrix.nnz} votes")

    rows = torch.from_numpy(matrix.rows).to(device)
    cols = torch.from_numpy(matrix.cols).to(device)
    vals = torch.from_numpy(matrix.values).to(device=device, dtype=dtype)
    tid_list = [t.item() if isinstance(t, np.generic) else t for t in matrix.tids]
    mod_np = np.array([int(t) in matrix.moderated_out if _intlike(t) else False for t in tid_list], dtype=bool)
    meta_np = np.array([int(t) in matrix.meta if _intlike(t) else False for t in tid_list], dtype=bool)
    zeroed = torch.from_numpy(mod_np | meta_np).to(device)
    voted = torch.bincount(cols, minlength=m) > 0  # (m,) Polis's matrix has a column once voted on
    n_cols = int(voted.sum())
    clock.lap("matrix")

    # PCA on everyone (Polis), projection scaled by votes cast; zeroed columns count as cast for all.
    a, at, center = pca_mod.centred_sparse(rows, cols, vals, zeroed, n, m)
    start = _previous_comps(prev_method, tid_list, dtype, device)
    pca = pca_mod.sparse_pca(a, at, center, n_cols, config.seed, config.pca_iters, config.pca_tol, start)
    if start is not None:
        pca.comps = pca_mod.align_signs(pca.comps, start)
    live = ~zeroed[cols]
    per_row = torch.bincount(rows[live], minlength=n) + int((zeroed & voted).sum())
    proj = pca_mod.project_participants(a, pca, per_row)  # (n, 2)
    stmt_proj = pca_mod.project_statements(pca)  # (m, 2)
    clock.lap("pca")

    counts = matrix.vote_counts()
    inc_np = clustered_participants(counts, n_cols, config.min_votes, config.greedy_participants,
                                    previous_in_conv(prev_method, matrix.participant_ids))
    if not inc_np.any():
        raise ValueError(f"no participant has min(min_votes={config.min_votes}, {n_cols}) votes and "
                         "greedy_participants=0: nothing to cluster yet")
    inc = torch.from_numpy(inc_np).to(device)
    x = proj[inc]  # (n_in, 2)
    base_init = prev_method.get("base_centers")
    base_init_t = None if not base_init else torch.tensor(base_init, dtype=dtype, device=device)
    base = km.kmeans(x, config.max_base_clusters, config.base_iters, init=base_init_t)
    base_sizes = torch.bincount(base.labels, minlength=base.centers.shape[0]).to(dtype)
    clock.lap("base_clusters")

    # The group step sees at most max_base_clusters points: host code beats kernel launches there.
    glabels, k, fits, sil, smoother = choose_groups(base.centers.cpu(), base_sizes.cpu(), config, prev_method)
    labels_np = np.full(n, -1, dtype=np.int64)
    labels_np[inc_np] = glabels.numpy()[base.labels.cpu().numpy()]
    new_id = stable_labels(labels_np, k, matrix.participant_ids, prev_groups)
    labels_np = np.where(labels_np >= 0, new_id[np.maximum(labels_np, 0)], -1)
    group_centers = {}
    for kk, fit in fits.items():  # store centres in label order so the next run starts from them
        c = fit.centers.cpu().numpy()
        group_centers[str(kk)] = (c[np.argsort(new_id)] if kk == k and c.shape[0] == k else c).tolist()
    clock.lap("groups")

    labels = torch.from_numpy(labels_np).to(device)
    ga, gd, gs = stats.vote_counts(rows, cols, vals, labels, k, m)
    gst = stats.group_stats(ga, gd, gs)
    gic_a, gic_d = stats.group_informed_consensus(gst["pa"], gst["pd"])
    ca, cd, cs = (t.to(torch.float64)[0] for t in stats.vote_counts(
        rows, cols, vals, torch.zeros(n, dtype=torch.int64, device=device), 1, m))
    extremity = stmt_proj.to(torch.float64).norm(dim=1)
    in_a, in_d, in_s = gst["na"].sum(0), gst["nd"].sum(0), gst["ns"].sum(0)
    prio = stats.priority(in_a, in_s - in_a - in_d, in_s, extremity, torch.from_numpy(meta_np).to(device))
    prio = torch.where(torch.from_numpy(mod_np).to(device), torch.zeros_like(prio), prio)
    statements = {
        "n_agree": ca, "n_disagree": cd, "n_pass": cs - ca - cd, "n_seen": cs,
        "pass_rate": torch.where(cs > 0, (cs - ca - cd) / cs.clamp(min=1), torch.zeros_like(cs)),
        "consensus_agree": stats.prob(ca, cs), "consensus_disagree": stats.prob(cd, cs),
        "consensus_agree_z": stats.prop_test(ca, cs), "consensus_disagree_z": stats.prop_test(cd, cs),
        "gic_agree": gic_a, "gic_disagree": gic_d, "extremity": extremity, "priority": prio,
        "x": stmt_proj[:, 0], "y": stmt_proj[:, 1],
    }
    gst["p_agree"], gst["p_disagree"] = stats.p_value(gst["rat"]), stats.p_value(gst["rdt"])
    statements = {name: t.to(torch.float64).cpu().numpy() for name, t in statements.items()}
    group_stats = {name: t.to(torch.float64).cpu().numpy() for name, t in gst.items()}
    clock.lap("statistics")

    z = stats.z_threshold(config.confidence)
    eligible = (~(mod_np | meta_np)).tolist()
    top = {}
    for g in range(k):
        st = {name: v[g].tolist() for name, v in group_stats.items()}
        top[g] = stats.select_repness(st, tid_list, eligible, z, config.pick_max)
    overall = {"na": statements["n_agree"].tolist(), "nd": statements["n_disagree"].tolist(),
               "ns": statements["n_seen"].tolist(), "pa": statements["consensus_agree"].tolist(),
               "pd": statements["consensus_disagree"].tolist(), "pat": statements["consensus_agree_z"].tolist(),
               "pdt": statements["consensus_disagree_z"].tolist()}
    consensus = stats.select_consensus(overall, tid_list, eligible, z, config.pick_max)
    clock.lap("selection")

    method = {
        "algorithm": "polis-pca-kmeans",
        "params": config.params() | {"device": device},
        "k": k,
        "n_participants": n, "n_statements": m, "n_votes": matrix.nnz,
        "n_clustered": int(inc_np.sum()), "n_base_clusters": int(base.centers.shape[0]),
        "in_conv": [_py_id(p) for p in matrix.participant_ids[inc_np]],  # once in, stays in (next run's start)
        "silhouettes": {str(kk): s for kk, s in sil.items()},
        "k_smoother": smoother,
        "base_centers": base.centers.cpu().numpy().tolist(),
        "group_centers": group_centers,
        "pca": {"tids": tid_list, "comps": pca.comps.cpu().numpy().tolist(),
                "center": pca.center.cpu().numpy().tolist(),
                "explained_variance": pca.explained_variance.cpu().numpy().tolist(),
                "iterations": pca.iterations},
        "iterations": {"base": base.iterations, **{f"group_k{kk}": f.iterations for kk, f in fits.items()}},
        "timings_s": clock.times,
        "cuda_peak_bytes": clock.peaks,
        "warm_start": bool(prev_method),
    }
    result = ClusterResult(
        participant_ids=matrix.participant_ids, groups=labels_np, projections=proj.cpu().numpy().astype(np.float64),
        tids=matrix.tids, moderated_out=mod_np, meta=meta_np, statements=statements, group_stats=group_stats,
        top_repness=top, consensus=consensus, method=method,
    )
    if config.umap:  # after the groups, which never depend on it
        from clustering.umap_view import with_umap_view

        result = with_umap_view(result, matrix, config.seed)
    return result


def _py_id(p: Any) -> Any:
    return p.item() if isinstance(p, np.generic) else p


def _intlike(t: Any) -> bool:
    return isinstance(t, (int, np.integer)) or (isinstance(t, str) and t.lstrip("-").isdigit())


def _previous_comps(prev_method: dict[str, Any], tids: list, dtype, device):
    """(2, m) previous components mapped onto today's tids (0 for new statements), or None."""
    import torch

    p = prev_method.get("pca")
    if not p:
        return None
    where = {str(t): i for i, t in enumerate(p["tids"])}
    old = np.asarray(p["comps"], dtype=np.float64)  # (2, m_old)
    start = np.zeros((2, len(tids)))
    for j, t in enumerate(tids):
        i = where.get(str(t))
        if i is not None:
            start[:, j] = old[:, i]
    if not np.any(start):
        return None
    return torch.from_numpy(start).to(device=device, dtype=dtype)
