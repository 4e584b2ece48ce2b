"""The call cache on a network filesystem: one part file per process, merged afterwards.

SQLite's locks and WAL index are not safe on NFS, Lustre and their kin
(``culturalign.netfs``), yet cluster jobs often keep the cache in a home folder on
exactly such a filesystem and run many processes on many hosts at once. In
``per-process`` mode no process writes the main file: each one reads it (results from
earlier, merged runs) and writes its own results to ``<cache>.parts/<host>-<pid>.sqlite``,
a file nobody else touches. ``culturalign cache merge`` (``merge_parts``) later folds
the parts into the main file, with the rules ``CallCache.put`` follows for one file: a
success is never replaced by a failure, attempts add up, and a success a process
rejected and replaced (an empty reply an older version stored) is replaced in the main
file as well.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from culturalign.errors import ConfigError

log = logging.getLogger(__name__)

#: keys whose stored success this process rejected and replaced (``put(replace=True)``)
REPLACED_SCHEMA = "CREATE TABLE IF NOT EXISTS replaced (key TEXT PRIMARY KEY);"

#: the schema name under which a part connection sees the main file
MAIN_ALIAS = "shared"

#: part files this process has open now (a merge in this process leaves them alone)
OPEN_PARTS: set[str] = set()


def parts_dir(main: str | Path) -> Path:
    """Where the part files of the cache ``main`` live: ``<main>.parts``."""
    main = Path(main)
    return main.with_name(main.name + ".parts")


def _host() -> str:
    """This host's name, reduced to characters that are safe in a file name."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname() or "host")


def part_path(main: str | Path, pid: int | None = None) -> Path:
    """This process's part file: ``<main>.parts/<host>-<pid>.sqlite``."""
    return parts_dir(main) / f"{_host()}-{os.getpid() if pid is None else pid}.sqlite"


def attach_main(db: sqlite3.Connection, main: str | Path) -> bool:
    """Let the part connection read the main file as ``shared.calls`` (when it has one).

    Only read, never written here; a main file that does not exist yet is not created,
    so a fresh cache on NFS starts with parts only."""
    main = Path(main)
    if not main.is_file():
        return False
    try:
        db.execute(f"ATTACH DATABASE ? AS {MAIN_ALIAS}", (str(main),))
        db.execute(f"SELECT 1 FROM {MAIN_ALIAS}.calls LIMIT 1").fetchall()
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{main}: cannot use as an SQLite cache ({exc})") from None
    return True


@dataclass
class MergeReport:
    """What ``merge_parts`` did: part files folded in, rows added, rows that updated an
    existing row (a failure turned success, a rejected success replaced), rows that
    only added attempts, and the part files left alone because their process runs."""

    parts: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: tuple[str, ...] = ()

    def summary(self) -> str:
        text = (
            f"merged {self.parts} part file(s): {self.added} new calls, {self.updated} updated, "
            f"{self.unchanged} already stored"
        )
        if self.skipped:
            text += f"; skipped {len(self.skipped)} still in use: {', '.join(self.skipped)}"
        return text


def _running_here(part: Path) -> bool:
    """True when the part was written by a live process on this host (so it may still grow)."""
    host, _, pid = part.stem.rpartition("-")
    if host != _host() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return str(part.resolve()) in OPEN_PARTS
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _fold(db: sqlite3.Connection, report: MergeReport) -> None:
    """Fold the attached ``part`` into ``db``'s calls, in one transaction."""
    has_replaced = db.execute(
        "SELECT COUNT(*) FROM part.sqlite_master WHERE type = 'table' AND name = 'replaced'"
    ).fetchone()[0]
    replaced = " OR p.key IN (SELECT key FROM part.replaced)" if has_replaced else ""
    before = {
        "new": db.execute(
            "SELECT COUNT(*) FROM part.calls WHERE key NOT IN (SELECT key FROM calls)"
        ).fetchone()[0],
        "better": db.execute(
            "SELECT COUNT(*) FROM part.calls p JOIN calls c ON c.key = p.key"
            " WHERE (c.status = 'error' AND p.status = 'ok')" + replaced
        ).fetchone()[0],
        "all": db.execute("SELECT COUNT(*) FROM part.calls").fetchone()[0],
    }
    db.execute("BEGIN IMMEDIATE")
    try:
        # the same rule as CallCache.put: a stored success stays, attempts add up
        db.execute(
            """
            INSERT INTO calls (key, kind, model, status, result, error, attempts, created, updated)
            SELECT key, kind, model, status, result, error, attempts, created, updated FROM part.calls WHERE 1
            ON CONFLICT (key) DO UPDATE SET
                result = CASE WHEN calls.status = 'ok' THEN calls.result ELSE excluded.result END,
                error = CASE WHEN calls.status = 'ok' THEN calls.error ELSE excluded.error END,
                status = CASE WHEN calls.status = 'ok' THEN 'ok' ELSE excluded.status END,
                attempts = calls.attempts + excluded.attempts,
                created = MIN(calls.created, excluded.created),
                updated = MAX(calls.updated, excluded.updated)
            """
        )
        if has_replaced:  # a success the process rejected: its own answer wins
            db.execute(
                """
                UPDATE calls SET
                    status = (SELECT p.status FROM part.calls p WHERE p.key = calls.key),
                    result = (SELECT p.result FROM part.calls p WHERE p.key = calls.key),
                    error = (SELECT p.error FROM part.calls p WHERE p.key = calls.key)
                WHERE key IN (SELECT r.key FROM part.replaced r JOIN part.calls p ON p.key = r.key)
                """
            )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    report.added += before["new"]
    report.updated += before["better"]
    report.unchanged += before["all"] - before["new"] - before["better"]


def merge_parts(main: str | Path, *, include_running: bool = False) -> MergeReport:
    """Fold every part file of ``main`` into it and delete the parts that were merged.

    Run it once the jobs are done. Parts of processes still alive on this host are left
    alone unless ``include_running`` (their later writes would be lost); parts from other
    hosts cannot be checked, so they are merged."""
    from culturalign.lm.cache import CallCache

    main = Path(main)
    folder = parts_dir(main)
    report = MergeReport()
    parts = sorted(folder.glob("*.sqlite")) if folder.is_dir() else []
    if not parts:
        return report
    CallCache(main, mode="shared").close()  # the main file and its schema exist
    from culturalign.sqlite import connect_shared

    db = connect_shared(main)
    skipped = []
    try:
        for part in parts:
            if not include_running and _running_here(part):
                skipped.append(part.name)
                continue
            try:
                db.execute("ATTACH DATABASE ? AS part", (str(part),))
            except sqlite3.DatabaseError as exc:
                raise ConfigError(f"{part}: cannot use as an SQLite cache part ({exc})") from None
            try:
                try:
                    _fold(db, report)
                except sqlite3.DatabaseError as exc:
                    raise ConfigError(f"{part}: cannot merge this cache part ({exc})") from None
            finally:
                db.execute("DETACH DATABASE part")
            for leftover in (part, part.with_name(part.name + "-journal")):
                leftover.unlink(missing_ok=True)
            report.parts += 1
            log.debug("merged cache part %s into %s", part.name, main)
    finally:
        db.close()
    report.skipped = tuple(skipped)
    if not any(folder.iterdir()):
        folder.rmdir()
    return report
