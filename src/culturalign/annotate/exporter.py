"""Export annotations: CARE's release shape, preference pairs, or everything.

* ``care``: one row per rated response (question, response, culture_type,
  associated_culture, rating, ...), the shape of CARE's preference release (paper 000
  §3.2), readable back by ``culturalign data`` (format ``care-prefs``).
* ``pairs``: TRL preference pairs, best-rated versus worst-rated response per question
  (paper 000 §4.1), made by the same code as ``culturalign data pairs``.
* ``jsonl``: one record per item with every annotator's current judgments (rank and
  rate, classification, rubric) and the full history of edits.

Several annotators per item are merged: a response's rating is the mean of the
ratings given; it counts as "not an answer" when most annotators flagged it; a
classification field takes the majority label (ties go to the imported label, then
alphabetical order). Questions that most annotators judged not culture-related are
left out of ``care`` and ``pairs``, as CARE's guideline skips them (appendix A.1).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from culturalign.annotate import vocab
from culturalign.annotate.store import Item, Store, Submission
from culturalign.records import CulturalQuestion, RatedResponse

FORMATS = ("care", "pairs", "jsonl")


@dataclass
class Merged:
    """One item's current judgments, merged over annotators."""

    item: Item
    ratings: dict[str, list[int]] = field(default_factory=dict)  # rid → ratings given
    not_answer: dict[str, int] = field(default_factory=dict)  # rid → how many flagged it
    ranks: dict[str, list[int]] = field(default_factory=dict)
    rankers: int = 0
    labels: dict[str, Any] = field(default_factory=dict)  # classification field → majority label
    classifiers: int = 0

    def rating(self, rid: str) -> float | None:
        given = self.ratings.get(rid, [])
        return round(sum(given) / len(given), 2) if given else None

    def is_non_answer(self, rid: str) -> bool:
        return self.rankers > 0 and self.not_answer.get(rid, 0) * 2 > self.rankers

    def mean_rank(self, rid: str) -> float:
        given = self.ranks.get(rid, [])
        return sum(given) / len(given) if given else float("inf")

    @property
    def culture_related(self) -> bool:
        return self.labels.get("culture_related", True) is not False

    def label(self, name: str) -> Any:
        value = self.labels.get(name)
        return value if value is not None else self.item.content.get(name)


def _majority(values: list[Any], imported: Any) -> Any:
    counts = Counter(values)
    top = max(counts.values())
    tied = [v for v, c in counts.items() if c == top]
    if len(tied) == 1:
        return tied[0]
    if imported in tied:
        return imported
    return sorted(tied, key=str)[0]


def merge(store: Store) -> list[Merged]:
    """Current judgments on current item versions, merged per item (import order)."""
    by_item: dict[int, list[Submission]] = {}
    items = store.items()
    versions = {i.id: i.version for i in items}
    for s in store.submissions(current_only=True):
        if versions.get(s.item_id) == s.item_version:
            by_item.setdefault(s.item_id, []).append(s)
    out = []
    for item in items:
        m = Merged(item)
        votes: dict[str, list[Any]] = {}
        for s in by_item.get(item.id, []):
            if s.task == vocab.RANK:
                m.rankers += 1
                for e in s.payload["responses"]:
                    m.ranks.setdefault(e["rid"], []).append(e["rank"])
                    if e["not_an_answer"]:
                        m.not_answer[e["rid"]] = m.not_answer.get(e["rid"], 0) + 1
                    elif e["rating"] is not None:
                        m.ratings.setdefault(e["rid"], []).append(e["rating"])
            elif s.task == vocab.CLASSIFY:
                m.classifiers += 1
                for name in vocab.CLASSIFY_FIELDS:
                    if s.payload.get(name) is not None:
                        votes.setdefault(name, []).append(s.payload[name])
        for name, values in votes.items():
            m.labels[name] = _majority(values, item.content.get(name))
        out.append(m)
    return out


def _associated_spelling(kind: str | None, culture: str | None) -> str | None:
    if kind is None:
        return None
    if kind == "native" and culture:
        return f"Native ({culture})"
    return kind.capitalize()


def care_rows(merged: list[Merged]) -> list[dict[str, Any]]:
    rows = []
    for m in merged:
        if m.rankers == 0 or not m.culture_related:
            continue
        c = m.item.content
        category = m.label("category")
        for r in m.item.responses:
            rating: Any = "not an answer" if m.is_non_answer(r["rid"]) else m.rating(r["rid"])
            if rating is None:
                continue
            rows.append(
                {
                    "id": m.item.key,
                    "question": c["question"],
                    "answer": c.get("reference"),
                    "response": r["text"],
                    "source": r["producer"],
                    "culture_type": vocab.CARE_CATEGORY_SPELLING.get(category) if category else None,
                    "associated_culture": _associated_spelling(
                        m.label("associated_culture"), c.get("culture")
                    ),
                    "geographic_scope": m.label("geographic_scope"),
                    "language": c.get("language"),
                    "culture": c.get("culture"),
                    "moral_sensitive": bool(m.label("moral_sensitive")),
                    "temporal_sensitive": bool(m.label("temporal_sensitive")),
                    "rating": rating,
                }
            )
    return rows


def rated_questions(merged: list[Merged]) -> list[CulturalQuestion]:
    """Items as ``CulturalQuestion`` records whose responses carry the merged ratings."""
    out = []
    for m in merged:
        if m.rankers == 0 or not m.culture_related:
            continue
        c = m.item.content
        order = sorted(m.item.responses, key=lambda r: m.mean_rank(r["rid"]))
        responses = []
        for position, r in enumerate(order, start=1):
            na = m.is_non_answer(r["rid"])
            rating = None if na else m.rating(r["rid"])
            if rating is None and not na:
                continue
            responses.append(
                RatedResponse(
                    producer=r["producer"], text=r["text"], rating=rating, not_an_answer=na, rank=position
                )
            )
        out.append(
            CulturalQuestion(
                id=m.item.key,
                text=c["question"],
                language=c.get("language") or "und",
                culture=c.get("culture") or "unknown",
                category=m.label("category"),
                associated_culture=m.label("associated_culture"),
                geographic_scope=m.label("geographic_scope"),
                moral_sensitive=bool(m.label("moral_sensitive")),
                temporal_sensitive=bool(m.label("temporal_sensitive")),
                reference_answer=c.get("reference"),
                source=c.get("source"),
                responses=responses,
            )
        )
    return out


def pair_rows(
    merged: list[Merged], strategy: str = "best-worst", min_margin: float = 0.0
) -> list[dict[str, Any]]:
    """Preference pairs exactly as ``culturalign data pairs`` makes them from rated
    questions (best-worst by default); ties in rating fall to the better merged rank."""
    from culturalign.datasets.pairs import make_pairs

    result = make_pairs(rated_questions(merged), strategy=strategy, min_margin=min_margin)
    return [p.model_dump(mode="json") for p in result.records]


def full_rows(store: Store, merged: list[Merged]) -> list[dict[str, Any]]:
    history: dict[int, list[Submission]] = {}
    for s in store.submissions():
        history.setdefault(s.item_id, []).append(s)
    rows = []
    for m in merged:
        subs = history.get(m.item.id, [])
        rows.append(
            {
                "item": m.item.key,
                "version": m.item.version,
                "tasks": list(m.item.tasks),
                "content": m.item.content,
                "merged": {
                    "labels": m.labels,
                    "ratings": {r["rid"]: m.rating(r["rid"]) for r in m.item.responses},
                    "not_an_answer": {r["rid"]: m.is_non_answer(r["rid"]) for r in m.item.responses},
                },
                "submissions": [
                    {
                        "id": s.id,
                        "annotator": s.annotator,
                        "task": s.task,
                        "item_version": s.item_version,
                        "created_at": s.created_at,
                        "current": s.is_current,
                        "previous_id": s.previous_id,
                        "payload": s.payload,
                    }
                    for s in subs
                ],
            }
        )
    return rows


def export_rows(
    store: Store, fmt: str, *, strategy: str = "best-worst", min_margin: float = 0.0
) -> list[dict[str, Any]]:
    merged = merge(store)
    if fmt == "care":
        return care_rows(merged)
    if fmt == "pairs":
        return pair_rows(merged, strategy, min_margin)
    if fmt == "jsonl":
        return full_rows(store, merged)
    from culturalign.errors import ConfigError

    raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
