"""Synthetic clustered unit vectors for the selection benchmarks and tests.

Not a model of real sentence embeddings, but shaped like them where it matters for
clustering: groups of near-paraphrases (clusters whose spread straddles θ = 0.7, so
some clusters hold together, some split and some fall apart into singletons), clusters
that share a broader topic (centres correlated, cosine ≈ 0.4), a heavy-tailed size
distribution, and a background of unrelated vectors.
"""

from __future__ import annotations

import numpy as np


def clustered_unit_vectors(
    n: int,
    dim: int = 512,
    *,
    seed: int = 0,
    mean_cluster: float = 8.0,
    topics: int | None = None,
    background: float = 0.1,
    spread: tuple[float, float] = (0.4, 0.9),
) -> tuple[np.ndarray, np.ndarray]:
    """``(vectors, true_cluster)``: float32 unit rows, and each row's generating cluster
    (-1 for background rows)."""
    rng = np.random.default_rng(seed)
    n_bg = round(n * background)
    n_cl = n - n_bg
    k = max(1, round(n_cl / mean_cluster))
    topics = topics or max(1, k // 20)
    topic_dirs = _unit(rng.standard_normal((topics, dim)))
    centers = _unit(
        0.8 * topic_dirs[rng.integers(0, topics, k)] + rng.standard_normal((k, dim)) / np.sqrt(dim)
    )
    weights = 1.0 / np.arange(1, k + 1) ** 0.8  # heavy-tailed cluster sizes
    weights = weights[rng.permutation(k)]
    labels = rng.choice(k, size=n_cl, p=weights / weights.sum())
    sigma = rng.uniform(*spread, size=k).astype(np.float32)
    out = np.empty((n, dim), dtype=np.float32)
    for s in range(0, n_cl, 50_000):
        lab = labels[s : s + 50_000]
        noise = rng.standard_normal((len(lab), dim), dtype=np.float32) / np.float32(np.sqrt(dim))
        out[s : s + len(lab)] = centers[lab] + noise * sigma[lab][:, None]
    out[n_cl:] = rng.standard_normal((n_bg, dim), dtype=np.float32)
    true = np.concatenate([labels, -np.ones(n_bg, dtype=np.int64)])
    perm = rng.permutation(n)
    return _unit(out[perm]).astype(np.float32), true[perm]


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=1, keepdims=True)
