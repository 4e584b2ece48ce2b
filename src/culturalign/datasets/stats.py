"""Counts that describe a dataset, as CARE reports its own (paper 000 appendix A.2).

Table 5 counts questions by culture × category × data source, Table 6 the questions
about foreign cultures, Table 7 questions by geographic scope. ``question_stats``
computes the same counts for any list of ``CulturalQuestion`` (plus the rated responses
they carry); ``record_stats`` gives sensible counts for every other record type, and
``summary_line`` the one line ``data validate`` prints. All pure: records in, dicts out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from statistics import mean
from typing import Any

from culturalign.records import (
    ChoiceItem,
    CulturalQuestion,
    GroundedQuestion,
    KnowledgeItem,
    ModelResponse,
    NLIItem,
    PreferencePair,
    ShortAnswerItem,
    UnpairedExample,
)
from culturalign.records.question import Category, GeographicScope

NONE = "(none)"
CATEGORY_ORDER = [c.value for c in Category] + [NONE]
SCOPE_ORDER = [s.value for s in GeographicScope] + [NONE]


def _val(x: Any) -> str:
    if x is None:
        return NONE
    return getattr(x, "value", str(x))


def _ordered(counter: dict[str, int], order: list[str]) -> dict[str, int]:
    keys = [k for k in order if k in counter] + sorted(k for k in counter if k not in order)
    return {k: counter[k] for k in keys}


def _nested_counts(pairs: list[tuple[str, ...]]) -> dict:
    root: dict = {}
    for key in pairs:
        node = root
        for part in key[:-1]:
            node = node.setdefault(part, {})
        node[key[-1]] = node.get(key[-1], 0) + 1
    return root


def question_stats(questions: Sequence[CulturalQuestion]) -> dict[str, Any]:
    """CARE Tables 5-7 for these questions, plus what their rated responses hold."""
    by_ccs: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(Counter))
    by_scope: dict[str, Counter] = defaultdict(Counter)
    by_assoc: dict[str, Counter] = defaultdict(Counter)
    languages: dict[str, Counter] = defaultdict(Counter)
    responses: dict[str, dict[str, Any]] = {}
    ratings: dict[str, list[float]] = defaultdict(list)
    for q in questions:
        by_ccs[q.culture][q.source or NONE][_val(q.category)] += 1
        by_scope[_val(q.geographic_scope)][q.culture] += 1
        by_assoc[_val(q.associated_culture)][q.culture] += 1
        languages[q.culture][q.language] += 1
        if q.responses:
            r = responses.setdefault(
                q.culture,
                {"questions": 0, "responses": 0, "rated": 0, "not_an_answer": 0, "unrated": 0},
            )
            r["questions"] += 1
            r["responses"] += len(q.responses)
            for resp in q.responses:
                if resp.not_an_answer:
                    r["not_an_answer"] += 1
                elif resp.rating is None:
                    r["unrated"] += 1
                else:
                    r["rated"] += 1
                    ratings[q.culture].append(resp.rating)
    for culture, values in ratings.items():
        responses[culture]["mean_rating"] = round(mean(values), 3)
        responses[culture]["rating_histogram"] = {
            str(k): v for k, v in sorted(Counter(round(x) for x in values).items())
        }
    table5 = {}
    for culture in sorted(by_ccs):
        rows = {}
        total: Counter = Counter()
        for source in sorted(by_ccs[culture]):
            counts = by_ccs[culture][source]
            rows[source] = {**_ordered(dict(counts), CATEGORY_ORDER), "total": sum(counts.values())}
            total.update(counts)
        rows["total"] = {**_ordered(dict(total), CATEGORY_ORDER), "total": sum(total.values())}
        table5[culture] = rows
    cultures = sorted(by_ccs)
    return {
        "record_type": "CulturalQuestion",
        "questions": len(questions),
        "cultures": {c: sum(by_ccs[c][s].total() for s in by_ccs[c]) for c in cultures},
        "by_culture_source_category": table5,
        "by_scope": {
            s: {**{c: by_scope[s][c] for c in cultures if by_scope[s][c]}, "total": by_scope[s].total()}
            for s in _ordered({k: 1 for k in by_scope}, SCOPE_ORDER)
        },
        "by_associated_culture": {
            a: {**{c: by_assoc[a][c] for c in cultures if by_assoc[a][c]}, "total": by_assoc[a].total()}
            for a in sorted(by_assoc)
        },
        "languages": {c: dict(languages[c]) for c in cultures},
        "responses": responses,
    }


def record_stats(records: Sequence[Any]) -> dict[str, Any]:
    """Counts for any list of records; questions get CARE's tables, others a few tallies."""
    if not records:
        return {"record_type": None, "records": 0}
    kind = type(records[0]).__name__
    if all(isinstance(r, CulturalQuestion) for r in records):
        return question_stats(records)
    out: dict[str, Any] = {"record_type": kind, "records": len(records)}

    def tally(name: str, values) -> None:
        counts = Counter(_val(v) for v in values)
        if set(counts) != {NONE}:
            out[name] = dict(counts.most_common())

    tally("by_culture", (getattr(r, "culture", None) for r in records))
    tally("by_source", (getattr(r, "source", None) for r in records))
    tally("by_topic", (getattr(r, "topic", None) for r in records))
    tally("by_kind", (getattr(r, "kind", None) for r in records))
    tally("by_category", (getattr(r, "category", None) for r in records))
    tally("by_region", (getattr(r, "region", None) for r in records))
    tally("by_cultural_group", (getattr(r, "cultural_group", None) for r in records))
    tally("by_model", (getattr(r, "model", None) for r in records))
    groups = Counter(g for r in records for g in (getattr(r, "target_distributions", None) or {}))
    if groups:
        out["groups_with_distributions"] = dict(sorted(groups.items()))
    labels = Counter(c for r in records for c in (getattr(r, "labels", None) or {}))
    if labels:
        out["labelled_by"] = dict(sorted(labels.items()))
    if kind == "UnpairedExample":
        out["desirable"] = sum(1 for r in records if r.label)
        out["undesirable"] = sum(1 for r in records if not r.label)
    if kind == "ModelResponse":
        out["failed"] = sum(1 for r in records if r.error is not None)
    return out


def summary_line(records: Sequence[Any]) -> str:
    """One line for ``data validate``: counts by culture and category, or the like."""
    if not records:
        return "no records"
    first = records[0]
    n = len(records)
    if isinstance(first, CulturalQuestion):
        cultures = Counter(q.culture for q in records)
        cats = Counter(_val(q.category) for q in records)
        cat_text = ", ".join(
            f"{Category(c).label if c != NONE else c} {cats[c]}" for c in CATEGORY_ORDER if c in cats
        )
        line = f"{n} questions; by culture: {_counts(cultures)}; by category: {cat_text}"
        resp = [r for q in records for r in q.responses]
        if resp:
            rated = sum(1 for r in resp if r.rating is not None)
            naa = sum(1 for r in resp if r.not_an_answer)
            line += (
                f"; {len(resp)} responses ({rated} rated, {naa} not an answer, "
                f"{len(resp) - rated - naa} unrated)"
            )
        return line
    if isinstance(first, ChoiceItem):
        groups = {g for r in records for g in (r.target_distributions or {})}
        if groups:
            return f"{n} questions over {len(groups)} countries/groups"
        return (
            f"{n} multiple-choice questions; by culture: {_counts(Counter(_val(r.culture) for r in records))}"
        )
    if isinstance(first, NLIItem):
        cultures = sorted({c for r in records for c in r.labels})
        return f"{n} premise-hypothesis pairs labelled by {', '.join(cultures)}"
    if isinstance(first, ShortAnswerItem):
        return f"{n} short-answer questions; by region: {_counts(Counter(r.region for r in records))}"
    if isinstance(first, KnowledgeItem):
        groups = Counter(_val(r.cultural_group) for r in records)
        return f"{n} knowledge items over {len(groups)} cultural groups"
    if isinstance(first, GroundedQuestion):
        return f"{n} grounded questions ({sum(1 for r in records if r.accepted)} accepted)"
    if isinstance(first, PreferencePair):
        qs = len({r.question_id for r in records})
        return f"{n} preference pairs from {qs} questions; by culture: {_counts(Counter(_val(r.culture) for r in records))}"
    if isinstance(first, UnpairedExample):
        good = sum(1 for r in records if r.label)
        return f"{n} unpaired examples ({good} desirable, {n - good} undesirable)"
    if isinstance(first, ModelResponse):
        failed = sum(1 for r in records if r.error is not None)
        return f"{n} model responses from {_counts(Counter(r.model for r in records))} ({failed} failed)"
    return f"{n} {type(first).__name__} records"


def _counts(counter: Counter, limit: int = 8) -> str:
    items = counter.most_common()
    text = ", ".join(f"{k} {v}" for k, v in items[:limit])
    return text + (f", … {len(items) - limit} more" if len(items) > limit else "")
