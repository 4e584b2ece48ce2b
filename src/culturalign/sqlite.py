"""One way to open the SQLite files several processes share (call and embedding caches).

WAL lets readers and one writer work at once; a long busy timeout makes concurrent
writers wait instead of failing; autocommit keeps every write durable on its own.
WAL does not work on a network filesystem (its index lives in shared memory), so there
the file keeps a rollback journal and a warning says so (``culturalign.netfs``); the
call cache goes further and writes one file per process (``lm.cache_parts``).
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from culturalign.errors import ConfigError

log = logging.getLogger(__name__)
_warned: set[str] = set()


def connect_shared(path: str | Path, *, journal: str | None = None) -> sqlite3.Connection:
    """``journal``: the journal mode; None picks WAL, or DELETE on a network filesystem."""
    path = str(path)
    if path != ":memory:":
        if Path(path).is_dir():
            raise ConfigError(f"{path}: is a folder; the cache needs a file path (e.g. {path}/calls.sqlite)")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if journal is None:
            from culturalign.netfs import filesystem_of, is_network

            journal = "WAL"
            if is_network(path):
                journal = "DELETE"
                if path not in _warned:
                    _warned.add(path)
                    log.warning(
                        "%s is on a network filesystem (%s), where SQLite's WAL mode is unsafe: using a "
                        "rollback journal; several hosts writing at once can still conflict, so give each "
                        "host its own file (CULTURALIGN_CACHE) if they do",
                        path,
                        filesystem_of(path),
                    )
    try:
        db = sqlite3.connect(path, timeout=120, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA busy_timeout = 120000")
        if path != ":memory:":
            db.execute(f"PRAGMA journal_mode = {journal}")
        db.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError as exc:  # another kind of file, or one we may not write
        raise ConfigError(f"{path}: cannot use as an SQLite cache ({exc})") from None
    return db
