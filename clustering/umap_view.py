"""UMAP map view of participants (umap-learn, imported lazily) and how well each map keeps neighbourhoods.

The opinion groups never come from this map: it is a second opinion on where participants sit.
Whether it is worth showing is measured per run, against the full vote vectors, with
scikit-learn's trustworthiness (how many of each participant's nearest neighbours on the map
are also near in vote space).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from clustering.matrix import VoteMatrix
from clustering.result import ClusterResult

TRUST_NEIGHBOURS = 10  # neighbours per participant in the trustworthiness measure (docs/benchmarks.md)
TRUST_METRIC = "euclidean"  # in vote space: neutral between the maps (UMAP is fitted with cosine)


def umap_projection(a, seed: int, n_neighbors: int = 15) -> np.ndarray:
    """(n, 2) UMAP of the centred, mean-filled vote rows (the PCA's input), cosine metric, on the host.

    UMAP takes scipy CSR, so the sparse rows go over as CSR without densifying. Participants
    without a vote all sit at the origin of the vote space; UMAP places them together.
    """
    try:
        import umap
    except ImportError as exc:  # keep the core free of the heavy numba stack
        raise ImportError("ClusterConfig(umap=True) needs umap-learn: pip install umap-learn") from exc
    mat = _host_csr(a)
    n = mat.shape[0]
    if n <= 2:
        return np.zeros((n, 2))
    reducer = umap.UMAP(n_components=2, n_neighbors=min(n_neighbors, n - 1), metric="cosine",
                        random_state=seed, init="random")
    return np.asarray(reducer.fit_transform(mat), dtype=np.float64)


def _host_csr(a):
    """A torch sparse CSR tensor as a scipy CSR matrix on the host."""
    import scipy.sparse as sp

    csr = a.to("cpu")
    return sp.csr_matrix((csr.values().numpy(), csr.col_indices().numpy(), csr.crow_indices().numpy()),
                         shape=tuple(csr.shape))


def centred_votes(matrix: VoteMatrix):
    """(n, m) torch sparse CSR: each vote minus its statement's mean, moderated-out and meta statements zeroed.

    This is what both maps summarise (the PCA's input), so each is measured against it.
    """
    import torch

    from clustering import pca as pca_mod

    n, m = matrix.shape
    zeroed = torch.tensor([_zeroed(_py(t), matrix) for t in matrix.tids], dtype=torch.bool)
    a, _, _ = pca_mod.centred_sparse(torch.from_numpy(np.asarray(matrix.rows, dtype=np.int64)),
                                     torch.from_numpy(np.asarray(matrix.cols, dtype=np.int64)),
                                     torch.from_numpy(np.asarray(matrix.values, dtype=np.float64)), zeroed, n, m)
    return a


def trust_scores(x: np.ndarray, maps: dict[str, np.ndarray], n_neighbors: int = TRUST_NEIGHBOURS,
                 metric: str = TRUST_METRIC) -> dict[str, float] | None:
    """{map name: trustworthiness of its (n, 2) points against the (n, m) vote rows `x`}; None below 4 rows.

    scikit-learn needs n_neighbors < n / 2, so small conversations are measured on fewer neighbours.
    """
    from sklearn.manifold import trustworthiness

    n = x.shape[0]
    k = min(n_neighbors, n // 2 - 1)
    if k < 1:
        return None
    return {name: float(trustworthiness(x, xy, n_neighbors=k, metric=metric)) for name, xy in maps.items()}


def with_umap_view(result: ClusterResult, matrix: VoteMatrix, seed: int = 0) -> ClusterResult:
    """`result` with its UMAP map and `method["maps"]`: both maps' trustworthiness, the cost, which to show.

    `matrix` must be the votes `result` was computed from (same participants, same order). The
    preferred map is UMAP only where it keeps neighbourhoods strictly better than the PCA map.
    """
    if list(map(str, matrix.participant_ids)) != list(map(str, result.participant_ids)):
        raise ValueError("with_umap_view: the matrix's participants are not the result's")
    started = time.perf_counter()
    a = centred_votes(matrix)
    umap_xy = umap_projection(a, seed)
    umap_s = time.perf_counter() - started
    started = time.perf_counter()
    x = _host_csr(a).toarray()  # (n, m) dense: trustworthiness needs every pairwise distance anyway
    scores = trust_scores(x, {"pca": result.projections, "umap": umap_xy})
    trust_s = time.perf_counter() - started
    preferred = "umap" if scores is not None and scores["umap"] > scores["pca"] else "pca"
    maps = {"preferred": preferred, "trustworthiness": scores, "metric": TRUST_METRIC, "n_neighbors": TRUST_NEIGHBOURS,
            "seconds": {"umap": round(umap_s, 6), "trustworthiness": round(trust_s, 6)}}
    return dataclasses.replace(result, umap=umap_xy, method={**result.method, "maps": maps})


def _py(x):
    return x.item() if isinstance(x, np.generic) else x


def _zeroed(tid, matrix: VoteMatrix) -> bool:
    """As the pipeline: moderated-out and meta statements take no part in the vote space."""
    try:
        t = int(tid)
    except (TypeError, ValueError):
        return False
    return t in matrix.moderated_out or t in matrix.meta
