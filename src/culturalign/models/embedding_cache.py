"""An on-disk cache of sentence embeddings: one SQLite file, keyed by embedder and text.

CAReDiO's selection embeds tens of thousands of texts, most of them again on every
rerun; storing each vector once (float32 bytes) turns a rerun into a lookup. The key
is the embedder's identity (name plus weights hash or version) and the SHA-256 of the
text, so a changed model never serves another model's vectors. Several processes may
share the file (WAL).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from culturalign.sqlite import connect_shared

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    embedder TEXT NOT NULL,
    text_sha TEXT NOT NULL,
    dim      INTEGER NOT NULL,
    vec      BLOB NOT NULL,
    PRIMARY KEY (embedder, text_sha)
) WITHOUT ROWID;
"""


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    def __init__(self, path: str | Path):
        self.path = str(path)
        self._lock = threading.Lock()
        self._db = connect_shared(self.path)
        with self._lock:
            self._db.executescript(_SCHEMA)

    def get_many(self, embedder: str, keys: Iterable[str]) -> dict[str, np.ndarray]:
        keys = list(dict.fromkeys(keys))
        out: dict[str, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                marks = ",".join("?" * len(part))
                rows = self._db.execute(
                    f"SELECT text_sha, vec FROM vectors WHERE embedder = ? AND text_sha IN ({marks})",
                    [embedder, *part],
                ).fetchall()
                for key, blob in rows:
                    out[key] = np.frombuffer(blob, dtype=np.float32)
        return out

    def put_many(self, embedder: str, items: Iterable[tuple[str, np.ndarray]]) -> None:
        rows = [
            (embedder, k, int(v.shape[0]), np.ascontiguousarray(v, dtype=np.float32).tobytes())
            for k, v in items
        ]
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)", rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def count(self, embedder: str | None = None) -> int:
        q, args = "SELECT COUNT(*) FROM vectors", ()
        if embedder:
            q, args = q + " WHERE embedder = ?", (embedder,)
        with self._lock:
            return int(self._db.execute(q, args).fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
