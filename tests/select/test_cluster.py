"""Threshold clustering gives scikit-learn's partition, and centres are the most central
members (paper 002 §3.3)."""

from __future__ import annotations

import numpy as np
import pytest

from culturalign.errors import ConfigError
from culturalign.select.cluster import canonical, cluster_centers, threshold_clusters
from culturalign.select.synthetic import clustered_unit_vectors


def _sklearn(x: np.ndarray, theta: float, linkage: str) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage=linkage, distance_threshold=1 - theta
    )
    return canonical(model.fit(x).labels_)


@pytest.mark.parametrize("linkage", ["single", "complete", "average"])
def test_same_partition_as_sklearn(linkage):
    x, _ = clustered_unit_vectors(400, dim=48, seed=3, mean_cluster=6)
    ours = threshold_clusters(x, 0.7, linkage, precision="float32")
    assert ours.n_clusters > 20 and ours.sizes.max() > 3  # a non-trivial partition
    assert np.array_equal(ours.labels, _sklearn(x, 0.7, linkage))


def test_bfloat16_prefilter_loses_nothing():
    x, _ = clustered_unit_vectors(700, dim=64, seed=5, mean_cluster=5)
    a = threshold_clusters(x, 0.7, "single", precision="float32")
    b = threshold_clusters(x, 0.7, "single", precision="bfloat16")
    assert np.array_equal(a.labels, b.labels)
    assert a.stats["edges"] == b.stats["edges"]
    assert np.array_equal(a.labels, _sklearn(x, 0.7, "single"))


def test_strict_threshold_like_sklearn_on_near_ties():
    # pairs at cosine θ - 1e-9, θ + 1e-9 and as close to θ as float64 allows
    theta = 0.7
    rows = []
    for delta in (-1e-9, 1e-9, 0.0, 1e-12, -1e-12):
        c = theta + delta
        rows += [[1.0, 0.0, 0.0], [c, np.sqrt(1 - c * c), 0.0]]
    x = np.array(rows)
    # put each pair in its own direction of a larger space so pairs do not meet each other
    big = np.zeros((len(rows), 3 * len(rows)))
    for p in range(len(rows) // 2):
        big[2 * p : 2 * p + 2, 3 * p : 3 * p + 3] = x[2 * p : 2 * p + 2]
    ours = threshold_clusters(big, theta, "single", precision="float32")
    assert np.array_equal(ours.labels, _sklearn(big, theta, "single"))
    assert ours.labels[2] == ours.labels[3]  # 0.7 + 1e-9 merges
    assert ours.labels[0] != ours.labels[1]  # 0.7 - 1e-9 does not


def test_duplicates_zero_vectors_and_bad_input():
    x = np.array([[1.0, 0], [1.0, 0], [0.0, 0], [0, 1.0]])
    res = threshold_clusters(x, 0.7)
    assert res.labels.tolist() == [0, 0, 1, 2]
    assert threshold_clusters(np.zeros((0, 4)), 0.7).n_clusters == 0
    with pytest.raises(ConfigError, match="NaN"):
        threshold_clusters(np.array([[np.nan, 1.0]]), 0.7)
    with pytest.raises(ConfigError, match="linkage"):
        threshold_clusters(x, 0.7, "ward")


def test_centres_have_highest_mean_similarity_to_their_cluster():
    x, _ = clustered_unit_vectors(300, dim=32, seed=11, mean_cluster=10, spread=(0.3, 0.6))
    res = threshold_clusters(x, 0.7)
    centers = cluster_centers(x, res.labels)
    u = x.astype(np.float64) / np.linalg.norm(x.astype(np.float64), axis=1, keepdims=True)
    for k in range(res.n_clusters):
        members = np.flatnonzero(res.labels == k)
        if len(members) == 1:
            assert centers[k] == members[0]
            continue
        sims = u[members] @ u[members].T
        mean_to_others = (sims.sum(axis=1) - np.diag(sims)) / (len(members) - 1)
        best = np.flatnonzero(mean_to_others >= mean_to_others.max() - 1e-9)
        assert centers[k] == members[best[0]]  # the best, the earliest among ties
    assert res.sizes.max() > 3


def test_canonical_labels_number_clusters_by_first_member():
    assert canonical(np.array([7, 7, 2, 9, 2])).tolist() == [0, 0, 1, 2, 1]
