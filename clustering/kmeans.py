"""Polis k-means on torch (clusters.clj): first-distinct or warm-start init, weights, silhouette."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

CHUNK = 1 << 16  # rows per distance block: bounds memory at CHUNK * k * d numbers


@dataclass
class KMeansResult:
    """Labels index `centers`; empty clusters are dropped as Polis does."""

    labels: torch.Tensor  # (n,) int64 in 0..k'-1
    centers: torch.Tensor  # (k', d)
    iterations: int


def sq_dist(x, centers):
    """(n, k) squared distances as |x|^2 - 2 x.c + |c|^2: one matmul, no (n, k, d) temporary."""
    d = (x * x).sum(1, keepdim=True) - 2 * (x @ centers.T) + (centers * centers).sum(1)[None, :]
    return d.clamp(min=0)


def first_distinct(x, k: int):
    """The first k distinct rows in row order (Polis init-clusters); fewer when x has fewer."""
    import torch

    n = x.shape[0]
    size = min(n, max(4 * k, 1024))
    while True:
        head = x[:size]
        uniq, inverse = torch.unique(head, dim=0, return_inverse=True)
        pos = torch.arange(size, device=x.device)
        first = torch.full((uniq.shape[0],), size, dtype=torch.int64, device=x.device)
        first = first.scatter_reduce(0, inverse, pos, reduce="amin")
        if uniq.shape[0] >= k or size == n:
            return head[torch.sort(first).values[:k]]
        size = min(n, size * 4)


def most_distal_fill(x, centers, k: int):
    """Add the point farthest from every centre until k centres (Polis clean-start-clusters)."""
    import torch

    while centers.shape[0] < k:
        d = torch.empty(x.shape[0], dtype=x.dtype, device=x.device)
        for s in range(0, x.shape[0], CHUNK):
            d[s : s + CHUNK] = sq_dist(x[s : s + CHUNK], centers).min(dim=1).values
        far = int(d.argmax())
        if float(d[far]) <= 0:
            break  # every point already sits on a centre
        centers = torch.cat([centers, x[far : far + 1]])
    return centers


def kmeans_pp(x, k: int, weights, rng, starts: int):
    """(starts, k, d) weighted k-means++ seeds, all starts drawn together on the host (numpy Generator)."""
    import numpy as np

    xc = x.detach().cpu().double().numpy()  # (n, d), n <= base clusters
    w = np.ones(len(xc)) if weights is None else weights.detach().cpu().double().numpy()

    def draw(p):  # one index per row of p (starts, n), with probability proportional to p
        cum = np.cumsum(p, axis=1)
        u = rng.random(len(p))[:, None] * cum[:, -1:]
        return np.minimum((cum <= u).sum(1), len(xc) - 1)

    idx = [draw(np.broadcast_to(w, (starts, len(xc))))]
    d2 = ((xc[None] - xc[idx[0]][:, None]) ** 2).sum(2)  # (starts, n)
    for _ in range(1, k):
        p = w[None] * d2
        p[p.sum(1) <= 0] = w  # every point already a seed: fall back to the weights
        idx.append(draw(p))
        d2 = np.minimum(d2, ((xc[None] - xc[idx[-1]][:, None]) ** 2).sum(2))
    return x[np.stack(idx, axis=1)]  # (starts, k, d)


def inertia(x, fit: KMeansResult, weights=None) -> float:
    """Weighted sum of squared distances to the assigned centres."""
    d2 = ((x - fit.centers[fit.labels]) ** 2).sum(-1)
    return float(d2.sum() if weights is None else (d2 * weights).sum())


def lloyd_batched(x, init, max_iters: int, weights=None, threshold: float = 0.01):
    """R k-means runs at once from init (R, k, d): (labels (R, n), inertia (R,), full (R,) no empty cluster)."""
    import torch

    r, k, d = init.shape
    w = torch.ones(x.shape[0], dtype=x.dtype, device=x.device) if weights is None else weights
    xw = (x * w[:, None]).expand(r, -1, -1)  # (R, n, d)
    centers = init.clone()
    x2 = (x * x).sum(1)[None, :, None]  # (1, n, 1)
    for _ in range(max_iters):
        dist = x2 - 2 * torch.matmul(x, centers.transpose(1, 2)) + (centers * centers).sum(2)[:, None, :]
        labels = dist.argmin(2)  # (R, n)
        mass = torch.zeros(r, k, dtype=x.dtype, device=x.device).scatter_add_(1, labels, w.expand(r, -1))
        sums = torch.zeros(r, k, d, dtype=x.dtype, device=x.device).scatter_add_(
            1, labels[..., None].expand(-1, -1, d), xw)
        new = torch.where(mass[..., None] > 0, sums / mass.clamp(min=1e-300)[..., None], centers)
        moved = float(((new - centers) ** 2).sum(2).sqrt().max())
        centers = new
        if moved < threshold:
            break
    dist = (x2 - 2 * torch.matmul(x, centers.transpose(1, 2)) + (centers * centers).sum(2)[:, None, :]).clamp(min=0)
    best = dist.min(2)
    mass = torch.zeros(r, k, dtype=x.dtype, device=x.device).scatter_add_(1, best.indices, w.expand(r, -1))
    return best.indices, (best.values * w).sum(1), (mass > 0).all(1)


def best_of(x, k: int, max_iters: int, weights, init, n_init: int, seed: int, gain: float = 0.1) -> KMeansResult:
    """Polis's start (warm or first-distinct) plus n_init - 1 seeded k-means++ starts, run as one batch.

    Another start replaces Polis's only when its inertia is lower by more than `gain` (a share):
    a clearly better optimum, not a reshuffle that would relabel people between runs.
    """
    import torch

    best = kmeans(x, k, max_iters, weights=weights, init=init)
    k = min(k, x.shape[0])
    if n_init < 2 or k < 2:
        return best
    base_inertia = inertia(x, best, weights)
    import numpy as np

    rng = np.random.default_rng(seed)
    seeds = kmeans_pp(x, k, weights, rng, n_init - 1)  # (R, k, d)
    labels, scores, full = lloyd_batched(x, seeds, max_iters, weights)
    scores = torch.where(full, scores, torch.full_like(scores, float("inf")))
    i = int(scores.argmin())
    if float(scores[i]) < base_inertia * (1 - gain):
        centers, _ = weighted_centers(x, labels[i], k, weights)
        return KMeansResult(labels[i], centers, max_iters)
    return best


def weighted_centers(x, labels, k: int, weights=None):
    """(k, d) weighted means and (k,) weight per label."""
    import torch

    w = torch.ones(x.shape[0], dtype=x.dtype, device=x.device) if weights is None else weights
    mass = torch.zeros(k, dtype=x.dtype, device=x.device).index_add_(0, labels, w)
    sums = torch.zeros(k, x.shape[1], dtype=x.dtype, device=x.device).index_add_(0, labels, x * w[:, None])
    return sums / mass.clamp(min=torch.finfo(x.dtype).tiny)[:, None], mass


def kmeans(x, k: int, max_iters: int, weights=None, init=None, threshold: float = 0.01) -> KMeansResult:
    """Lloyd iterations until every centre moves less than `threshold` (Polis same-clustering?).

    The labels are Lloyd's own (each point's nearest centre after every update), but found with
    Hamerly's bounds: a point whose distance to its centre cannot exceed its distance to any
    other centre keeps its label without computing the other distances. On 100k participants
    and Polis's 100 base clusters most points pass that test after a few iterations, and the
    (n, k) distance pass stops being what the base step costs.
    """
    import torch

    k = min(k, x.shape[0])
    if init is not None and init.shape[0] > 0:
        centers = init[:k].to(device=x.device, dtype=x.dtype)
        centers = most_distal_fill(x, centers, k)
    else:
        centers = first_distinct(x, k)
    labels, upper, lower = _assign(x, centers)
    it = 0
    for it in range(1, max_iters + 1):  # noqa: B007 - the count is reported
        new, mass = weighted_centers(x, labels, centers.shape[0], weights)
        nonempty = mass > 0
        if bool(nonempty.all()):
            shift = ((new - centers) ** 2).sum(-1).sqrt()
            moved = bool(shift.max() >= threshold)
            centers = new
            labels, upper, lower = _reassign(x, centers, labels, upper, lower, shift)
        else:  # Polis filters out clusters left without members; the indices change, so start afresh
            moved = True
            centers = new[nonempty]
            labels, upper, lower = _assign(x, centers)
        if not moved:
            break
    centers, mass = weighted_centers(x, labels, centers.shape[0], weights)
    keep = mass > 0
    if not bool(keep.all()):
        remap = torch.cumsum(keep.to(torch.int64), 0) - 1
        labels, centers = remap[labels], centers[keep]
    return KMeansResult(labels, centers, it)


# Bounds are compared with this relative slack, so that rounding in the distance formula can only
# cause an unneeded exact check, never a missed reassignment.
_SLACK = 1e-9


def _assign(x, centers):
    """Nearest centre of every row, with the distance to it and to the second nearest (Hamerly's
    upper and lower bounds), in row blocks."""
    import torch

    n, k = x.shape[0], centers.shape[0]
    labels = torch.empty(n, dtype=torch.int64, device=x.device)
    upper = torch.empty(n, dtype=x.dtype, device=x.device)
    lower = torch.full((n,), float("inf"), dtype=x.dtype, device=x.device)
    cc = (centers * centers).sum(1)[None, :]
    for s in range(0, n, CHUNK):
        rows = x[s : s + CHUNK]
        d = torch.addmm(cc, rows, centers.T, alpha=-2)  # |x - c|^2 - |x|^2: one pass, |x|^2 added to the two kept
        first = d.min(dim=1)
        xx = (rows * rows).sum(1)
        labels[s : s + CHUNK] = first.indices
        upper[s : s + CHUNK] = (first.values + xx).clamp(min=0).sqrt()
        if k >= 2:
            second = d.scatter_(1, first.indices[:, None], float("inf")).min(dim=1).values
            lower[s : s + CHUNK] = (second + xx).clamp(min=0).sqrt()
    return labels, upper, lower


def _reassign(x, centers, labels, upper, lower, shift):
    """Hamerly's update after the centres moved by `shift`: loosen the bounds by the moves, and
    compute distances only for the rows whose bounds no longer prove their label."""
    import torch

    k = centers.shape[0]
    if k < 2:
        return labels, upper + shift[labels], lower
    upper = upper + shift[labels]
    top = shift.topk(2).values  # a row's other centres moved at most the largest shift but its own
    lower = lower - torch.where(shift[labels] == top[0], top[1], top[0])
    between = torch.cdist(centers, centers).fill_diagonal_(float("inf"))
    half_gap = between.min(1).values / 2  # closer than this to its centre: no other centre is closer
    bound = torch.maximum(lower, half_gap[labels]) * (1 - _SLACK)
    rows = (upper > bound).nonzero().squeeze(1)
    if rows.numel() == 0:
        return labels, upper, lower
    upper[rows] = ((x[rows] - centers[labels[rows]]) ** 2).sum(1).sqrt()  # tighten, then test again
    rows = rows[upper[rows] > bound[rows]]
    if rows.numel():
        labels[rows], upper[rows], lower[rows] = _assign(x[rows], centers)
    return labels, upper, lower


def silhouette(points, labels, k: int, weights=None) -> float:
    """Mean silhouette of `points` (base-cluster centres); singletons score 0.

    Unweighted, this is Polis's silhouette over base clusters. With `weights` (members per base
    cluster) it is the silhouette of the participants themselves, each placed at its base centre.
    """
    import torch

    n = points.shape[0]
    if k < 2 or n < 2:
        return 0.0
    w = torch.ones(n, dtype=points.dtype, device=points.device) if weights is None else weights.to(points.dtype)
    dist = torch.cdist(points, points)  # (n, n), n <= base clusters
    onehot = torch.nn.functional.one_hot(labels, k).to(points.dtype)  # (n, k)
    mass = w @ onehot  # (k,) members per cluster
    sums = dist @ (onehot * w[:, None])  # (n, k): weighted total distance to each cluster
    own = mass[labels]
    a = sums.gather(1, labels[:, None]).squeeze(1) / (own - 1).clamp(min=1)  # a point does not count itself
    mean_other = (sums / mass.clamp(min=1)).masked_fill(onehot.bool() | (mass == 0)[None, :], float("inf"))
    b = mean_other.min(dim=1).values
    s = (b - a) / torch.maximum(a, b).clamp(min=torch.finfo(points.dtype).tiny)
    s = torch.where(own <= 1, torch.zeros_like(s), s)
    return float((s * w).sum() / w.sum())
