"""From judgments to CARE's numbers (paper 000 Tables 1-4 and 8): mean 1-10 ratings per
culture × category and per geographic scope, with counts and bootstrap confidence
intervals. Pure: judgments in, a ``CareSummary`` out.

How the numbers are made:

* An item's score is the mean (or, for CARE Table 4's search-engine row, the max) of
  the valid ratings of its responses; with one response per item it is that rating.
* A cell's value is the mean item score over its rated items.
* Two averages per culture. ``average`` is the mean over all rated items of the culture
  (the "micro" average); ``average_of_categories`` is the mean of the five category
  means (the "macro" average). CARE's test sets hold 30 questions per category, where
  the two coincide when every item is rated; the paper does not say which it prints
  (its Table 1 averages match the mean of the printed category means to within 0.03).
  They part when categories have unequal numbers of rated items; the tables then say so.
* Items with no valid rating are counted, never scored: ``invalid`` (the judge was
  asked and failed to give a usable rating) and ``skipped`` (nothing to judge).
* 95% intervals: percentile bootstrap over items (``culturalign.uncertainty``, fixed
  seed), so the same judgments always give the same table. A cell with fewer than two
  rated items gets no interval and is flagged ``too_small``.
* Every rated item's score is kept in ``items``, so that two runs can be compared item
  by item (paired intervals on every change, ``care_tables.delta_table``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from culturalign import uncertainty
from culturalign.records.judgment import Judgment
from culturalign.records.question import Category, GeographicScope

Aggregate = Literal["mean", "max"]
UNCATEGORISED = "uncategorised"
UNKNOWN_CULTURE = "unknown"
BOOTSTRAP_RESAMPLES = uncertainty.RESAMPLES
BOOTSTRAP_SEED = uncertainty.SEED
CI_LEVEL = uncertainty.LEVEL
AVERAGES_TOLERANCE = 0.005  # the two averages "differ" when they differ at two decimals


class CellStats(BaseModel):
    mean: float | None = None
    n_items: int = 0
    n_rated: int = 0
    n_invalid: int = 0
    n_skipped: int = 0
    ci_low: float | None = None
    ci_high: float | None = None
    stderr: float | None = None
    too_small: bool = False

    @model_validator(mode="after")
    def _no_interval_for_one_item(self) -> CellStats:
        # summaries written before intervals were dropped for tiny cells carry a
        # zero-width interval for one item: read them as "too small", not as certainty
        if self.n_rated < uncertainty.MIN_ITEMS:
            self.ci_low = self.ci_high = self.stderr = None
            self.too_small = self.n_rated > 0 or self.too_small
        return self


class ItemScore(BaseModel):
    """One rated item's score: what paired comparisons between runs resample."""

    culture: str
    id: str
    category: str
    scope: str | None = None
    score: float


class CultureSummary(BaseModel):
    average: CellStats
    categories: dict[str, CellStats] = Field(description="Category value (or 'uncategorised') -> stats")
    scopes: dict[str, CellStats] = Field(description="GeographicScope value -> stats")
    average_of_categories: float | None = Field(
        default=None, description="mean of the CARE category means (uncategorised items left out)"
    )

    @model_validator(mode="after")
    def _fill_average_of_categories(self) -> CultureSummary:
        if self.average_of_categories is None:  # older summary.json files: derive it
            self.average_of_categories = mean_of_category_means(self.categories)
        return self

    @property
    def averages_differ(self) -> bool:
        a, b = self.average.mean, self.average_of_categories
        return a is not None and b is not None and abs(a - b) > AVERAGES_TOLERANCE


def mean_of_category_means(categories: dict[str, CellStats]) -> float | None:
    """The "macro" average: each CARE category counts once, however many items it has."""
    means = [st.mean for c, st in categories.items() if c != UNCATEGORISED and st.mean is not None]
    return round(sum(means) / len(means), 6) if means else None


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
    items: list[ItemScore] = Field(
        default_factory=list, description="every rated item's score (empty in older summaries)"
    )

    def item_scores(
        self, culture: str | None = None, category: str | None = None, scope: str | None = None
    ) -> dict[tuple[str, str], float]:
        """(culture, item id) -> score, optionally for one culture, category or scope."""
        return {
            (it.culture, it.id): it.score
            for it in self.items
            if (culture is None or it.culture == culture)
            and (category is None or it.category == category)
            and (scope is None or it.scope == scope)
        }


def bootstrap_ci(
    scores: Sequence[float],
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    level: float = CI_LEVEL,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean; None for fewer than two scores (one
    rating says nothing about its spread, so it gets no interval, not a zero-width one)."""
    stats = uncertainty.mean_interval(scores, resamples=resamples, seed=seed, level=level)
    return None if stats["ci_low"] is None else (stats["ci_low"], stats["ci_high"])


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
    stats = uncertainty.mean_interval(scores, resamples=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED)
    return CellStats(
        mean=round(sum(scores) / len(scores), 6) if scores else None,
        n_items=len(items),
        n_rated=len(scores),
        n_invalid=sum(1 for it in unrated if it.invalid),
        n_skipped=sum(1 for it in unrated if not it.invalid),
        ci_low=stats["ci_low"],
        ci_high=stats["ci_high"],
        stderr=stats["stderr"],
        too_small=bool(scores) and stats["too_small"],
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
        categories = {c: _cell(v, aggregate) for c, v in sorted(cats.items(), key=_cat_order)}
        cultures[culture] = CultureSummary(
            average=_cell(its, aggregate),
            categories=categories,
            scopes={s: _cell(v, aggregate) for s, v in sorted(scopes.items(), key=_scope_order)},
            average_of_categories=mean_of_category_means(categories),
        )
    scored = []
    for (culture, item_id), it in items.items():
        score = _score(it, aggregate)
        if score is not None:
            scored.append(
                ItemScore(
                    culture=culture,
                    id=item_id,
                    category=_canonical_category(it.category),
                    scope=it.scope,
                    score=round(score, 6),
                )
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
        items=scored,
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
