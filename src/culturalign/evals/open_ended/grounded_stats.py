"""Aggregates and tables of the grounded evaluation (paper 003 §5.2.1, Table 1).

Table 1 reports two numbers per model: the average entailment score and the share of
answers the judge counts as entailed (score ≥ 0.5). We report both per cultural group
and per topic, with the knowledge-augmented answers beside them as the upper
reference. Answers without a score (failed call, no verdict) are counted and left out
of the means; they are never scored 0. Pure: no I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from pydantic import BaseModel, Field

from culturalign.records.grounded import GroundedEvalItem, JudgedAnswer
from culturalign.records.knowledge import KnowledgeCounts

ENTAILED_AT = 0.5
UNKNOWN = "(unknown)"


class EntailmentStats(BaseModel):
    n: int = Field(description="questions in the group")
    answered: int = Field(description="answers the model produced")
    scored: int = Field(description="answers the judge scored")
    mean: float | None = Field(description="mean entailment score over scored answers")
    entailed: int = Field(description="scored answers with entailment ≥ the threshold")
    share_entailed: float | None


class GroupRow(BaseModel):
    key: str
    plain: EntailmentStats
    augmented: EntailmentStats | None = None


class GroundedSummary(BaseModel):
    label: str
    model: str
    judge: str
    augment_model: str | None = None
    threshold: float = ENTAILED_AT
    items: int
    overall: GroupRow
    by_group: list[GroupRow]
    by_topic: list[GroupRow]
    methods: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="'plain'/'augmented' -> scoring method -> count"
    )
    notes: list[str] = Field(default_factory=list)
    knowledge: KnowledgeCounts | None = Field(
        default=None,
        description="questions whose knowledge was stated or negated, and knowledge items left out "
        "(most sources disagree; records.knowledge.RULE)",
    )


def stats(answers: Sequence[JudgedAnswer], threshold: float = ENTAILED_AT) -> EntailmentStats:
    scores = [a.entailment for a in answers if a.entailment is not None]
    entailed = sum(s >= threshold for s in scores)
    return EntailmentStats(
        n=len(answers),
        answered=sum(a.text is not None for a in answers),
        scored=len(scores),
        mean=sum(scores) / len(scores) if scores else None,
        entailed=entailed,
        share_entailed=entailed / len(scores) if scores else None,
    )


def _row(key: str, items: Sequence[GroundedEvalItem], threshold: float) -> GroupRow:
    augmented = [i.augmented for i in items if i.augmented is not None]
    return GroupRow(
        key=key,
        plain=stats([i.plain for i in items], threshold),
        augmented=stats(augmented, threshold) if augmented else None,
    )


def grouped(
    items: Sequence[GroundedEvalItem], key: Callable[[GroundedEvalItem], str | None], threshold: float
) -> list[GroupRow]:
    groups: dict[str, list[GroundedEvalItem]] = {}
    for item in items:
        groups.setdefault(key(item) or UNKNOWN, []).append(item)
    return [_row(k, groups[k], threshold) for k in sorted(groups, key=lambda k: (k == UNKNOWN, k.lower()))]


def method_counts(items: Sequence[GroundedEvalItem]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for side in ("plain", "augmented"):
        answers = [getattr(i, side) for i in items if getattr(i, side) is not None]
        counts = Counter(
            (a.method or "unscored") if a.entailment is not None else "unscored" for a in answers
        )
        if counts:
            out[side] = dict(sorted(counts.items()))
    return out


def method_notes(methods: dict[str, dict[str, int]]) -> list[str]:
    """Plain words for what the scores are, so nobody averages verdicts as probabilities."""
    notes = []
    for side, counts in methods.items():
        total = sum(counts.values())
        parsed = counts.get("parsed verdict", 0)
        unscored = counts.get("unscored", 0)
        if parsed:
            notes.append(
                f"{side} answers: the judge gave no usable log-probabilities for {parsed} of {total}; "
                "their scores are its parsed Yes/No verdict (1 or 0), not a probability."
            )
        if unscored:
            notes.append(
                f"{side} answers: {unscored} of {total} have no score (no answer, a failed judge call "
                "or no verdict); they are left out of the means, not counted as 0."
            )
    return notes


def summarize(
    items: Sequence[GroundedEvalItem],
    *,
    label: str,
    model: str,
    judge: str,
    augment_model: str | None,
    threshold: float = ENTAILED_AT,
    notes: Sequence[str] = (),
    knowledge: KnowledgeCounts | None = None,
) -> GroundedSummary:
    methods = method_counts(items)
    return GroundedSummary(
        label=label,
        model=model,
        judge=judge,
        augment_model=augment_model,
        threshold=threshold,
        items=len(items),
        overall=_row("overall", items, threshold),
        by_group=grouped(items, lambda i: i.cultural_group, threshold),
        by_topic=grouped(items, lambda i: i.topic, threshold),
        methods=methods,
        notes=[*notes, *method_notes(methods)],
        knowledge=knowledge,
    )


def _fmt(value: float | None, pct: bool = False) -> str:
    if value is None:
        return "–"
    return f"{100 * value:.1f}" if pct else f"{value:.3f}"


def _table(title: str, rows: Sequence[GroupRow], with_aug: bool, threshold: float) -> list[str]:
    head = [title, "n", "scored", "mean entailment", f"% entailed (≥{threshold:g})"]
    if with_aug:
        head += ["augmented mean", "augmented % entailed"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [
            r.key,
            str(r.plain.n),
            str(r.plain.scored),
            _fmt(r.plain.mean),
            _fmt(r.plain.share_entailed, True),
        ]
        if with_aug:
            a = r.augmented
            cells += [_fmt(a.mean if a else None), _fmt(a.share_entailed if a else None, True)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def to_markdown(s: GroundedSummary) -> str:
    with_aug = s.overall.augmented is not None
    out = [f"# Grounded evaluation: {s.label}", ""]
    out.append(f"- model: `{s.model}`")
    out.append(
        f"- judge: `{s.judge}` (knowledge-entailment score: P(Yes) that the answer reflects the knowledge)"
    )
    if with_aug:
        out.append(
            f"- knowledge-augmented reference: `{s.augment_model or s.model}` with the knowledge in its prompt"
        )
    out.append(f"- questions: {s.items}")
    if (k := s.knowledge) is not None:
        out.append(
            f"- knowledge: {k.stated} stated, {k.negated} given as its negation, {k.left_out} left out "
            "(most sources disagree)"
        )
    out.append("")
    for note in s.notes:
        out.append(f"> **Note.** {note}")
        out.append("")
    out += ["## Overall", "", *_table("set", [s.overall], with_aug, s.threshold), ""]
    out += ["## By cultural group", "", *_table("cultural group", s.by_group, with_aug, s.threshold), ""]
    out += ["## By topic", "", *_table("topic", s.by_topic, with_aug, s.threshold), ""]
    return "\n".join(out)
