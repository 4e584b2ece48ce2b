"""Threshold clustering by cosine similarity, and one centre per cluster (paper 002 §3.3,
"Representativeness Measurement": agglomerative clustering merges samples whose cosine
similarity exceeds θ; one central sample per cluster is kept).

The partition is the one scikit-learn's ``AgglomerativeClustering(n_clusters=None,
metric="cosine", linkage=L, distance_threshold=1 - θ)`` gives, computed without its
n × n matrix:

* ``single`` (default): two samples end up together when a chain of pairs with cosine
  distance below 1 − θ joins them, so the clusters are the connected components of the
  graph "cos > θ" (strictly: scikit-learn merges while distance < threshold). The edges
  come from ``pairs.similar_pairs`` (blocked products); pairs within 2e-4 of θ are
  re-decided with SciPy's own float64 cosine distance, the function scikit-learn uses.
  Cost: the pair search plus O(n + edges).
* ``complete`` / ``average``: every merge below the threshold joins clusters whose
  closest members are also below it, so these clusters never cross the single-linkage
  components; each component is clustered with SciPy's linkage on its own distances
  (exactly what scikit-learn runs on the whole matrix). Cost: O(m²) memory and time per
  component of size m; a component above ``MAX_COMPONENT`` is refused with a hint.

Equal distances exactly at a merge are the one place the two can differ (ties).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from culturalign.errors import ConfigError
from culturalign.select.pairs import group_sums, similar_pairs, unit_rows

Linkage = Literal["single", "complete", "average"]
LINKAGES: tuple[str, ...] = ("single", "complete", "average")
BORDER = 2e-4  # float32 similarities this close to θ are recomputed in float64
MAX_COMPONENT = 25_000  # complete/average: a component's distance matrix must fit in memory
_COMPRESS_EDGES = 4_000_000


@dataclass
class Clustering:
    labels: np.ndarray  # (n,) cluster of each sample, numbered by first appearance
    linkage: str
    theta: float
    stats: dict = field(default_factory=dict)

    @property
    def n_clusters(self) -> int:
        return int(self.labels.max()) + 1 if len(self.labels) else 0

    @property
    def sizes(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=self.n_clusters)


def canonical(labels: np.ndarray) -> np.ndarray:
    """Relabel so clusters are numbered 0, 1, ... in order of their first member: two
    partitions are equal exactly when their canonical labels are."""
    labels = np.asarray(labels)
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.reshape(-1)]


class _Forest:
    """Edges accumulated into connected components with bounded memory."""

    def __init__(self, n: int):
        self.n = n
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.pending = 0
        self.edges = 0

    def add(self, i: np.ndarray, j: np.ndarray) -> None:
        if len(i):
            self.rows.append(i.astype(np.int64))
            self.cols.append(j.astype(np.int64))
            self.pending += len(i)
            self.edges += len(i)
            if self.pending > _COMPRESS_EDGES:
                self._compress()

    def _compress(self) -> None:
        labels = self.labels()
        # a star per component (each member to its component's first member) keeps connectivity
        first = np.full(labels.max() + 1, -1, dtype=np.int64)
        idx = np.arange(self.n)
        first[labels[::-1]] = idx[::-1]
        keep = first[labels] != idx
        self.rows, self.cols = [idx[keep]], [first[labels][keep]]
        self.pending = int(keep.sum())

    def labels(self) -> np.ndarray:
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        if not self.rows:
            return np.arange(self.n)
        r, c = np.concatenate(self.rows), np.concatenate(self.cols)
        graph = coo_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(self.n, self.n)).tocsr()
        return connected_components(graph, directed=False)[1]


def threshold_clusters(
    x: np.ndarray,
    theta: float = 0.7,
    linkage: str = "single",
    *,
    precision: str = "auto",
    desc: str = "clustering",
) -> Clustering:
    """Cluster rows of ``x`` (any lengths; cosine ignores them) at similarity ``theta``."""
    if linkage not in LINKAGES:
        raise ConfigError(f"unknown linkage {linkage!r}; choose {', '.join(LINKAGES)}")
    if not -1.0 <= theta <= 1.0:
        raise ConfigError(f"θ must be a cosine similarity in [-1, 1], got {theta}")
    x = np.asarray(x)
    if x.ndim != 2:
        raise ConfigError(f"embeddings must be a 2-D array, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ConfigError("embeddings contain NaN or infinite values")
    n = len(x)
    xu = unit_rows(x)
    cut = 1.0 - theta  # scikit-learn's distance_threshold: merge while distance < cut
    forest = _Forest(n)
    border = 0
    for i, j, sim in similar_pairs(xu, theta - BORDER, precision=precision, desc=desc):
        sure = sim > theta + BORDER
        forest.add(i[sure], j[sure])
        if not sure.all():
            bi, bj = i[~sure], j[~sure]
            border += len(bi)
            d = _scipy_cosine(x, bi, bj)
            ok = d < cut
            forest.add(bi[ok], bj[ok])
    comp = forest.labels()
    stats = {"n": n, "edges": forest.edges, "border_pairs_rechecked": border}
    if linkage == "single" or n < 2:
        labels = canonical(comp)
    else:
        labels = canonical(_within_components(x, comp, linkage, cut))
    sizes = np.bincount(labels) if n else np.zeros(0, dtype=np.int64)
    stats.update(
        clusters=len(sizes), largest=int(sizes.max()) if n else 0, singletons=int((sizes == 1).sum())
    )
    return Clustering(labels, linkage, theta, stats)


def _scipy_cosine(x: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Cosine distance of pairs exactly as scipy's pdist/cdist compute it (float64)."""
    from scipy.spatial.distance import cdist

    a = x[i].astype(np.float64)
    b = x[j].astype(np.float64)
    return np.array([cdist(a[k : k + 1], b[k : k + 1], "cosine")[0, 0] for k in range(len(a))])


def _within_components(x: np.ndarray, comp: np.ndarray, linkage: str, cut: float) -> np.ndarray:
    from scipy.cluster.hierarchy import linkage as scipy_linkage

    order = np.argsort(comp, kind="stable")
    bounds = np.flatnonzero(np.diff(comp[order])) + 1
    labels = np.arange(len(x))  # singletons keep their own index
    for members in np.split(order, bounds):
        m = len(members)
        if m < 2:
            continue
        if m > MAX_COMPONENT:
            raise ConfigError(
                f"{linkage} linkage: {m} samples are chained together at this θ, and clustering "
                f"them exactly needs a {m}×{m} distance matrix; use --linkage single, or a higher θ"
            )
        z = scipy_linkage(x[members].astype(np.float64), method=linkage, metric="cosine")
        # undo the merges at or above the threshold, as scikit-learn's tree cut does
        parent = np.arange(2 * m - 1)
        for step, (a, b, dist, _) in enumerate(z):
            if dist < cut:
                parent[int(a)] = parent[int(b)] = m + step
        root = np.arange(2 * m - 1)
        for node in range(2 * m - 2, -1, -1):  # parents have larger ids: resolve top-down
            p = parent[node]
            root[node] = root[p] if p != node else node
        # global ids that cannot collide across components: each cluster's smallest index
        _, inv = np.unique(root[:m], return_inverse=True)
        smallest = np.full(inv.max() + 1, len(x), dtype=np.int64)
        np.minimum.at(smallest, inv, members)
        labels[members] = smallest[inv]
    return labels


def cluster_centers(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """For each cluster, the member with the highest mean cosine similarity to the other
    members (ties within 1e-10: the earliest), in cluster order. Uses Σ_j cos(i, j) = u_i · Σ_j u_j for
    unit vectors u, so it costs O(n·dim) instead of O(size²) per cluster."""
    labels = np.asarray(labels)
    if not len(labels):
        return np.zeros(0, dtype=np.int64)
    k = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=k)
    centers = np.full(k, -1, dtype=np.int64)
    single = sizes[labels] == 1
    centers[labels[single]] = np.flatnonzero(single)
    multi = np.flatnonzero(~single)
    if len(multi):
        u = unit_rows(x[multi])
        lab = labels[multi]
        sums = group_sums(u, lab, k)
        score = np.empty(len(multi), dtype=np.float64)
        rows = 16_384
        for s in range(0, len(multi), rows):
            part = u[s : s + rows].astype(np.float64)
            # similarity to the other members = to all members minus to itself
            score[s : s + rows] = np.einsum("ij,ij->i", part, sums[lab[s : s + rows]]) - np.einsum(
                "ij,ij->i", part, part
            )
        # by cluster, best score, earliest index; scores are rounded so that ties (e.g. the
        # two members of a pair) are not decided by summation-order noise
        order = np.lexsort((multi, -np.round(score, 10), lab))
        first = np.flatnonzero(np.r_[True, np.diff(lab[order]) != 0])
        centers[lab[order[first]]] = multi[order[first]]
    return centers
