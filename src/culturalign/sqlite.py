"""One way to open the SQLite files several processes share (call and embedding caches).

WAL lets readers and one writer work at once; a long busy timeout makes concurrent
writers wait instead of failing; autocommit keeps every write durable on its own.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from culturalign.errors import ConfigError


def connect_shared(path: str | Path) -> sqlite3.Connection:
    path = str(path)
    if path != ":memory:":
        if Path(path).is_dir():
            raise ConfigError(f"{path}: is a folder; the cache needs a file path (e.g. {path}/calls.sqlite)")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        db = sqlite3.connect(path, timeout=120, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA busy_timeout = 120000")
        if path != ":memory:":
            db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError as exc:  # another kind of file, or one we may not write
        raise ConfigError(f"{path}: cannot use as an SQLite cache ({exc})") from None
    return db
