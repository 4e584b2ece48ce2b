"""Near-duplicate removal for generated questions (self-instruct keeps a new instruction
only if it is not too close to any kept one; we use embedding cosine or, without an
embedder, a normalised-string match)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from culturalign.synth.parse import normalize_question

Encode = Callable[[Sequence[str]], np.ndarray]


class NearDuplicateFilter:
    """Greedy and order-preserving: a candidate is kept when its normalised text is new and
    its cosine similarity to every kept question is at most ``threshold``.

    Greedy (not clustering) on purpose: with A≈B and B≈C but A≉C, clustering would drop C
    as well; here C stays once B is gone.
    """

    def __init__(self, encode: Encode | None, threshold: float = 0.9):
        self.encode = encode
        self.threshold = threshold
        self._keys: set[str] = set()
        self._buf: np.ndarray | None = None  # kept vectors in rows [0, _n), grown by doubling
        self._n = 0
        self.dropped_exact = 0
        self.dropped_near = 0

    def admit(self, candidates: Sequence[str], limit: int | None = None) -> list[bool]:
        """Which candidates to keep (those kept are remembered for later calls); at most
        ``limit`` are kept, the rest are neither kept nor counted as duplicates."""
        vecs = self.encode(list(candidates)) if (self.encode is not None and candidates) else None
        keep: list[bool] = []
        for i, text in enumerate(candidates):
            if limit is not None and sum(keep) >= limit:
                keep.append(False)
                continue
            key = normalize_question(text)
            if key in self._keys:
                self.dropped_exact += 1
                keep.append(False)
                continue
            if vecs is not None:
                v = np.asarray(vecs[i], dtype=np.float32)
                if self._n and float(np.max(self._buf[: self._n] @ v)) > self.threshold:
                    self.dropped_near += 1
                    keep.append(False)
                    continue
                self._push(v)
            self._keys.add(key)
            keep.append(True)
        return keep

    def _push(self, v: np.ndarray) -> None:
        if self._buf is None:
            self._buf = np.empty((64, v.shape[0]), dtype=np.float32)
        elif self._n == len(self._buf):
            self._buf = np.vstack([self._buf, np.empty_like(self._buf)])
        self._buf[self._n] = v
        self._n += 1
