"""Merge near-duplicate candidates into one principle, and say so: a merge is recorded, never silent.

Only candidates are merged (every group supports each of them), because similarity measures the
topic, not the stance: "I voted to Remain" and "I voted to Leave" score 0.86 with the sentence model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from assembly.constitution.similarity import THRESHOLDS, similarity_matrix


@dataclass
class Merge:
    """One principle's statements: `primary` gives the wording, `merged` are its near-duplicates."""

    primary: int
    merged: list[tuple[int, float]] = field(default_factory=list)  # (tid, similarity to the primary)

    @property
    def tids(self) -> list[int]:
        return [self.primary] + [t for t, _ in self.merged]


def merge_duplicates(items: list[tuple[int, str, float]], method: str, threshold: float | None = None) -> list[Merge]:
    """Group (tid, text, gic) items whose every pair is at least `threshold` similar (complete linkage).

    The statement with the highest GIC (then the lowest tid) words the principle. Deterministic.
    """
    if not items:
        return []
    threshold = THRESHOLDS[method] if threshold is None else threshold
    items = sorted(items, key=lambda x: x[0])
    sim = similarity_matrix([text for _, text, _ in items], method)
    if len(items) == 1:
        labels = np.array([1])
    else:
        dist = np.clip(1.0 - sim, 0.0, 2.0)
        np.fill_diagonal(dist, 0.0)
        tree = linkage(squareform(dist, checks=False), method="complete")
        labels = fcluster(tree, t=1.0 - threshold + 1e-9, criterion="distance")
    clusters: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        clusters.setdefault(int(label), []).append(i)
    merges = []
    for members in clusters.values():
        best = min(members, key=lambda i: (-items[i][2], items[i][0]))
        merged = [(items[i][0], float(sim[best, i])) for i in members if i != best]
        merges.append(Merge(primary=items[best][0], merged=sorted(merged)))
    # Order principles by consensus, strongest first.
    gic_of = {tid: g for tid, _, g in items}
    return sorted(merges, key=lambda m: (-gic_of[m.primary], m.primary))
