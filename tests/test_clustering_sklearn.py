"""The torch k-means and silhouette against scikit-learn's, on real conversations (same inputs, same starts, CPU)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from clustering import ClusterConfig, cluster
from clustering import kmeans as km
from tests.conftest import need_shared
from tests.polis_data import load_votes

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module", params=["vtaiwan.uberx", "canadian-electoral-reform"])
def points(request):
    """(clustered participants' PCA projections (n, 2), float64 tensor) of a real conversation."""
    res = cluster(load_votes(need_shared() / request.param), ClusterConfig(device="cpu"))
    return torch.from_numpy(res.projections[res.groups >= 0])


def _sklearn_fit(x, init, weights=None):
    # tol=0: scikit-learn iterates until no label changes, as ours does when no centre moves (threshold 1e-12).
    fit = KMeans(n_clusters=len(init), init=init, n_init=1, max_iter=1000, tol=0, algorithm="lloyd", random_state=0)
    return fit.fit(x, sample_weight=weights)


def test_base_kmeans_equals_scikit_learn_from_the_same_start(points):
    init = km.first_distinct(points, 100)
    ours = km.kmeans(points, 100, 1000, init=init, threshold=1e-12)
    theirs = _sklearn_fit(points.numpy(), init.numpy())
    assert ours.centers.shape[0] == theirs.cluster_centers_.shape[0]  # no cluster emptied here
    np.testing.assert_allclose(ours.centers.numpy(), theirs.cluster_centers_, atol=1e-9)
    assert (ours.labels.numpy() == theirs.labels_).all()


def test_weighted_group_kmeans_and_silhouettes_equal_scikit_learn(points):
    base = km.kmeans(points, 100, 1000, init=km.first_distinct(points, 100), threshold=1e-12)
    sizes = torch.bincount(base.labels).to(torch.float64)
    for k in (2, 3, 4):
        start = km.first_distinct(base.centers, k)
        ours = km.kmeans(base.centers, k, 1000, weights=sizes, init=start, threshold=1e-12)
        theirs = _sklearn_fit(base.centers.numpy(), start.numpy(), sizes.numpy())
        np.testing.assert_allclose(ours.centers.numpy(), theirs.cluster_centers_, atol=1e-9)
        assert (ours.labels.numpy() == theirs.labels_).all()
        # Polis's silhouette over base centres, and ours weighted by members: scikit-learn's over the
        # base centres, and over every participant placed at their base centre.
        plain = silhouette_score(base.centers.numpy(), ours.labels.numpy())
        assert km.silhouette(base.centers, ours.labels, k) == pytest.approx(plain, abs=1e-9)
        at_centre = base.centers.numpy()[base.labels.numpy()]
        weighted = silhouette_score(at_centre, ours.labels.numpy()[base.labels.numpy()])
        assert km.silhouette(base.centers, ours.labels, k, sizes) == pytest.approx(weighted, abs=1e-9)
