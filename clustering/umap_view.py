"""Optional UMAP map view of participants (umap-learn, imported lazily); opinion groups never come from it."""

from __future__ import annotations

import numpy as np


def umap_projection(a, seed: int, n_neighbors: int = 15) -> np.ndarray:
    """(n, 2) UMAP of the centred, mean-filled vote rows (the PCA's input), cosine metric, on the host.

    UMAP takes scipy CSR, so the sparse rows go over as CSR without densifying. Participants
    without a vote all sit at the origin of the vote space; UMAP places them together.
    """
    try:
        import umap
    except ImportError as exc:  # keep the core free of the heavy numba stack
        raise ImportError("ClusterConfig(umap=True) needs umap-learn: pip install umap-learn") from exc
    import scipy.sparse as sp

    csr = a.to("cpu")
    mat = sp.csr_matrix((csr.values().numpy(), csr.col_indices().numpy(), csr.crow_indices().numpy()),
                        shape=tuple(csr.shape))
    n = mat.shape[0]
    if n <= 2:
        return np.zeros((n, 2))
    reducer = umap.UMAP(n_components=2, n_neighbors=min(n_neighbors, n - 1), metric="cosine",
                        random_state=seed, init="random")
    return np.asarray(reducer.fit_transform(mat), dtype=np.float64)
