"""The persistent call cache: one SQLite file in WAL mode, shared by processes.

Every model call looks here first, and every result is written the moment it arrives,
so a run killed at any point and started again pays only for what is missing.
Failed calls are stored as failures (with their error) so they show up in reports,
but a lookup treats them as missing: the next run retries them. A stored success is
never overwritten by a later failure.

On a network filesystem (or with ``CULTURALIGN_CACHE_MODE=per-process``) one shared
file is unsafe, so the cache reads the main file and writes a part file of its own,
merged later (``culturalign.lm.cache_parts``); lookups and counts see both.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError
from culturalign.lm import cache_parts
from culturalign.sqlite import connect_shared

log = logging.getLogger(__name__)

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


# Per-process mode: the part's rows and the main file's, one row each (the part's first).
_EVERY_CALL = f"""
CREATE TEMP VIEW IF NOT EXISTS every_call AS
SELECT key, model, status, error, attempts, 0 AS src FROM main.calls
UNION ALL
SELECT key, model, status, error, attempts, 1 AS src FROM {cache_parts.MAIN_ALIAS}.calls
"""


class CallCache:
    """``mode``: ``shared`` (one file), ``per-process`` (a part file beside a read-only
    main file) or None to ask ``culturalign.netfs.cache_mode`` (the environment variable,
    then the filesystem)."""

    def __init__(self, path: str | Path, *, mode: str | None = None):
        from culturalign.netfs import cache_mode

        self.path = str(path)
        self.mode = mode or cache_mode(self.path)
        self._lock = threading.Lock()
        self._reads_main = False
        if self.mode == "per-process" and self.path != ":memory:":
            if Path(self.path).is_dir():
                raise ConfigError(
                    f"{self.path}: is a folder; the cache needs a file path (e.g. {self.path}/calls.sqlite)"
                )
            self.part_path: Path | None = cache_parts.part_path(self.path)
            self._db = connect_shared(self.part_path, journal="DELETE")
            cache_parts.OPEN_PARTS.add(str(self.part_path.resolve()))
            with self._lock:
                self._db.executescript(_SCHEMA + cache_parts.REPLACED_SCHEMA)
                self._reads_main = cache_parts.attach_main(self._db, self.path)
                if self._reads_main:
                    self._db.executescript(_EVERY_CALL)
            log.info(
                "call cache %s: one file per process here (network filesystem or %s); this process "
                "writes %s; fold the parts in with `culturalign cache merge %s` once the jobs are done",
                self.path,
                "CULTURALIGN_CACHE_MODE",
                self.part_path,
                self.path,
            )
        else:
            self.mode, self.part_path = "shared", None
            self._db = connect_shared(self.path)
            with self._lock:
                self._db.executescript(_SCHEMA)

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Successful results for the keys that have one (failures count as missing)."""
        keys = list(dict.fromkeys(keys))
        out: dict[str, dict[str, Any]] = {}
        tables = ["main.calls"] + ([f"{cache_parts.MAIN_ALIAS}.calls"] if self._reads_main else [])
        with self._lock:
            for table in tables:  # this process's own results first
                wanted = [k for k in keys if k not in out]
                for start in range(0, len(wanted), 500):
                    part = wanted[start : start + 500]
                    marks = ",".join("?" * len(part))
                    rows = self._db.execute(
                        f"SELECT key, result FROM {table} WHERE status = 'ok' AND key IN ({marks})", part
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
            if replace and self.part_path is not None:
                # the rejected success may sit in the main file: store ours, and remember
                # that it replaces one, so the merge replaces it there too
                self._db.execute(
                    "INSERT INTO calls (key, kind, model, status, result, error, attempts, created, updated)"
                    " VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT (key) DO UPDATE SET"
                    " status = excluded.status, result = excluded.result, error = excluded.error,"
                    " attempts = calls.attempts + 1, updated = excluded.updated",
                    (key, kind, model, status, payload, error, now, now),
                )
                self._db.execute("INSERT OR IGNORE INTO replaced (key) VALUES (?)", (key,))
                return
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

    def _table(self) -> str:
        """What the counts read: the one file, or the part and the main file together."""
        return "every_call" if self._reads_main else "calls"

    def total_attempts(self, model: str | None = None) -> int:
        """How many calls finished and were stored, over every run that used this cache."""
        q, args = f"SELECT COALESCE(SUM(attempts), 0) FROM {self._table()}", ()
        if model:
            q, args = q + " WHERE model = ?", (model,)
        with self._lock:
            return int(self._db.execute(q, args).fetchone()[0])

    def failures(self, model: str | None = None) -> list[tuple[str, str]]:
        """Keys with no success anywhere, with their latest error (this process's first)."""
        where, args = ("WHERE model = ?", (model,)) if model else ("", ())
        # SQLite gives the bare column ``error`` from the row that has MIN(src)
        q = (
            f"SELECT key, error FROM (SELECT key, error, MIN(src) FROM every_call {where} GROUP BY key"
            " HAVING SUM(status = 'ok') = 0)"
            if self._reads_main
            else f"SELECT key, error FROM calls WHERE status = 'error' {where.replace('WHERE', 'AND')}"
        )
        with self._lock:
            return self._db.execute(q, args).fetchall()

    def count(self, status: str | None = None) -> int:
        """Distinct keys stored, or those whose status is ``status`` (a success anywhere wins)."""
        q = (
            "SELECT COUNT(*) FROM (SELECT key, CASE WHEN SUM(status = 'ok') > 0 THEN 'ok' ELSE 'error' END"
            " AS status FROM every_call GROUP BY key)"
            if self._reads_main
            else "SELECT COUNT(*) FROM calls"
        )
        with self._lock:
            if status:
                return self._db.execute(q + " WHERE status = ?", (status,)).fetchone()[0]
            return self._db.execute(q).fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
        if self.part_path is not None:
            cache_parts.OPEN_PARTS.discard(str(self.part_path.resolve()))
