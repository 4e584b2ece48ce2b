"""Queries on the annotation database: annotators, items and their versions,
assignments, and submissions with history. The web app and the CLI both go through
``Store``; nothing else touches the tables."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from culturalign.annotate import db, vocab
from culturalign.annotate.agreement import Judgment
from culturalign.annotate.assign import AssignResult, assign_items
from culturalign.annotate.team import TeamQueries, parse_list
from culturalign.errors import ConfigError
from culturalign.io import stable_hash

DEFAULT_PER_ITEM = 2


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class StaleItem(Exception):
    """The item changed (a new version was imported) after the form was rendered."""


@dataclass(frozen=True)
class Annotator:
    id: int
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class Item:
    id: int
    key: str
    version: int
    tasks: tuple[str, ...]
    content: dict[str, Any]

    @property
    def responses(self) -> list[dict[str, str]]:
        return self.content.get("responses", [])

    def has_task(self, task: str) -> bool:
        if task in vocab.TASKS_NEEDING_RESPONSES and not self.responses:
            return False
        return task in self.tasks


@dataclass(frozen=True)
class Submission:
    id: int
    annotator: str
    item_id: int
    item_key: str
    item_version: int
    task: str
    payload: dict[str, Any]
    created_at: str
    is_current: bool
    previous_id: int | None


@dataclass(frozen=True)
class QueueRow:
    item: Item
    status: dict[str, str]  # task → todo | done | skipped | outdated


@dataclass
class ImportSummary:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    assigned: int = 0


class Store(TeamQueries):
    def __init__(self, database: str | Path):
        self.engine = db.make_engine(database)
        self._writer = self.engine.execution_options(write=True)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self._writer.begin() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()

    # --- settings ----------------------------------------------------------------
    def get_setting(self, key: str, default: str | None = None) -> str | None:
        with self.read() as conn:
            value = conn.scalar(select(db.settings.c.value).where(db.settings.c.key == key))
        return default if value is None else value

    def set_setting(self, key: str, value: str) -> None:
        with self.write() as conn:
            found = conn.scalar(select(db.settings.c.key).where(db.settings.c.key == key))
            if found is None:
                conn.execute(insert(db.settings).values(key=key, value=value))
            else:
                conn.execute(update(db.settings).where(db.settings.c.key == key).values(value=value))

    @property
    def per_item(self) -> int:
        return int(self.get_setting("per_item", str(DEFAULT_PER_ITEM)))

    # --- annotators --------------------------------------------------------------
    def add_annotator(
        self,
        name: str,
        role: str = "annotator",
        *,
        cultures: str | Sequence[str] | None = None,
        languages: str | Sequence[str] | None = None,
    ) -> Annotator:
        """Add a person; ``cultures``/``languages`` (lists or comma-separated) route items
        to them (see ``team.Skills.can_judge``); none declared means any item."""
        cultures_t, languages_t = parse_list(cultures, "cultures"), parse_list(languages, "languages")
        name = name.strip()
        if not name or len(name) > 200:
            raise ConfigError("annotator name must be 1-200 characters")
        if role not in ("annotator", "admin"):
            raise ConfigError(f"unknown role {role!r}")
        with self.write() as conn:
            if conn.scalar(select(db.annotators.c.id).where(db.annotators.c.name == name)) is not None:
                raise ConfigError(f"annotator {name!r} already exists; use `annotate users link {name}`")
            new_id = conn.execute(
                insert(db.annotators).values(name=name, role=role, created_at=now())
            ).inserted_primary_key[0]
        if cultures_t or languages_t:
            self.set_skills(new_id, cultures=cultures_t, languages=languages_t)
        return Annotator(new_id, name, role)

    def annotator(self, *, id: int | None = None, name: str | None = None) -> Annotator | None:
        t = db.annotators
        cond = t.c.id == id if id is not None else t.c.name == name
        with self.read() as conn:
            row = conn.execute(select(t.c.id, t.c.name, t.c.role).where(cond)).first()
        return Annotator(*row) if row else None

    def annotators(self) -> list[Annotator]:
        t = db.annotators
        with self.read() as conn:
            return [Annotator(*r) for r in conn.execute(select(t.c.id, t.c.name, t.c.role).order_by(t.c.id))]

    # --- items -------------------------------------------------------------------
    def upsert_items(self, contents: Sequence[dict[str, Any]], tasks: Sequence[str]) -> ImportSummary:
        """Add new items; give changed ones a new version; leave identical ones alone."""
        summary = ImportSummary()
        task_text = ",".join(t for t in vocab.TASKS if t in tasks)
        stamp = now()
        with self.write() as conn:
            for content in contents:
                digest = stable_hash(content)
                row = conn.execute(
                    select(db.items.c.id, db.items.c.version).where(db.items.c.key == content["key"])
                ).first()
                if row is None:
                    item_id = conn.execute(
                        insert(db.items).values(
                            key=content["key"], version=1, tasks=task_text, created_at=stamp, updated_at=stamp
                        )
                    ).inserted_primary_key[0]
                    version = 1
                    summary.new += 1
                else:
                    item_id, version = row
                    old_hash = conn.scalar(
                        select(db.item_versions.c.content_hash).where(
                            db.item_versions.c.item_id == item_id, db.item_versions.c.version == version
                        )
                    )
                    conn.execute(update(db.items).where(db.items.c.id == item_id).values(tasks=task_text))
                    if old_hash == digest:
                        summary.unchanged += 1
                        continue
                    version += 1
                    conn.execute(
                        update(db.items)
                        .where(db.items.c.id == item_id)
                        .values(version=version, updated_at=stamp)
                    )
                    summary.updated += 1
                conn.execute(
                    insert(db.item_versions).values(
                        item_id=item_id,
                        version=version,
                        content=json.dumps(content, ensure_ascii=False),
                        content_hash=digest,
                        created_at=stamp,
                    )
                )
        return summary

    def _items(self, conn: Connection, where=None, versions: bool = False) -> list[Item]:
        i, v = db.items, db.item_versions
        q = (
            select(i.c.id, i.c.key, i.c.version, i.c.tasks, v.c.content)
            .join(v, (v.c.item_id == i.c.id) & (v.c.version == i.c.version))
            .order_by(i.c.id)
        )
        if where is not None:
            q = q.where(where)
        return [
            Item(r.id, r.key, r.version, tuple(t for t in r.tasks.split(",") if t), json.loads(r.content))
            for r in conn.execute(q)
        ]

    def item(self, item_id: int) -> Item | None:
        with self.read() as conn:
            found = self._items(conn, db.items.c.id == item_id)
        return found[0] if found else None

    def items(self) -> list[Item]:
        with self.read() as conn:
            return self._items(conn)

    def item_version_content(self, item_id: int, version: int) -> dict[str, Any] | None:
        v = db.item_versions
        with self.read() as conn:
            raw = conn.scalar(select(v.c.content).where(v.c.item_id == item_id, v.c.version == version))
        return json.loads(raw) if raw else None

    # --- assignments -------------------------------------------------------------
    def assign(self, per_item: int | None = None) -> int:
        """Give every item up to ``per_item`` annotators and even out loads (see
        ``annotate.assign``); returns the links a person gained, moved ones included."""
        result = self.assign_report(per_item)
        return result.added + result.moved

    def assign_report(self, per_item: int | None = None) -> AssignResult:
        k = per_item if per_item is not None else self.per_item
        with self.write() as conn:
            return assign_items(conn, k, now())

    def is_assigned(self, annotator_id: int, item_id: int) -> bool:
        a = db.assignments
        with self.read() as conn:
            return (
                conn.scalar(select(a.c.id).where(a.c.annotator_id == annotator_id, a.c.item_id == item_id))
                is not None
            )

    def queue(self, annotator_id: int) -> list[QueueRow]:
        a, sub = db.assignments, db.submissions
        with self.read() as conn:
            mine = self._items(
                conn, db.items.c.id.in_(select(a.c.item_id).where(a.c.annotator_id == annotator_id))
            )
            done = {}
            for r in conn.execute(
                select(sub.c.item_id, sub.c.task, sub.c.item_version, sub.c.payload).where(
                    sub.c.annotator_id == annotator_id, sub.c.is_current == 1
                )
            ):
                done[(r.item_id, r.task)] = (r.item_version, json.loads(r.payload).get("skipped") is True)
        rows = []
        for item in mine:
            status = {}
            for task in vocab.TASKS:
                if not item.has_task(task):
                    continue
                version, skipped = done.get((item.id, task), (None, False))
                if version is None:
                    status[task] = "todo"
                elif version != item.version:
                    status[task] = "outdated"
                else:
                    status[task] = "skipped" if skipped else "done"
            rows.append(QueueRow(item, status))
        return rows

    # --- submissions -------------------------------------------------------------
    def submit(
        self, annotator_id: int, item_id: int, version: int, task: str, payload: dict[str, Any], nonce: str
    ) -> tuple[int, bool]:
        """Store one submission; returns (row id, created). A replayed nonce returns the
        existing row; a stale version raises ``StaleItem``; the earlier current row for
        the same task stays in the table as history."""
        for _attempt in range(5):
            done = self._submit_once(annotator_id, item_id, version, task, payload, nonce)
            if done is not None:
                return done
        raise RuntimeError("could not store the submission: the database kept reporting conflicts")

    def _submit_once(
        self, annotator_id: int, item_id: int, version: int, task: str, payload: dict[str, Any], nonce: str
    ) -> tuple[int, bool] | None:
        sub = db.submissions
        try:
            with self.write() as conn:
                # one writer per annotator at a time (PostgreSQL row lock; SQLite's
                # BEGIN IMMEDIATE already serialises all writers)
                conn.execute(
                    select(db.annotators.c.id).where(db.annotators.c.id == annotator_id).with_for_update()
                )
                seen = conn.scalar(
                    select(sub.c.id).where(sub.c.annotator_id == annotator_id, sub.c.nonce == nonce)
                )
                if seen is not None:
                    return seen, False
                current = conn.scalar(select(db.items.c.version).where(db.items.c.id == item_id))
                if current != version:
                    raise StaleItem(
                        f"item {item_id} is now version {current}, the form showed version {version}"
                    )
                previous = conn.scalar(
                    select(sub.c.id).where(
                        sub.c.annotator_id == annotator_id,
                        sub.c.item_id == item_id,
                        sub.c.task == task,
                        sub.c.is_current == 1,
                    )
                )
                if previous is not None:
                    conn.execute(update(sub).where(sub.c.id == previous).values(is_current=0))
                new_id = conn.execute(
                    insert(sub).values(
                        annotator_id=annotator_id,
                        item_id=item_id,
                        item_version=version,
                        task=task,
                        payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
                        created_at=now(),
                        nonce=nonce,
                        is_current=1,
                        previous_id=previous,
                    )
                ).inserted_primary_key[0]
                return new_id, True
        except IntegrityError:
            # lost a race (PostgreSQL, read committed): a replay of the same nonce, or
            # another edit of the same task; the caller looks again
            return None

    def submissions(
        self,
        *,
        annotator_id: int | None = None,
        item_id: int | None = None,
        task: str | None = None,
        current_only: bool = False,
    ) -> list[Submission]:
        sub, ann, it = db.submissions, db.annotators, db.items
        q = (
            select(
                sub.c.id,
                ann.c.name,
                sub.c.item_id,
                it.c.key,
                sub.c.item_version,
                sub.c.task,
                sub.c.payload,
                sub.c.created_at,
                sub.c.is_current,
                sub.c.previous_id,
            )
            .join(ann, ann.c.id == sub.c.annotator_id)
            .join(it, it.c.id == sub.c.item_id)
            .order_by(sub.c.id)
        )
        if annotator_id is not None:
            q = q.where(sub.c.annotator_id == annotator_id)
        if item_id is not None:
            q = q.where(sub.c.item_id == item_id)
        if task is not None:
            q = q.where(sub.c.task == task)
        if current_only:
            q = q.where(sub.c.is_current == 1)
        with self.read() as conn:
            return [
                Submission(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[7], bool(r[8]), r[9])
                for r in conn.execute(q)
            ]

    def current(self, annotator_id: int, item_id: int, task: str) -> Submission | None:
        found = self.submissions(annotator_id=annotator_id, item_id=item_id, task=task, current_only=True)
        return found[0] if found else None

    def judgments(self) -> list[Judgment]:
        """Every annotator's current judgment on the current version of each item."""
        versions = {item.id: item.version for item in self.items()}
        return [
            Judgment(s.item_key, s.item_version, s.annotator, s.task, s.payload)
            for s in self.submissions(current_only=True)
            if versions.get(s.item_id) == s.item_version
        ]

    def count_submissions(self) -> int:
        with self.read() as conn:
            return conn.scalar(select(func.count()).select_from(db.submissions)) or 0
