"""Scores for answer distributions, and seeded bootstrap intervals on every one of them.

Everything here is plain numpy on per-item arrays so that the same functions score a model, a
baseline, and the lm-evaluation-harness export (which must agree with the platform within 1e-6).

Ordinal options are always ordered agree, unsure, disagree (index 0, 1, 2): the community's shares
are agree, pass, disagree in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

#: A score over a subset of items: it receives item indices (possibly repeated, as a bootstrap
#: resample draws them) and returns one float. NaN means "not defined on this subset".
MetricFn = Callable[[np.ndarray], float]

BOOTSTRAP_SAMPLES = 1000
BOOTSTRAP_SEED = 20240601


def representativeness(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """1 - W1(p, q) / (N - 1) for distributions over N ordinal options (OpinionQA, Santurkar et al. 2023).

    On an ordered support 0..N-1 with unit spacing the Wasserstein-1 distance is the L1 distance
    between the two cumulative distributions; its largest possible value is N - 1 (all mass on
    one end against all mass on the other), so the score lies in [0, 1] and 1 means identical.
    Works row-wise on (items, N) arrays.
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    n = p.shape[-1]
    w1 = np.abs(np.cumsum(p, axis=-1) - np.cumsum(q, axis=-1))[..., :-1].sum(axis=-1)
    return 1.0 - w1 / (n - 1)


def brier(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Multi-class Brier score sum_k (p_k - q_k)^2 against the reference shares q (lower is better).

    With a one-hot q this is the classic Brier score; against the community's shares it is the
    squared error of the predicted distribution, in [0, 2].
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    return ((p - q) ** 2).sum(axis=-1)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties); NaN when either side is constant."""
    from scipy.stats import rankdata

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if len(x) < 2:
        return float("nan")
    rx, ry = rankdata(x), rankdata(y)
    if np.ptp(rx) == 0 or np.ptp(ry) == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def mean_over(values: np.ndarray, mask: np.ndarray | None = None) -> MetricFn:
    """A MetricFn that averages per-item values over the resampled items (optionally only where mask)."""
    values = np.asarray(values, dtype=np.float64)
    keep = np.ones(len(values), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)

    def fn(idx: np.ndarray) -> float:
        sel = idx[keep[idx]]
        return float(values[sel].mean()) if len(sel) else float("nan")

    return fn


@dataclass(frozen=True)
class Interval:
    """A point estimate with its percentile bootstrap 95% interval."""

    value: float
    low: float
    high: float

    def to_dict(self) -> dict[str, float | None]:
        return {k: _num(v) for k, v in (("value", self.value), ("low", self.low), ("high", self.high))}


def _num(v: float) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


def resamples(n: int, samples: int = BOOTSTRAP_SAMPLES, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """(samples, n) item indices drawn with replacement; the same seed gives the same draws, so
    base and adapter are resampled identically (a paired bootstrap)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, n, size=(samples, n)) if n else np.zeros((samples, 0), dtype=np.int64)


def bootstrap(fn: MetricFn, n: int, draws: np.ndarray | None = None) -> Interval:
    """The metric on all n items plus the 2.5 and 97.5 percentiles over bootstrap resamples."""
    draws = resamples(n) if draws is None else draws
    point = fn(np.arange(n))
    stats = np.array([fn(d) for d in draws], dtype=np.float64)
    stats = stats[np.isfinite(stats)]
    if not len(stats):
        return Interval(point, float("nan"), float("nan"))
    low, high = np.percentile(stats, [2.5, 97.5])
    return Interval(point, float(low), float(high))


def paired_difference(a: MetricFn, b: MetricFn, n: int, draws: np.ndarray | None = None) -> Interval:
    """Interval on a - b with both metrics evaluated on the same resampled items."""
    return bootstrap(lambda idx: a(idx) - b(idx), n, draws)


def normalise(logprobs: Sequence[float]) -> np.ndarray:
    """Softmax of summed option log-likelihoods: the model's distribution over the fixed options."""
    lp = np.asarray(logprobs, dtype=np.float64)
    e = np.exp(lp - lp.max())
    return e / e.sum()
