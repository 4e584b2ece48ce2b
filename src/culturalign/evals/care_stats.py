"""From judgments to CARE's numbers (paper 000 Tables 1-4 and 8): mean 1-10 ratings per
culture × category and per geographic scope, with counts and bootstrap confidence
intervals. Pure: judgments in, a ``CareSummary`` out.

How the numbers are made:

* An item's score is the mean (or, for CARE Table 4's search-engine row, the max) of
  the valid ratings of its responses; with one response per item it is that rating.
* A cell's value is the mean item score over its rated items. ``Average`` is the mean
  over all rated items of the culture (on CARE's balanced test sets, 30 per category,
  this is close to the mean of the five category means).
* Items with no valid rating are counted, never scored: ``invalid`` (the judge was
  asked and failed to give a usable rating) and ``skipped`` (nothing to judge).
* 95% intervals: percentile bootstrap over items, numpy with a fixed seed, so the
  same judgments always give the same table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, Field

from culturalign.records.judgment import Judgment
from culturalign.records.question import Category, GeographicScope

Aggregate = Literal["mean", "max"]
UNCATEGORISED = "uncategorised"
UNKNOWN_CULTURE = "unknown"
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0
CI_LEVEL = 0.95


class CellStats(BaseModel):
    mean: float | None = None
    n_items: int = 0
    n_rated: int = 0
    n_invalid: int = 0
    n_skipped: int = 0
    ci_low: float | None = None
    ci_high: float | None = None


class CultureSummary(BaseModel):
    average: CellStats
    categories: dict[str, CellStats] = Field(description="Category value (or 'uncategorised') -> stats")
    scopes: dict[str, CellStats] = Field(description="GeographicScope value -> stats")


class CareSummary(BaseModel):
    """``summary.json`` of a CARE run: what the tables and the report read."""

    label: str
    model: str | None = None
    judge: str | None = None
    mode: str | None = None
    lang: str | None = None
    aggregate: Aggregate = "mean"
    n_samples: int = 1
    judge_samples: int = 1
    judge_retries: int = 0
    cultures: dict[str, CultureSummary] = Field(default_factory=dict)
    overall: CellStats = Field(default_factory=CellStats)
    counts: dict[str, int] = Field(default_factory=dict)
    rubrics: dict[str, str] = Field(default_factory=dict, description="rubric name -> sha")
    notes: list[str] = Field(default_factory=list)
    bootstrap: dict[str, float] = Field(
        default_factory=lambda: {"resamples": BOOTSTRAP_RESAMPLES, "seed": BOOTSTRAP_SEED, "level": CI_LEVEL}
    )


def bootstrap_ci(
    scores: Sequence[float],
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    level: float = CI_LEVEL,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean; None for no scores."""
    import numpy as np

    x = np.asarray(scores, dtype=float)
    if x.size == 0:
        return None
    if x.size == 1:
        return float(x[0]), float(x[0])
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(lo), float(hi)


class _Item:
    """One question's judgments (several responses when n_samples > 1)."""

    def __init__(self) -> None:
        self.ratings: list[float] = []
        self.invalid = 0
        self.skipped = 0
        self.category: str | None = None
        self.scope: str | None = None


def group_items(judgments: Iterable[Judgment]) -> dict[tuple[str, str], _Item]:
    """(culture, item id) -> that item's ratings and unrated counts."""
    items: dict[tuple[str, str], _Item] = defaultdict(_Item)
    for j in judgments:
        it = items[(j.culture or UNKNOWN_CULTURE, j.item_id)]
        it.category = it.category or j.category
        it.scope = it.scope or j.scope
        if j.valid and j.rating is not None:
            it.ratings.append(j.rating)
        elif j.status == "skipped":
            it.skipped += 1
        else:
            it.invalid += 1
    return dict(items)


def _score(it: _Item, aggregate: Aggregate) -> float | None:
    if not it.ratings:
        return None
    return max(it.ratings) if aggregate == "max" else sum(it.ratings) / len(it.ratings)


def _cell(items: Sequence[_Item], aggregate: Aggregate) -> CellStats:
    scores = [s for s in (_score(it, aggregate) for it in items) if s is not None]
    unrated = [it for it in items if not it.ratings]
    ci = bootstrap_ci(scores)
    return CellStats(
        mean=round(sum(scores) / len(scores), 6) if scores else None,
        n_items=len(items),
        n_rated=len(scores),
        n_invalid=sum(1 for it in unrated if it.invalid),
        n_skipped=sum(1 for it in unrated if not it.invalid),
        ci_low=round(ci[0], 6) if ci else None,
        ci_high=round(ci[1], 6) if ci else None,
    )


def _canonical_category(value: str | None) -> str:
    if value is None:
        return UNCATEGORISED
    try:
        return Category(value).value
    except ValueError:
        from culturalign.records.question import parse_category

        return parse_category(value).value


def summarize(
    judgments: Sequence[Judgment],
    *,
    label: str,
    aggregate: Aggregate = "mean",
    **fields,
) -> CareSummary:
    """Means, counts and intervals per culture × category and × scope (Tables 1 and 8)."""
    items = group_items(judgments)
    by_culture: dict[str, list[_Item]] = defaultdict(list)
    for (culture, _), it in items.items():  # first-seen order: the data file decides
        by_culture[culture].append(it)
    cultures: dict[str, CultureSummary] = {}
    for culture, its in by_culture.items():
        cats: dict[str, list[_Item]] = defaultdict(list)
        scopes: dict[str, list[_Item]] = defaultdict(list)
        for it in its:
            cats[_canonical_category(it.category)].append(it)
            if it.scope:
                scopes[it.scope].append(it)
        cultures[culture] = CultureSummary(
            average=_cell(its, aggregate),
            categories={c: _cell(v, aggregate) for c, v in sorted(cats.items(), key=_cat_order)},
            scopes={s: _cell(v, aggregate) for s, v in sorted(scopes.items(), key=_scope_order)},
        )
    counts = {
        "items": len(items),
        "judgments": len(judgments),
        "rated": sum(1 for j in judgments if j.valid),
        "invalid": sum(1 for j in judgments if j.status == "invalid"),
        "skipped": sum(1 for j in judgments if j.status == "skipped"),
        "uncategorised": sum(1 for it in items.values() if it.category is None),
        "judge_calls": sum(j.attempts for j in judgments),
    }
    summary = CareSummary(
        label=label,
        aggregate=aggregate,
        cultures=cultures,
        overall=_cell(list(items.values()), aggregate),
        counts=counts,
        **fields,
    )
    if counts["uncategorised"]:
        summary.notes.append(
            f"{counts['uncategorised']} item(s) had no category: judged with the entities/opinion "
            "rubric, shown in the 'Uncat.' column and included in the average"
        )
    return summary


_CAT_ORDER = [c.value for c in Category] + [UNCATEGORISED]
_SCOPE_ORDER = [
    GeographicScope.SUB_NATIONAL.value,
    GeographicScope.NATIONAL.value,
    GeographicScope.CONTINENT_WIDE.value,
    GeographicScope.WORLDWIDE.value,
]


def _cat_order(kv: tuple[str, object]) -> tuple[int, str]:
    return (_CAT_ORDER.index(kv[0]) if kv[0] in _CAT_ORDER else len(_CAT_ORDER), kv[0])


def _scope_order(kv: tuple[str, object]) -> tuple[int, str]:
    return (_SCOPE_ORDER.index(kv[0]) if kv[0] in _SCOPE_ORDER else len(_SCOPE_ORDER), kv[0])
