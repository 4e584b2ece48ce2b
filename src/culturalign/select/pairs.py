"""All pairs of unit vectors whose cosine similarity exceeds a threshold, without the
n × n matrix: tiles of rows times later rows, keeping only the pairs above the
threshold, so memory stays O(tile + result) while the work is n²/2 dot products.

Metric pruning (cells plus the triangle inequality on angles) was tried and dropped:
on 512-dimensional embeddings nearly every vector lies 50-90° from any centre, so the
bounds rule out almost nothing. What pays instead:

* Locality. Rows are put in the order of a coarse spherical k-means, so similar vectors
  sit in nearby tiles. Each 2048 × 8192 tile is summarised by the maxima of its
  128 × 512 sub-tiles; only sub-tiles whose maximum passes the threshold are searched
  for pairs (a few percent on clustered data).
* Arithmetic speed. Where the CPU multiplies bfloat16 matrices much faster than float32
  (Intel AMX: about 7× here), the tile maxima come from a bfloat16 product, used only
  as a filter. Rounding both inputs (relative error ≤ 2⁻⁸ each) and the result to
  bfloat16 moves a cosine of unit vectors by at most 2·2⁻⁸ + 2⁻¹⁶ + 2⁻⁸ < 0.012, so a
  sub-tile is searched whenever its bfloat16 maximum is within ``BF16_MARGIN`` (0.02) of
  the threshold, and its similarities are then recomputed in float32. No pair is lost,
  and every similarity reported is the float32 one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from functools import lru_cache

import numpy as np

from culturalign.progress import track

BF16_MARGIN = 0.02
BF16_MIN_N = 30_000  # below this, importing torch costs more than bfloat16 saves
TILE_ROWS, TILE_COLS = 2048, 8192
SUB_ROWS, SUB_COLS = 128, 512
_PAIR_CHUNK = 65_536


def unit_rows(x: np.ndarray) -> np.ndarray:
    """float32 rows scaled to length 1 (zero rows stay zero: they match nothing)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def group_sums(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """(k, dim) float64 sums of the rows of ``x`` per label (labels in 0..k-1)."""
    out = np.zeros((k, x.shape[1]), dtype=np.float64)
    if not len(x):
        return out
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    starts = np.flatnonzero(np.r_[True, np.diff(sorted_labels) != 0])
    step = 4096
    for s in range(0, len(starts), step):  # bounded copies
        lo = starts[s]
        hi = starts[s + step] if s + step < len(starts) else len(order)
        out[sorted_labels[starts[s : s + step]]] = np.add.reduceat(
            x[order[lo:hi]], starts[s : s + step] - lo, axis=0, dtype=np.float64
        )
    return out


def _sums32(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Per-label float32 sums as one sparse product (fast; precision does not matter here)."""
    from scipy.sparse import csr_matrix

    onehot = csr_matrix((np.ones(len(x), np.float32), (labels, np.arange(len(x)))), shape=(k, len(x)))
    return np.asarray(onehot @ x)


def _threads() -> int:
    return max(1, int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1))


@lru_cache(maxsize=1)
def bf16_speedup() -> float:
    """How much faster a bfloat16 matrix product is than float32 here (measured once)."""
    try:
        import torch
    except ImportError:
        return 0.0
    torch.set_num_threads(_threads())
    a, b = torch.randn(1024, 512), torch.randn(4096, 512)
    times = {}
    for dtype in (torch.float32, torch.bfloat16):
        x, y = a.to(dtype), b.to(dtype)
        x @ y.T  # warm up
        t = time.perf_counter()
        for _ in range(3):
            x @ y.T
        times[dtype] = time.perf_counter() - t
    return times[torch.float32] / max(times[torch.bfloat16], 1e-9)


def choose_precision(n: int, precision: str = "auto") -> str:
    if precision in ("float32", "bfloat16"):
        return precision
    if precision != "auto":
        from culturalign.errors import ConfigError

        raise ConfigError(f"unknown precision {precision!r}; use auto, float32 or bfloat16")
    return "bfloat16" if n >= BF16_MIN_N and bf16_speedup() >= 2.0 else "float32"


def coarse_order(x: np.ndarray, iters: int = 5, seed: int = 0, per_cell: int = 256) -> np.ndarray:
    """A permutation that groups similar rows (spherical k-means with about n/256 cells,
    fitted on a sample). It changes only the speed of the search, never its result."""
    n = len(x)
    k = int(min(2048, max(1, n // per_cell)))
    if k < 2:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    fit = x[np.sort(rng.choice(n, min(n, 40 * k), replace=False))]
    centers = fit[np.sort(rng.choice(len(fit), k, replace=False))]
    for _ in range(iters):
        assign = np.concatenate(
            [np.argmax(fit[s : s + 8192] @ centers.T, axis=1) for s in range(0, len(fit), 8192)]
        )
        sums = _sums32(fit, assign, k)
        empty = ~np.any(sums, axis=1)
        sums[empty] = centers[empty]  # an emptied cell keeps its old centre
        centers = unit_rows(sums)
    assign = np.concatenate([np.argmax(x[s : s + 8192] @ centers.T, axis=1) for s in range(0, n, 8192)])
    return np.argsort(assign, kind="stable")


def similar_pairs(
    x: np.ndarray, threshold: float, *, precision: str = "auto", desc: str = "similar pairs"
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(i, j, sim)`` with i < j and float32 cosine ``sim > threshold`` for the rows
    of the unit-row float32 matrix ``x``; every qualifying pair comes exactly once."""
    n = len(x)
    if n < 2:
        return
    mode = choose_precision(n, precision)
    perm = coarse_order(x)
    # pad to whole sub-tiles with zero rows; their pairs are dropped by index below
    pad = -n % SUB_COLS
    xs = np.zeros((n + pad, x.shape[1]), dtype=np.float32)
    xs[:n] = x[perm]
    total = len(xs)
    if mode == "bfloat16":
        import torch

        torch.set_num_threads(_threads())
        xb = torch.from_numpy(xs).to(torch.bfloat16)
        loose = threshold - BF16_MARGIN

        def maxima(s: int, e: int, cs: int, ce: int) -> tuple[np.ndarray, None]:
            with torch.inference_mode():
                block = xb[s:e] @ xb[cs:ce].T
                shaped = block.reshape((e - s) // SUB_ROWS, SUB_ROWS, (ce - cs) // SUB_COLS, SUB_COLS)
                return shaped.amax(dim=(1, 3)).float().numpy(), None
    else:
        loose = threshold

        def maxima(s: int, e: int, cs: int, ce: int) -> tuple[np.ndarray, np.ndarray]:
            block = xs[s:e] @ xs[cs:ce].T
            shaped = block.reshape((e - s) // SUB_ROWS, SUB_ROWS, (ce - cs) // SUB_COLS, SUB_COLS)
            return shaped.max(axis=(1, 3)), block

    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits

    # bfloat16 mode recomputes small sub-tiles with numpy: one BLAS thread each (threads
    # fight over tiny products, badly so on a busy machine); torch keeps its own threads
    limit = threadpool_limits(1, user_api="blas") if mode == "bfloat16" else nullcontext()
    with track(n, f"{desc} ({mode})", counts=False) as bar, limit:
        for s in range(0, total, TILE_ROWS):
            e = min(total, s + TILE_ROWS)
            for cs in range(s, total, TILE_COLS):
                ce = min(total, cs + TILE_COLS)
                grid, block = maxima(s, e, cs, ce)
                for a, b in zip(*np.nonzero(grid > loose), strict=True):
                    r0, c0 = s + a * SUB_ROWS, cs + b * SUB_COLS
                    if block is not None:
                        sub = block[r0 - s : r0 - s + SUB_ROWS, c0 - cs : c0 - cs + SUB_COLS]
                    else:  # the exact float32 products of this sub-tile
                        sub = xs[r0 : r0 + SUB_ROWS] @ xs[c0 : c0 + SUB_COLS].T
                    i, j = np.nonzero(sub > threshold)
                    sim = sub[i, j]
                    i, j = i + r0, j + c0
                    keep = (j > i) & (j < n)
                    if keep.any():
                        ii, jj = perm[i[keep]], perm[j[keep]]
                        yield np.minimum(ii, jj), np.maximum(ii, jj), sim[keep]
            bar.advance(min(e, n) - min(s, n))
