"""Export annotations: CARE's release shape, preference pairs, or everything.

* ``care``: one row per rated response (question, response, culture_type,
  associated_culture, rating, ...), the shape of CARE's preference release (paper 000
  §3.2), readable back by ``culturalign data`` (format ``care-prefs``).
* ``pairs``: TRL preference pairs, best-rated versus worst-rated response per question
  (paper 000 §4.1): the ``care`` rows read back by the ``care-prefs`` reader and paired
  by ``culturalign data pairs``' code, so both commands give the same pairs on the same
  data, ties included.
* any of them as a ``datasets`` ``save_to_disk`` folder (``save_dataset_folder``, CLI
  ``--to hf``), which ``culturalign data`` and ``culturalign train`` read like the file.
* ``jsonl``: one record per item with every annotator's current judgments (rank and
  rate, classification, rubric), skips and comments, how each task was resolved, and
  the full history of edits.

A coordinator's adjudication of a task (``review``, the coordinator page) replaces the
annotators' answers for that task. Otherwise several annotators are merged: a response's
rating is the mean of the ratings given; it counts as "not an answer" when most
annotators flagged it; a classification field takes the majority label, and a tie is
broken by rule (the imported label, then alphabetical order) and says so. Skips count
as no answer. ``care`` rows come best first by mean rank (that order breaks rating ties
in pairs) and carry that ``rank``. Questions that most annotators judged not
culture-related are left out of ``care`` and ``pairs``, as CARE's guideline skips them
(appendix A.1).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from culturalign.annotate import vocab
from culturalign.annotate.store import Item, Store, Submission

FORMATS = ("care", "pairs", "jsonl")

# How a task's answer was reached (counted on every export).
SINGLE, UNANIMOUS, MAJORITY, AVERAGED, TIE_RULE, ADJUDICATED = (
    "single annotator",
    "unanimous",
    "majority",
    "averaged",
    "tie broken by rule",
    "adjudicated",
)
_SEVERITY = [SINGLE, UNANIMOUS, MAJORITY, AVERAGED, TIE_RULE, ADJUDICATED]


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
    resolution: dict[str, str] = field(default_factory=dict)  # task → how it was resolved
    skipped: dict[str, int] = field(default_factory=dict)  # task → how many skipped it
    comments: list[dict[str, str]] = field(default_factory=list)

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


def _majority(values: list[Any], imported: Any) -> tuple[Any, str]:
    """(label, how): unanimous, majority, or a tie broken by rule."""
    counts = Counter(values)
    top = max(counts.values())
    tied = [v for v, c in counts.items() if c == top]
    if len(tied) == 1:
        return tied[0], UNANIMOUS if len(counts) == 1 else MAJORITY
    if imported in tied:
        return imported, TIE_RULE
    return sorted(tied, key=str)[0], TIE_RULE


def _worst(a: str | None, b: str) -> str:
    return b if a is None or _SEVERITY.index(b) > _SEVERITY.index(a) else a


def _rank_resolution(payloads: list[dict[str, Any]]) -> str:
    if len(payloads) == 1:
        return SINGLE
    shapes = {
        tuple((e["rid"], e["rank"], e["rating"], e["not_an_answer"]) for e in p["responses"])
        for p in payloads
    }
    return UNANIMOUS if len(shapes) == 1 else AVERAGED


def merge(store: Store) -> list[Merged]:
    """Current judgments on current item versions, merged per item (import order)."""
    by_item: dict[int, list[Submission]] = {}
    items = store.items()
    versions = {i.id: i.version for i in items}
    for s in store.submissions(current_only=True):
        if versions.get(s.item_id) == s.item_version:
            by_item.setdefault(s.item_id, []).append(s)
    decided = store.adjudications()
    out = []
    for item in items:
        m = Merged(item)
        answers: dict[str, list[dict[str, Any]]] = {}
        for s in by_item.get(item.id, []):
            if s.payload.get("comment"):
                m.comments.append({"annotator": s.annotator, "task": s.task, "comment": s.payload["comment"]})
            if s.payload.get("skipped"):
                m.skipped[s.task] = m.skipped.get(s.task, 0) + 1
                continue
            answers.setdefault(s.task, []).append(s.payload)
        for task in (vocab.RANK, vocab.CLASSIFY):
            decision = decided.get((item.id, item.version, task))
            if decision is not None:
                answers[task] = [decision.payload]
                m.resolution[task] = ADJUDICATED
        ranked = answers.get(vocab.RANK, [])
        for payload in ranked:
            m.rankers += 1
            for e in payload["responses"]:
                m.ranks.setdefault(e["rid"], []).append(e["rank"])
                if e["not_an_answer"]:
                    m.not_answer[e["rid"]] = m.not_answer.get(e["rid"], 0) + 1
                elif e["rating"] is not None:
                    m.ratings.setdefault(e["rid"], []).append(e["rating"])
        if ranked and vocab.RANK not in m.resolution:
            m.resolution[vocab.RANK] = _rank_resolution(ranked)
        votes: dict[str, list[Any]] = {}
        for payload in answers.get(vocab.CLASSIFY, []):
            m.classifiers += 1
            for name in vocab.CLASSIFY_FIELDS:
                if payload.get(name) is not None:
                    votes.setdefault(name, []).append(payload[name])
        how: str | None = SINGLE if m.classifiers == 1 else None
        for name, values in votes.items():
            m.labels[name], field_how = _majority(values, item.content.get(name))
            if m.classifiers > 1:
                how = _worst(how, field_how)
        if m.classifiers and vocab.CLASSIFY not in m.resolution:
            m.resolution[vocab.CLASSIFY] = how or UNANIMOUS
        out.append(m)
    return out


def resolution_counts(merged: list[Merged]) -> dict[str, dict[str, int]]:
    """task → resolution → number of items (what export prints and records)."""
    counts: dict[str, Counter] = {}
    for m in merged:
        for task, how in m.resolution.items():
            counts.setdefault(task, Counter())[how] += 1
    return {task: dict(c.most_common()) for task, c in sorted(counts.items())}


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
        position = 0
        for r in _best_first(m):
            rating: Any = "not an answer" if m.is_non_answer(r["rid"]) else m.rating(r["rid"])
            if rating is None:
                continue
            position += 1
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
                    "rank": position,
                }
            )
    return rows


def _best_first(m: Merged) -> list[dict[str, str]]:
    """Responses by mean rank (stable: import order among equals)."""
    return sorted(m.item.responses, key=lambda r: m.mean_rank(r["rid"]))


def pair_rows(
    merged: list[Merged], strategy: str = "best-worst", min_margin: float = 0.0
) -> list[dict[str, Any]]:
    """Preference pairs exactly as ``culturalign data pairs`` makes them from the ``care``
    export (best-worst by default): the rows go through the same reader and pairing code,
    so a tie in rating falls, in both, to the response with the better merged rank."""
    from culturalign.datasets.care_prefs import rows_to_questions
    from culturalign.datasets.pairs import make_pairs
    from culturalign.datasets.rows import Row
    from culturalign.errors import Problems

    rows = care_rows(merged)
    if not rows:
        return []
    where = Path("annotations (care export)")
    questions = rows_to_questions([Row(i + 1, r) for i, r in enumerate(rows)], where, Problems(where))
    result = make_pairs(questions, strategy=strategy, min_margin=min_margin)
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
                "resolution": m.resolution,
                "skipped": m.skipped,
                "comments": m.comments,
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
    store: Store,
    fmt: str,
    *,
    strategy: str = "best-worst",
    min_margin: float = 0.0,
    counts: dict[str, dict[str, int]] | None = None,
) -> list[dict[str, Any]]:
    """Rows of one export format; ``counts``, when given, is filled with how many items
    each task resolved each way (``resolution_counts``)."""
    merged = merge(store)
    if counts is not None:
        counts.update(resolution_counts(merged))
    if fmt == "care":
        return care_rows(merged)
    if fmt == "pairs":
        return pair_rows(merged, strategy, min_margin)
    if fmt == "jsonl":
        return full_rows(store, merged)
    from culturalign.errors import ConfigError

    raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def save_dataset_folder(rows: list[dict[str, Any]], out: Path, fmt: str) -> None:
    """Write rows as a ``datasets`` ``save_to_disk`` folder (what ``load_from_disk``,
    ``culturalign data`` and ``culturalign train`` read). In ``care`` rows the rating
    becomes text, as in CARE's hub release: one column cannot hold both 8.5 and
    "not an answer". ``jsonl`` records nest freely, so each is kept as one JSON string."""
    import json

    from culturalign.errors import ConfigError
    from datasets import Dataset

    if not rows:
        raise ConfigError(f"nothing to export as a datasets folder to {out}: no {fmt} rows")
    if fmt == "care":
        rows = [{**r, "rating": str(r["rating"])} for r in rows]
    elif fmt == "jsonl":
        rows = [{"item": r["item"], "record": json.dumps(r, ensure_ascii=False)} for r in rows]
    Dataset.from_list(rows).save_to_disk(str(out))
