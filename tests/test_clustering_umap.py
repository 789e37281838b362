"""The UMAP map view (clustering/umap_view.py) through cluster(): placed, separating the camps, stored, seeded.

numba compiles UMAP's kernels on the first call (~40 s on the 2-core machine), hence `slow`.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from clustering import ClusterConfig, ClusterResult, cluster
from tests.test_clustering import _two_camps

pytestmark = pytest.mark.slow


def test_umap_map_separates_the_camps_and_round_trips():
    from sklearn.manifold import trustworthiness
    from sklearn.neighbors import NearestNeighbors

    vm = _two_camps()
    res = cluster(vm, ClusterConfig(device="cpu", umap=True, seed=1))
    n = vm.shape[0]
    assert res.umap.shape == (n, 2) and np.isfinite(res.umap).all()
    camp = np.arange(n) >= 30  # _two_camps: the first 30 participants form camp A
    _, idx = NearestNeighbors(n_neighbors=6).fit(res.umap).kneighbors(res.umap)
    same = (camp[idx[:, 1:]] == camp[:, None]).mean()
    assert same > 0.95  # a participant's map neighbours are of their own camp
    dense = np.zeros(vm.shape)
    dense[vm.rows, vm.cols] = vm.values
    assert trustworthiness(dense, res.umap, n_neighbors=5) > 0.8
    d = json.loads(json.dumps(res.to_dict()))
    assert set(d["umap"]) == set(d["participants"])
    np.testing.assert_allclose(ClusterResult.from_dict(d).umap, res.umap)
    # The groups never come from the map: with or without UMAP they are the same.
    assert (cluster(vm, ClusterConfig(device="cpu", seed=1)).groups == res.groups).all()
    again = cluster(vm, ClusterConfig(device="cpu", umap=True, seed=1))
    np.testing.assert_allclose(again.umap, res.umap)  # seeded: the same map each run
