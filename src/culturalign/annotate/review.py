"""What a coordinator reviews: progress per annotator and per culture, and per item who
said what and where annotators disagree (pure: store rows in, plain records out).

Disagreement on an item is any of: a response whose ratings differ by at least
``SPREAD_FLAG`` points, a pair of responses two annotators put in opposite order (a rank
inversion), or a classification field with more than one label. Skips and comments are
collected with it, so the coordinator sees everything an item needs in one place.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from culturalign.annotate import vocab
from culturalign.annotate.store import Item, Store, Submission

SPREAD_FLAG = 3  # rating points between two annotators' ratings of one response


@dataclass
class ItemReview:
    item: Item
    # task → annotator → payload (current answers on the current version)
    answers: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    rating_spread: float | None = None
    rank_inversions: int = 0
    label_conflicts: list[str] = field(default_factory=list)
    skips: list[tuple[str, str, str]] = field(default_factory=list)  # annotator, task, reason
    comments: list[tuple[str, str, str]] = field(default_factory=list)  # annotator, task, text
    adjudicated: list[str] = field(default_factory=list)  # tasks with a coordinator's decision

    @property
    def disagrees(self) -> bool:
        spread = self.rating_spread is not None and self.rating_spread >= SPREAD_FLAG
        return spread or self.rank_inversions > 0 or bool(self.label_conflicts)

    @property
    def needs_look(self) -> bool:
        """Disagreement not yet settled by adjudication, or a skip or comment to read."""
        open_disagreement = self.disagrees and not (set(self.adjudicated) >= self.disagreeing_tasks)
        return open_disagreement or bool(self.skips) or bool(self.comments)

    @property
    def disagreeing_tasks(self) -> set[str]:
        tasks = set()
        if (self.rating_spread is not None and self.rating_spread >= SPREAD_FLAG) or self.rank_inversions:
            tasks.add(vocab.RANK)
        if self.label_conflicts:
            tasks.add(vocab.CLASSIFY)
        return tasks


def rating_spread(payloads: list[dict[str, Any]]) -> float | None:
    """The largest gap between two annotators' ratings of one response."""
    by_rid: dict[str, list[float]] = defaultdict(list)
    for p in payloads:
        for e in p.get("responses", []):
            if e.get("rating") is not None:
                by_rid[e["rid"]].append(float(e["rating"]))
    gaps = [max(v) - min(v) for v in by_rid.values() if len(v) >= 2]
    return max(gaps) if gaps else None


def rank_inversions(payloads: list[dict[str, Any]]) -> int:
    """(annotator pair, response pair) combinations ordered oppositely by the two."""
    ranks = [{e["rid"]: e["rank"] for e in p.get("responses", [])} for p in payloads]
    count = 0
    for a, b in combinations(ranks, 2):
        shared = sorted(set(a) & set(b))
        for x, y in combinations(shared, 2):
            if (a[x] - a[y]) * (b[x] - b[y]) < 0:
                count += 1
    return count


def label_conflicts(payloads: list[dict[str, Any]]) -> list[str]:
    out = []
    for name in vocab.CLASSIFY_FIELDS:
        given = {repr(p.get(name)) for p in payloads if p.get(name) is not None}
        if len(given) > 1:
            out.append(name)
    return out


def current_by_item(store: Store, items: list[Item]) -> dict[int, list[Submission]]:
    versions = {i.id: i.version for i in items}
    out: dict[int, list[Submission]] = defaultdict(list)
    for s in store.submissions(current_only=True):
        if versions.get(s.item_id) == s.item_version:
            out[s.item_id].append(s)
    return out


def review_items(store: Store) -> list[ItemReview]:
    items = store.items()
    subs = current_by_item(store, items)
    decided = store.adjudications()
    out = []
    for item in items:
        r = ItemReview(item)
        for s in subs.get(item.id, []):
            if s.payload.get("comment"):
                r.comments.append((s.annotator, s.task, s.payload["comment"]))
            if s.payload.get("skipped"):
                r.skips.append((s.annotator, s.task, s.payload.get("skip_reason") or ""))
            r.answers.setdefault(s.task, {})[s.annotator] = s.payload
        ranked = [p for p in r.answers.get(vocab.RANK, {}).values() if not p.get("skipped")]
        r.rating_spread = rating_spread(ranked)
        r.rank_inversions = rank_inversions(ranked)
        classified = [p for p in r.answers.get(vocab.CLASSIFY, {}).values() if not p.get("skipped")]
        r.label_conflicts = label_conflicts(classified)
        r.adjudicated = [t for t in vocab.TASKS if (item.id, item.version, t) in decided]
        out.append(r)
    return out


@dataclass
class Progress:
    label: str
    tasks_done: int = 0
    tasks_skipped: int = 0
    tasks_total: int = 0
    items: int = 0
    detail: str = ""

    @property
    def share(self) -> float:
        return (self.tasks_done + self.tasks_skipped) / self.tasks_total if self.tasks_total else 0.0


def progress(store: Store) -> tuple[list[Progress], list[Progress]]:
    """(per annotator, per culture): tasks done, skipped and assigned."""
    people, cultures = [], {}
    for person in store.annotators():
        if person.is_admin:
            continue
        skills = store.skills(person.id, as_written=True)
        detail = "; ".join(
            part
            for part in (
                ", ".join(skills.cultures) and "cultures: " + ", ".join(skills.cultures),
                ", ".join(skills.languages) and "languages: " + ", ".join(skills.languages),
            )
            if part
        )
        p = Progress(person.name, detail=detail or "any item")
        for row in store.queue(person.id):
            culture = row.item.content.get("culture") or "not given"
            c = cultures.setdefault(culture, Progress(culture))
            p.items += 1
            for status in row.status.values():
                for target in (p, c):
                    target.tasks_total += 1
                    target.tasks_done += status == "done"
                    target.tasks_skipped += status == "skipped"
        people.append(p)
    for item in store.items():
        culture = item.content.get("culture") or "not given"
        cultures.setdefault(culture, Progress(culture)).items += 1
    return people, sorted(cultures.values(), key=lambda c: c.label)
