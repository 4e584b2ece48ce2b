"""What the store knows about the team beyond names: each annotator's cultures and
languages (which route items to them), the coordinator's adjudications, and small
per-person flags such as "has seen the guidelines".

A mixin of ``Store`` (it only uses ``read``/``write`` and the tables), kept apart so that
``store.py`` stays about items, assignments and submissions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from culturalign.annotate import db
from culturalign.errors import ConfigError

CULTURE, LANGUAGE = "culture", "language"


@dataclass(frozen=True)
class Skills:
    """Cultures and languages an annotator judges; both empty means "anything"."""

    cultures: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    def can_judge(self, content: dict[str, Any]) -> bool:
        """Each dimension the annotator declared must match the item, when the item names it:
        a Japanese annotator reading ja and en gets English and Japanese questions about
        Japan, not English questions about China, and not Korean ones about Japan."""
        culture = norm_culture(content.get("culture"))
        if self.cultures and culture and culture not in self.cultures:
            return False
        language = norm_language(content.get("language"))
        return not (self.languages and language and language not in self.languages)


def norm_culture(value: Any) -> str:
    return str(value).strip().casefold() if value else ""


def norm_language(value: Any) -> str:
    """ISO code, primary subtag only (``zh-Hant`` and ``zh`` are one language to route by)."""
    return str(value).strip().lower().replace("_", "-").split("-")[0] if value else ""


def parse_list(text: str | Iterable[str] | None, what: str) -> tuple[str, ...]:
    """``"ja, en"`` → ``("ja", "en")``; a blank entry is an error naming the option."""
    if text is None:
        return ()
    parts = text.split(",") if isinstance(text, str) else list(text)
    out = []
    for part in parts:
        value = part.strip()
        if not value or len(value) > 200:
            raise ConfigError(f"--{what}: each entry must be 1-200 characters (got {part!r})")
        out.append(value)
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class Adjudication:
    id: int
    item_id: int
    item_version: int
    task: str
    by: str
    payload: dict[str, Any]
    note: str
    created_at: str


def load_skills(conn: Connection) -> dict[int, Skills]:
    """annotator id → normalised Skills, inside an open transaction (routing uses it)."""
    t = db.annotator_skills
    found: dict[int, dict[str, list[str]]] = {}
    for r in conn.execute(select(t.c.annotator_id, t.c.kind, t.c.value).order_by(t.c.id)):
        found.setdefault(r.annotator_id, {CULTURE: [], LANGUAGE: []})[r.kind].append(r.value)
    return {
        a: Skills(tuple(norm_culture(c) for c in k[CULTURE]), tuple(norm_language(x) for x in k[LANGUAGE]))
        for a, k in found.items()
    }


class TeamQueries:
    """Mixed into ``Store``."""

    def read(self) -> AbstractContextManager[Connection]:  # provided by Store
        raise NotImplementedError

    def write(self) -> AbstractContextManager[Connection]:  # provided by Store
        raise NotImplementedError

    # --- cultures and languages -------------------------------------------------
    def set_skills(
        self, annotator_id: int, *, cultures: Iterable[str] = (), languages: Iterable[str] = ()
    ) -> Skills:
        """Replace what an annotator judges (call ``assign`` afterwards to re-route)."""
        t = db.annotator_skills
        rows = [(CULTURE, c) for c in cultures] + [(LANGUAGE, lang) for lang in languages]
        with self.write() as conn:
            conn.execute(delete(t).where(t.c.annotator_id == annotator_id))
            for kind, value in dict.fromkeys(rows):
                conn.execute(insert(t).values(annotator_id=annotator_id, kind=kind, value=value))
        return self.skills(annotator_id)

    def all_skills(self) -> dict[int, Skills]:
        """annotator id → Skills (normalised for matching), for everyone who declared any."""
        with self.read() as conn:
            return load_skills(conn)

    def skills(self, annotator_id: int, *, as_written: bool = False) -> Skills:
        """One annotator's skills: normalised for matching, or ``as_written`` for display."""
        if not as_written:
            return self.all_skills().get(annotator_id, Skills())
        t = db.annotator_skills
        with self.read() as conn:
            rows = list(
                conn.execute(
                    select(t.c.kind, t.c.value).where(t.c.annotator_id == annotator_id).order_by(t.c.id)
                )
            )
        return Skills(
            tuple(r.value for r in rows if r.kind == CULTURE),
            tuple(r.value for r in rows if r.kind == LANGUAGE),
        )

    # --- adjudication -----------------------------------------------------------
    def adjudicate(
        self, item_id: int, item_version: int, task: str, by_id: int, payload: dict[str, Any], note: str = ""
    ) -> int:
        with self.write() as conn:
            return conn.execute(
                insert(db.adjudications).values(
                    item_id=item_id,
                    item_version=item_version,
                    task=task,
                    annotator_id=by_id,
                    payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
                    note=note,
                    created_at=datetime.now(UTC).isoformat(timespec="microseconds"),
                )
            ).inserted_primary_key[0]

    def adjudications(self) -> dict[tuple[int, int, str], Adjudication]:
        """The latest decision per (item id, item version, task)."""
        t, a = db.adjudications, db.annotators
        q = select(
            t.c.id, t.c.item_id, t.c.item_version, t.c.task, a.c.name, t.c.payload, t.c.note, t.c.created_at
        ).join(a, a.c.id == t.c.annotator_id)
        with self.read() as conn:
            rows = list(conn.execute(q.order_by(t.c.id)))
        return {
            (r.item_id, r.item_version, r.task): Adjudication(
                r.id, r.item_id, r.item_version, r.task, r.name, json.loads(r.payload), r.note, r.created_at
            )
            for r in rows
        }

    # --- per-person flags (kept in settings) ---------------------------------------
    def get_setting(self, key: str, default: str | None = None) -> str | None:  # provided by Store
        raise NotImplementedError

    def set_setting(self, key: str, value: str) -> None:  # provided by Store
        raise NotImplementedError

    def has_seen_guidelines(self, annotator_id: int) -> bool:
        return self.get_setting(f"guidelines_seen:{annotator_id}") is not None

    def mark_guidelines_seen(self, annotator_id: int) -> None:
        if not self.has_seen_guidelines(annotator_id):
            self.set_setting(f"guidelines_seen:{annotator_id}", "1")
