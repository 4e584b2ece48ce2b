"""The persistent call cache: one SQLite file in WAL mode, shared by processes.

Every model call looks here first, and every result is written the moment it arrives,
so a run killed at any point and started again pays only for what is missing.
Failed calls are stored as failures (with their error) so they show up in reports,
but a lookup treats them as missing: the next run retries them. A stored success is
never overwritten by a later failure.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from culturalign.sqlite import connect_shared

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    key      TEXT PRIMARY KEY,
    kind     TEXT NOT NULL,
    model    TEXT NOT NULL,
    status   TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    result   TEXT,
    error    TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    created  REAL NOT NULL,
    updated  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_model ON calls (model, kind);
"""


class CallCache:
    def __init__(self, path: str | Path):
        self.path = str(path)
        self._lock = threading.Lock()
        self._db = connect_shared(self.path)
        with self._lock:
            self._db.executescript(_SCHEMA)

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Successful results for the keys that have one (failures count as missing)."""
        keys = list(dict.fromkeys(keys))
        out: dict[str, dict[str, Any]] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                marks = ",".join("?" * len(part))
                rows = self._db.execute(
                    f"SELECT key, result FROM calls WHERE status = 'ok' AND key IN ({marks})", part
                ).fetchall()
                for key, result in rows:
                    out[key] = json.loads(result)
        return out

    def put(
        self,
        key: str,
        kind: str,
        model: str,
        result: dict[str, Any] | None,
        error: str | None,
        *,
        replace: bool = False,
    ) -> None:
        """Store one finished call. ``attempts`` counts every call that finished for this
        key (so it also exposes work done twice, e.g. by two processes racing); a stored
        success is never replaced, unless ``replace`` says the caller rejected it (an
        empty reply an older version stored as a success)."""
        now = time.time()
        status = "error" if error is not None else "ok"
        payload = None if result is None else json.dumps(result, ensure_ascii=False)
        with self._lock:
            if replace:
                self._db.execute(
                    "UPDATE calls SET status = ?, result = ?, error = ?, attempts = attempts + 1, updated = ?"
                    " WHERE key = ?",
                    (status, payload, error, now, key),
                )
                return
            self._db.execute(
                """
                INSERT INTO calls (key, kind, model, status, result, error, attempts, created, updated)
                VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)
                ON CONFLICT (key) DO UPDATE SET
                    result = CASE WHEN calls.status = 'ok' THEN calls.result ELSE excluded.result END,
                    error = CASE WHEN calls.status = 'ok' THEN calls.error ELSE excluded.error END,
                    status = CASE WHEN calls.status = 'ok' THEN 'ok' ELSE excluded.status END,
                    attempts = calls.attempts + 1,
                    updated = excluded.updated
                """,
                (key, kind, model, status, payload, error, now, now),
            )

    def total_attempts(self, model: str | None = None) -> int:
        """How many calls finished and were stored, over every run that used this cache."""
        q, args = "SELECT COALESCE(SUM(attempts), 0) FROM calls", ()
        if model:
            q, args = q + " WHERE model = ?", (model,)
        with self._lock:
            return int(self._db.execute(q, args).fetchone()[0])

    def failures(self, model: str | None = None) -> list[tuple[str, str]]:
        q = "SELECT key, error FROM calls WHERE status = 'error'"
        args: tuple = ()
        if model:
            q += " AND model = ?"
            args = (model,)
        with self._lock:
            return self._db.execute(q, args).fetchall()

    def count(self, status: str | None = None) -> int:
        with self._lock:
            if status:
                return self._db.execute("SELECT COUNT(*) FROM calls WHERE status = ?", (status,)).fetchone()[
                    0
                ]
            return self._db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
