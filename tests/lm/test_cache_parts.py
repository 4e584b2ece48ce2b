"""The call cache on a network filesystem: mounts are read right, the cache falls back to
a per-process part file, and ``cache merge`` folds parts back with the one-file rules."""

from __future__ import annotations

import sqlite3
import sys

import pytest

from culturalign import netfs
from culturalign.cli import main
from culturalign.errors import ConfigError
from culturalign.lm.cache import CallCache
from culturalign.lm.cache_parts import merge_parts, part_path, parts_dir

MOUNTS = """\
sysfs /sys sysfs rw,nosuid 0 0
/dev/sda1 / ext4 rw,relatime 0 0
filer:/export/home {root}/home nfs4 rw,vers=4.2 0 0
10.0.0.5@tcp:/scratch {root}/scratch lustre rw,flock 0 0
/dev/sdb1 {root}/scratch/local ext4 rw 0 0
filer:/proj {root}/my\\040projects nfs rw 0 0
"""


@pytest.fixture()
def mounts(tmp_path) -> tuple[str, str]:
    """A mounts table whose mount points are real folders (paths are resolved on disk)."""
    root = tmp_path.resolve()
    for sub in ("home/ana", "scratch/local", "my projects", "homework"):
        (root / sub).mkdir(parents=True)
    return MOUNTS.format(root=root), str(root)


def test_mounts_give_each_path_its_filesystem(mounts):
    table, root = mounts
    assert netfs.filesystem_of(f"{root}/home/ana/.cache/culturalign/calls.sqlite", table) == "nfs4"
    assert netfs.filesystem_of(f"{root}/scratch/run1/calls.sqlite", table) == "lustre"
    assert netfs.filesystem_of(f"{root}/scratch/local/calls.sqlite", table) == "ext4"  # the longer point
    assert netfs.filesystem_of(f"{root}/my projects/c.sqlite", table) == "nfs"  # an escaped space
    assert netfs.filesystem_of(f"{root}/homework/c.sqlite", table) == "ext4"  # home is no prefix of it
    assert netfs.is_network(f"{root}/home/ana/c.sqlite", table)
    assert netfs.is_network(f"{root}/scratch/c.sqlite", table)
    assert not netfs.is_network(f"{root}/scratch/local/c.sqlite", table)
    assert not netfs.is_network(f"{root}/c.sqlite", table)
    assert netfs.filesystem_of(f"{root}/home", "") is None  # no mounts table (macOS): nothing known


def test_cache_mode_follows_the_filesystem_unless_the_variable_says(mounts, monkeypatch):
    table, root = mounts
    nfs_file, local_file = f"{root}/home/ana/c.sqlite", f"{root}/c.sqlite"
    monkeypatch.delenv(netfs.MODE_ENV, raising=False)
    assert netfs.cache_mode(nfs_file, table) == "per-process"
    assert netfs.cache_mode(local_file, table) == "shared"
    assert netfs.cache_mode(":memory:", table) == "shared"
    monkeypatch.setenv(netfs.MODE_ENV, "shared")
    assert netfs.cache_mode(nfs_file, table) == "shared"
    monkeypatch.setenv(netfs.MODE_ENV, "per-process")
    assert netfs.cache_mode(local_file, table) == "per-process"
    monkeypatch.setenv(netfs.MODE_ENV, "sometimes")
    with pytest.raises(ConfigError, match="CULTURALIGN_CACHE_MODE='sometimes': choose one of auto"):
        netfs.cache_mode(local_file, table)


def _rows(path) -> dict[str, tuple]:
    with sqlite3.connect(path) as db:
        return {
            k: (s, r, e, a)
            for k, s, r, e, a in db.execute("SELECT key, status, result, error, attempts FROM calls")
        }


def test_per_process_cache_reads_main_and_writes_its_own_part(tmp_path, monkeypatch, caplog):
    main = tmp_path / "calls.sqlite"
    first = CallCache(main, mode="shared")
    first.put("old-ok", "generate", "m", {"text": "from before"}, None)
    first.put("old-err", "generate", "m", None, "HTTP 500")
    first.put("old-empty", "generate", "m", {"text": ""}, None)
    first.close()
    before = _rows(main)

    monkeypatch.setenv(netfs.MODE_ENV, "per-process")
    with caplog.at_level("INFO", logger="culturalign.lm.cache"):
        cache = CallCache(main)
    assert cache.mode == "per-process" and cache.part_path == part_path(main)
    assert f"`culturalign cache merge {main}` once the jobs are done" in caplog.text
    assert cache.get_many(["old-ok", "old-err"]) == {"old-ok": {"text": "from before"}}
    cache.put("old-err", "generate", "m", {"text": "fixed"}, None)  # the failure, retried
    cache.put("new", "generate", "m", {"text": "fresh"}, None)
    cache.put("new-err", "generate", "m", None, "timeout")
    cache.put("old-empty", "generate", "m", {"text": "now full"}, None, replace=True)
    cache.put("old-ok", "generate", "m", None, "a later failure")  # must not hide the old success
    assert cache.get_many(["old-ok", "old-err", "new", "new-err", "old-empty"]) == {
        "old-ok": {"text": "from before"},
        "old-err": {"text": "fixed"},
        "new": {"text": "fresh"},
        "old-empty": {"text": "now full"},
    }
    assert cache.count() == 5 and cache.count("ok") == 4 and cache.count("error") == 1
    assert cache.failures() == [("new-err", "timeout")]
    assert cache.total_attempts() == 3 + 5
    cache.close()
    assert _rows(main) == before  # the main file was only read
    assert cache.part_path.is_file()

    monkeypatch.delenv(netfs.MODE_ENV)
    report = merge_parts(main)
    assert (report.parts, report.added, report.updated, report.unchanged) == (1, 2, 2, 1)
    assert not parts_dir(main).exists()  # merged parts are removed
    rows = _rows(main)
    assert rows["old-ok"] == ("ok", '{"text": "from before"}', None, 2)
    assert rows["old-err"][:2] == ("ok", '{"text": "fixed"}') and rows["old-err"][3] == 2
    assert rows["old-empty"][:2] == ("ok", '{"text": "now full"}')  # the rejected success replaced
    assert rows["new"][:2] == ("ok", '{"text": "fresh"}') and rows["new-err"][0] == "error"
    merged = CallCache(main, mode="shared")
    assert merged.total_attempts() == 8  # the same totals as before the merge
    assert merged.count("ok") == 4 and merged.failures() == [("new-err", "timeout")]


def test_parts_from_several_hosts_merge_into_a_new_main_file(tmp_path):
    main = tmp_path / "sub" / "calls.sqlite"
    for pid, text in ((11, "a"), (12, "b")):
        part = part_path(main, pid).with_name(f"node{pid}-{pid}.sqlite")  # another host's part
        part.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(part) as db:
            db.executescript(
                "CREATE TABLE calls (key TEXT PRIMARY KEY, kind TEXT NOT NULL, model TEXT NOT NULL,"
                " status TEXT NOT NULL, result TEXT, error TEXT, attempts INTEGER NOT NULL DEFAULT 1,"
                " created REAL NOT NULL, updated REAL NOT NULL);"
            )
            db.execute(
                "INSERT INTO calls VALUES ('both', 'generate', 'm', 'ok', ?, NULL, 1, 1, 1)", (f'"{text}"',)
            )
            db.execute(
                "INSERT INTO calls VALUES (?, 'generate', 'm', 'ok', '1', NULL, 1, 1, 1)", (f"only-{text}",)
            )
    # a part of this very process is in use: left alone
    live = CallCache(main, mode="per-process")
    live.put("mine", "generate", "m", {"text": "later"}, None)
    report = merge_parts(main)
    assert (report.parts, report.added, report.unchanged) == (2, 3, 1)
    assert report.skipped == (live.part_path.name,) and live.part_path.is_file()
    assert "skipped 1 still in use" in report.summary()
    cache = CallCache(main, mode="shared")
    assert set(cache.get_many(["both", "only-a", "only-b", "mine"])) == {"both", "only-a", "only-b"}
    assert cache.total_attempts() == 4
    live.close()


def _cli(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    """The real entry point in this process: exit code and everything printed."""
    monkeypatch.setattr(sys, "argv", ["culturalign", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    out = capsys.readouterr()
    return exited.value.code or 0, out.out + out.err


def test_cache_merge_command(tmp_path, monkeypatch, capsys):
    main_file = tmp_path / "calls.sqlite"
    monkeypatch.setenv("CULTURALIGN_CACHE", str(main_file))
    code, out = _cli(monkeypatch, capsys, "cache", "merge")
    assert code == 0 and "no part files" in out

    monkeypatch.setenv(netfs.MODE_ENV, "per-process")
    cache = CallCache(main_file)
    cache.put("k", "generate", "m", {"text": "t"}, None)
    cache.close()
    monkeypatch.delenv(netfs.MODE_ENV)
    code, out = _cli(monkeypatch, capsys, "cache", "merge")
    assert code == 0 and "merged 1 part file(s): 1 new calls" in out
    assert CallCache(main_file, mode="shared").get_many(["k"]) == {"k": {"text": "t"}}

    part = parts_dir(main_file) / "elsewhere-99.sqlite"
    part.parent.mkdir()
    part.write_text("not a database at all, " * 50, encoding="utf-8")
    code, out = _cli(monkeypatch, capsys, "cache", "merge", str(main_file))
    assert code == 2 and "Traceback" not in out
    assert f"{part}: cannot use as an SQLite cache part" in out
