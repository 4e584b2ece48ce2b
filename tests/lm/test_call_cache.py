"""The SQLite call cache: failures are retried, successes kept, attempts counted, and
several processes can write one file at the same time without losing or corrupting rows."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3

import pytest

from culturalign.errors import ConfigError
from culturalign.lm.cache import CallCache


def test_failure_then_success_then_no_overwrite(tmp_path):
    cache = CallCache(tmp_path / "c.sqlite")
    cache.put("k", "generate", "m", None, "HTTP 500: boom")
    assert cache.get_many(["k"]) == {}  # a failure counts as missing
    assert cache.failures() == [("k", "HTTP 500: boom")]
    cache.put("k", "generate", "m", {"text": "hello"}, None)
    cache.put("k", "generate", "m", None, "a later failure")  # must not replace the success
    assert cache.get_many(["k"]) == {"k": {"text": "hello"}}
    assert cache.failures() == []
    assert cache.total_attempts() == 3  # every finished call is counted, even redundant ones


def test_a_file_that_is_not_a_database_is_a_plain_error(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("these are my notes, not a cache\n" * 10, encoding="utf-8")
    with pytest.raises(ConfigError, match=f"{notes}: cannot use as an SQLite cache"):
        CallCache(notes)
    assert notes.read_text(encoding="utf-8").startswith("these are my notes")  # left as it was
    with pytest.raises(ConfigError, match="is a folder; the cache needs a file path"):
        CallCache(tmp_path)


def _writer(path: str, worker: int, n: int) -> None:
    cache = CallCache(path)
    for i in range(n):
        # half the keys are shared between workers: they race on the same rows
        key = f"shared-{i}" if i % 2 == 0 else f"w{worker}-{i}"
        cache.put(key, "generate", "m", {"text": f"{worker}:{i}"}, None)
    cache.close()


def test_processes_share_one_cache(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    CallCache(path).close()
    workers, n = 4, 150
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, w, n)) for w in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    cache = CallCache(path)
    shared, own = n // 2, n - n // 2
    assert cache.count("ok") == shared + workers * own
    assert cache.total_attempts() == workers * n  # no write was lost
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
