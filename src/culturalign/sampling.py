"""Which N items ``--limit N`` evaluates.

Taking the first N rows of a file measures whatever the file happens to start with: the
first five CARE questions are all "Cultural entities", the first five BLEnD questions all
Assam. A limited run is a sample, so it is drawn like one: stratified by the axis the
benchmark reports on (culture × category, region, country, subject ...), with each
stratum's share of the limit proportional to its size (largest remainder, and at least
one item per stratum while the limit allows), and the items inside a stratum chosen by a
seeded hash of their id. The hash (not Python's ``hash()``, which is salted per process)
makes the sample the same on every machine and run, and independent of file order; the
chosen items come back in file order. ``order="file"`` keeps the first N rows.

``sample_limit`` takes an iterable and holds at most ``limit`` candidates per stratum plus
one counter per stratum, so ``generate --limit 2`` on a file of any size uses memory that
does not grow with the file.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Literal, TypeVar

T = TypeVar("T")
LimitOrder = Literal["stratified", "file"]
LIMIT_ORDERS: tuple[str, ...] = ("stratified", "file")


def priority(item_id: str, seed: int = 0) -> int:
    """A stable pseudo-random rank for an item id (smaller is chosen first)."""
    digest = hashlib.sha256(f"{seed}\x1f{item_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def default_stratum(item: Any) -> Hashable:
    """The axis each record type's benchmark reports on, so a small sample still covers it.

    Culture-specific questions: culture × category; BLEnD items: region; choice items
    (opinions, CulturalBench, multiple choice): culture × topic (the subject for MCQ,
    the country for CulturalBench); grounded questions and CultureBank knowledge: cultural
    group; synthesized questions: topic, or target culture once adapted; anything else
    (e.g. CALI pairs, labelled for every culture at once): one stratum.
    """
    from culturalign.records import ChoiceItem, CulturalQuestion, GroundedQuestion, ShortAnswerItem
    from culturalign.records.knowledge import KnowledgeItem
    from culturalign.records.synth import AdaptedQuestion, SynthQuestion
    from culturalign.records.truefalse import TrueFalseItem

    if isinstance(item, CulturalQuestion):
        return (item.culture, item.category.value if item.category else None)
    if isinstance(item, ShortAnswerItem):
        return item.region
    if isinstance(item, ChoiceItem | TrueFalseItem):
        return (item.culture, item.topic)
    if isinstance(item, GroundedQuestion | KnowledgeItem):
        return item.cultural_group
    if isinstance(item, AdaptedQuestion):
        return item.target_culture
    if isinstance(item, SynthQuestion):
        return item.topic
    return None


def default_id(item: Any) -> str:
    for name in ("id", "item_id", "question_id"):
        value = getattr(item, name, None)
        if value is not None:
            return str(value)
    raise TypeError(f"{type(item).__name__} has no id to sample by")


def allocate(sizes: dict[Hashable, int], limit: int) -> dict[Hashable, int]:
    """How many items each stratum gives to a sample of ``limit``.

    With at least as many slots as strata every stratum gets one, and the rest is shared
    in proportion to stratum size by largest remainder (capped at what a stratum holds;
    what a full stratum cannot take is shared again). With fewer slots than strata, the
    largest strata get one each (ties broken by a hash of the stratum's name, not by
    where it first appears in the file)."""
    total = sum(sizes.values())
    if limit >= total:
        return dict(sizes)
    keys = sorted(sizes, key=lambda k: (-sizes[k], priority(repr(k))))
    if limit < len(keys):
        return {k: int(i < limit) for i, k in enumerate(keys)}
    alloc = {k: 1 for k in keys}
    left = limit - len(keys)
    while left > 0:
        open_ = [k for k in keys if alloc[k] < sizes[k]]
        weight = sum(sizes[k] for k in open_)
        quotas = {k: left * sizes[k] / weight for k in open_}
        extra = {k: min(int(quotas[k]), sizes[k] - alloc[k]) for k in open_}
        given = sum(extra.values())
        if given < left:
            # largest fractional part first; ties go to the larger, then the hash-ranked stratum
            rank = sorted(open_, key=lambda k: (-(quotas[k] - int(quotas[k])), keys.index(k)))
            for k in rank:
                if given == left:
                    break
                if alloc[k] + extra[k] < sizes[k]:
                    extra[k] += 1
                    given += 1
        for k in open_:
            alloc[k] += extra[k]
        left -= given
    return alloc


def sample_limit(
    items: Iterable[T],
    limit: int | None,
    *,
    order: str = "stratified",
    strata: Callable[[T], Hashable] = default_stratum,
    key: Callable[[T], str] = default_id,
    seed: int = 0,
) -> list[T]:
    """``limit`` items of ``items`` (all of them when ``limit`` is None), in their order.

    ``order='file'`` takes the first ``limit``; ``'stratified'`` a proportional stratified
    sample chosen by ``priority(key(item), seed)`` inside each stratum. ``items`` is read
    once and may be a generator over a file larger than memory."""
    if limit is None:
        return list(items)
    if order not in LIMIT_ORDERS:
        from culturalign.errors import ConfigError

        raise ConfigError(f"--limit-order must be one of {', '.join(LIMIT_ORDERS)}, not {order!r}")
    if limit < 1:
        from culturalign.errors import ConfigError

        raise ConfigError(f"--limit must be at least 1, not {limit}")
    if order == "file":
        return list(itertools.islice(items, limit))
    sizes: dict[Hashable, int] = {}
    # per stratum: a max-heap (negated) of the `limit` smallest (priority, index) pairs seen
    best: dict[Hashable, list[tuple[int, int, int, T]]] = {}
    for index, item in enumerate(items):
        s = strata(item)
        sizes[s] = sizes.get(s, 0) + 1
        entry = (-priority(key(item), seed), -index, index, item)
        heap = best.setdefault(s, [])
        if len(heap) < limit:
            heapq.heappush(heap, entry)
        elif entry[:2] > heap[0][:2]:
            heapq.heapreplace(heap, entry)
    alloc = allocate(sizes, limit)
    chosen: list[tuple[int, T]] = []
    for s, heap in best.items():
        ranked = sorted(heap, key=lambda e: (-e[0], -e[1]))
        chosen.extend((index, item) for _, _, index, item in ranked[: alloc[s]])
    chosen.sort(key=lambda pair: pair[0])
    return [item for _, item in chosen]


def limit_fields(limit: int | None, order: str) -> dict[str, Any]:
    """What run.json and summaries record about the sampling, in one spelling."""
    return {"limit": limit, "limit_order": order if limit is not None else None}
