"""One way to open the SQLite files several processes share (call and embedding caches).

WAL lets readers and one writer work at once; a long busy timeout makes concurrent
writers wait instead of failing; autocommit keeps every write durable on its own.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def connect_shared(path: str | Path) -> sqlite3.Connection:
    path = str(path)
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=120, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA busy_timeout = 120000")
    if path != ":memory:":
        db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    return db
