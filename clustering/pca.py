"""Polis PCA on the sparse vote matrix, never densified, and the sparsity-aware projection.

Polis fills a missing vote with its column mean and centres the columns. The filled, centred
matrix is therefore zero wherever a vote is missing and (v - mean_j) where one was cast, so
it has exactly the sparsity of the votes: subspace iteration with sparse matmuls on it gives
the same components as a dense PCA, in O(nnz) memory and time per iteration.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


@dataclass
class PCAResult:
    """Two components over all statements, with what the projections need."""

    comps: torch.Tensor  # (2, m) unit rows; zero on unvoted and zeroed statements
    center: torch.Tensor  # (m,) column means of the votes; 0 on zeroed statements
    explained_variance: torch.Tensor  # (2,)
    iterations: int
    n_cols: int  # statements with any vote (Polis's rating-matrix columns)


def centred_sparse(rows, cols, vals, zeroed, n: int, m: int):
    """(A, A^T as CSR, centre): A holds v - mean_j at cast votes on non-zeroed statements."""
    import torch

    counts = torch.bincount(cols, minlength=m).to(vals.dtype)  # (m,)
    sums = torch.zeros(m, dtype=vals.dtype, device=vals.device).index_add_(0, cols, vals)
    center = torch.where(counts > 0, sums / counts.clamp(min=1), torch.zeros_like(sums))
    center = torch.where(zeroed, torch.zeros_like(center), center)
    keep = ~zeroed[cols]
    r, c = rows[keep], cols[keep]
    v = vals[keep] - center[c]  # (nnz',)
    with warnings.catch_warnings():  # "CSR support is in beta": CSR @ dense is all we use, on CPU and CUDA
        warnings.simplefilter("ignore", UserWarning)
        # Indices are valid by construction (VoteMatrix checks them), so skip torch's invariant checks.
        a = torch.sparse_coo_tensor(torch.stack([r, c]), v, (n, m), check_invariants=False).coalesce().to_sparse_csr()
        at = torch.sparse_coo_tensor(torch.stack([c, r]), v, (m, n), check_invariants=False).coalesce().to_sparse_csr()
    return a, at, center


def sparse_pca(a, at, center, n_cols: int, seed: int, iters: int, tol: float, start=None) -> PCAResult:
    """Top-2 right singular vectors of A by block subspace iteration with Rayleigh-Ritz.

    `start` (2, m) are the previous run's components (Polis also warm-starts its power iteration).
    """
    import torch

    n, m = a.shape
    dtype, device = center.dtype, center.device
    b = max(1, min(m, n, 10))  # block of 10 > 2: convergence goes as (s_11 / s_2)^iters, not (s_3 / s_2)^iters
    gen = torch.Generator().manual_seed(seed)  # CPU generator: the same start on every device
    q = torch.randn(m, b, generator=gen, dtype=torch.float64).to(device=device, dtype=dtype)
    if start is not None:
        s = min(b, start.shape[0])  # a tiny matrix may have a block narrower than the two components
        q[:, :s] = start[:s].T.to(device=device, dtype=dtype)
    q, _ = torch.linalg.qr(q)
    top = None
    it = 0
    for it in range(1, iters + 1):
        aq = a @ q  # (n, b): needed for the step anyway, so the convergence check is nearly free
        if it % 2 == 0:
            evals, w = torch.linalg.eigh(aq.T @ aq)  # Ritz pairs of the current Q, ascending
            vecs = q @ w[:, -min(2, b):]  # (m, 2) current top Ritz vectors
            # 1 - |cos| between successive Ritz vectors: converged when both stop turning.
            if top is not None and float((1 - (vecs * top).sum(0).abs()).max()) <= tol:
                break
            top = vecs
        q, _ = torch.linalg.qr(at @ aq)  # (m, b): orthonormal basis of A^T A Q
    aq = a @ q  # (n, b)
    evals, w = torch.linalg.eigh(aq.T @ aq)  # Rayleigh-Ritz on the converged subspace
    order = torch.argsort(evals, descending=True)[:2]
    comps = (q @ w[:, order]).T.contiguous()  # (k<=2, m)
    if comps.shape[0] < 2:  # a single statement or participant: pad a zero component
        comps = torch.cat([comps, torch.zeros(2 - comps.shape[0], m, dtype=dtype, device=device)])
    # Deterministic sign as scikit-learn's svd_flip: the largest |loading| of each component is positive.
    signs = torch.sign(comps.gather(1, comps.abs().argmax(dim=1, keepdim=True))).squeeze(1)
    comps = comps * torch.where(signs == 0, torch.ones_like(signs), signs)[:, None]
    var = torch.zeros(2, dtype=dtype, device=device)
    var[: order.shape[0]] = evals[order].clamp(min=0) / max(n - 1, 1)
    return PCAResult(comps, center, var, it, n_cols)


def align_signs(comps, previous):
    """Flip each component to point the way the previous run's did, so the map and warm starts stay put."""
    import torch

    dots = (comps * previous).sum(dim=1)  # (2,)
    return comps * torch.where(dots < 0, -torch.ones_like(dots), torch.ones_like(dots))[:, None]


def project_participants(a, pca: PCAResult, votes_per_row):
    """(n, 2) Polis sparsity-aware projection: A @ comps^T scaled by sqrt(n_cols / votes cast)."""
    proj = a @ pca.comps.T  # (n, 2): missing votes sit at the mean, so contribute 0
    scale = (pca.n_cols / votes_per_row.clamp(min=1).to(proj.dtype)).sqrt()  # (n,)
    return proj * scale[:, None]


def project_statements(pca: PCAResult):
    """(m, 2) where a participant who agreed with only this statement would sit (Polis's comment projection)."""
    # Polis projects a lone vote -1 in its database convention, which is agree (+1) here.
    return ((1.0 - pca.center)[:, None] * pca.comps.T) * (pca.n_cols**0.5)
