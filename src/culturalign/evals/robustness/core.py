"""Scoring every unit of a choice benchmark under variants of the prompt, and the figures
that say how much the answer depends on them.

A *variant* is one wording (a template file) and one option order. Order ``0`` is the
file's own order; order ``1`` reverses it; later orders are shuffles seeded by a hash of
the item id and the order number, so they are the same on every machine and run, and
all orders of an item are distinct while the item has enough options. Letters are
re-assigned in the shown order (the first shown option is always ``(A)``), and every
answer is mapped back to the file's option order before it is scored, which is the same
as permuting the target with the options.

All prompts go through ``LM.label_logprobs`` and so through the call cache: rerunning
with a larger K asks only for the new orders.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from culturalign.evals.choice.prompts import ChoicePrompts, letters_for, option_block
from culturalign.evals.choice.scoring import score_labels
from culturalign.lm.cached import LM

# below this share of variants agreeing with an item's most common answer, on average,
# the answer is said to depend on the option order (or the wording)
AGREEMENT_MIN = 0.8
# the first (or last) shown option picked this much more or less often than chance
# (1 / number of options) is a position bias
POSITION_EXCESS = 0.2


@dataclass(frozen=True)
class Variant:
    index: int
    wording: str  # template name under choice/
    order: int  # 0 = the file's order


@dataclass
class Unit:
    """One thing scored under every variant: an item (or item × country / culture)."""

    key: str  # unique among the units
    item_id: str  # orders are seeded by it, so an item's units share them
    options: list[str]
    values: dict[str, Any] = field(default_factory=dict)  # the template's other fields


def permutations(n: int, k: int, key: str) -> list[list[int]]:
    """Up to ``k`` distinct orders of ``n`` options (fewer when ``n!`` < k): the file's,
    the reverse, then seeded shuffles that put a not-yet-first option first while there
    is one. ``order[j]`` is the file index shown at ``j``."""
    if k < 1:
        raise ValueError("at least one option order")
    wanted = min(k, math.factorial(n))
    out = [list(range(n))]
    if wanted > 1:
        out.append(list(range(n - 1, -1, -1)))
    attempt = 2
    while len(out) < wanted:
        seed = int.from_bytes(hashlib.sha256(f"{key}:{attempt}".encode()).digest()[:8], "big")
        perm = list(range(n))
        random.Random(seed).shuffle(perm)
        firsts = {p[0] for p in out}
        # while some option has not been shown first, a new order must show one of them
        # first (tried for a while), so a model that favours position A is caught
        fresh = len(firsts) == n or perm[0] not in firsts or attempt > 200 + len(out)
        if perm not in out and fresh:
            out.append(perm)
        attempt += 1
    return out


def variants(wordings: Sequence[str], k: int) -> list[Variant]:
    return [Variant(i * k + o, w, o) for i, w in enumerate(wordings) for o in range(k)]


def score_variants(
    lm: LM,
    prompts: ChoicePrompts,
    units: Sequence[Unit],
    wordings: Sequence[str],
    k: int,
    *,
    desc: str,
) -> list[dict[str, Any]]:
    """One record per unit × variant, probabilities in the file's option order."""
    vs = variants(wordings, k)
    jobs: list[tuple[Unit, Variant, list[int]]] = []
    for u in units:
        orders = permutations(len(u.options), k, u.item_id)
        jobs += [(u, v, orders[v.order]) for v in vs if v.order < len(orders)]
    scored = score_labels(
        lm,
        [
            prompts.prompt(v.wording, options=option_block([u.options[j] for j in perm]), **u.values)
            for u, v, perm in jobs
        ],
        [letters_for(len(u.options)) for u, _, _ in jobs],
        prefix=prompts.prefix(),
        desc=desc,
    )
    out = []
    for (u, v, perm), s in zip(jobs, scored, strict=True):
        probs = None
        if s.probs is not None:
            probs = [0.0] * len(perm)
            for shown, original in enumerate(perm):
                probs[original] = s.probs[shown]
        rec: dict[str, Any] = {
            "unit": u.key,
            "id": u.item_id,
            "variant": v.index,
            "wording": v.wording,
            "order": v.order,
            "permutation": perm,
            "probs": probs,
            "shown_choice": s.choice,
            "choice": None if s.choice is None else perm[s.choice],
            "method": s.method,
        }
        if s.error is not None:
            rec["error"] = s.error
        out.append(rec)
    return out


def _modal_share(choices: Sequence[int]) -> float | None:
    if not choices:
        return None
    return Counter(choices).most_common(1)[0][1] / len(choices)


def _mean(values: Sequence[float | None]) -> float | None:
    vs = [v for v in values if v is not None]
    return sum(vs) / len(vs) if vs else None


def agreement(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """How often an item's variants pick the same option (in the file's order):
    ``overall`` (all variants), ``order`` (orders of one wording) and ``wording``
    (wordings of one order), each the mean over units of the share of variants agreeing
    with the unit's most common pick; ``all_agree`` is the share of units whose variants
    all agree; ``first_position`` / ``last_position`` the share of picks that were the
    first / last option shown (chance is ``first_position_chance`` for both)."""
    by_unit: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if r.get("choice") is not None:
            by_unit.setdefault(r["unit"], []).append(r)
    overall, by_order, by_wording, unanimous = [], [], [], []
    for recs in by_unit.values():
        overall.append(_modal_share([r["choice"] for r in recs]))
        unanimous.append(len({r["choice"] for r in recs}) == 1)
        for group_key, sink in (("wording", by_order), ("order", by_wording)):
            groups: dict[Any, list[int]] = {}
            for r in recs:
                groups.setdefault(r[group_key], []).append(r["choice"])
            shares = [_modal_share(c) for c in groups.values() if len(c) > 1]
            if shares:
                sink.append(_mean(shares))
    answered = [r for r in records if r.get("shown_choice") is not None]
    return {
        "units": len(by_unit),
        "overall": _mean(overall),
        "order": _mean(by_order),
        "wording": _mean(by_wording),
        "all_agree": _mean([1.0 if u else 0.0 for u in unanimous]),
        "first_position": _mean([1.0 if r["shown_choice"] == 0 else 0.0 for r in answered]),
        "last_position": _mean(
            [1.0 if r["shown_choice"] == len(r["permutation"]) - 1 else 0.0 for r in answered]
        ),
        "first_position_chance": _mean([1 / len(r["permutation"]) for r in answered]),
    }


def spread(values: Sequence[float | None]) -> dict[str, Any]:
    """min, max, range and sample standard deviation of one score across variants."""
    vs = [v for v in values if v is not None]
    if not vs:
        return {"n": 0, "min": None, "max": None, "range": None, "std": None}
    m = sum(vs) / len(vs)
    sd = math.sqrt(sum((v - m) ** 2 for v in vs) / (len(vs) - 1)) if len(vs) > 1 else None
    return {"n": len(vs), "min": min(vs), "max": max(vs), "range": max(vs) - min(vs), "std": sd}


def variant_scores(
    records: Sequence[dict[str, Any]],
    score: Callable[[Sequence[dict[str, Any]]], float | None],
) -> list[dict[str, Any]]:
    """The benchmark's score computed on each variant's records alone."""
    groups: dict[int, list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault(r["variant"], []).append(r)
    return [
        {"variant": v, "wording": rs[0]["wording"], "order": rs[0]["order"], "score": score(rs)}
        for v, rs in sorted(groups.items())
    ]


def factor_ranges(per_variant: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    """The score's range over orders (one wording at a time) and over wordings (one order
    at a time), each averaged, so the two causes can be told apart."""

    def mean_range(group_key: str) -> float | None:
        groups: dict[Any, list[float]] = {}
        for v in per_variant:
            if v["score"] is not None:
                groups.setdefault(v[group_key], []).append(v["score"])
        return _mean([max(g) - min(g) for g in groups.values() if len(g) > 1])

    return {"order": mean_range("wording"), "wording": mean_range("order")}


def flags(
    agree: Mapping[str, Any], score_spread: Mapping[str, Any], interval: Mapping[str, Any] | None, what: str
) -> list[str]:
    """Plain sentences for every way the measurement was found unstable (empty: stable).
    The score's range is compared with the width of the headline's 95% interval: a
    spread from arbitrary choices that is wider than the sampling uncertainty means the
    number says more about the prompt than about the model."""
    out = []
    if agree.get("order") is not None and agree["order"] < AGREEMENT_MIN:
        out.append(
            f"{what}: option-order effect: on average only {agree['order']:.0%} of an item's option "
            f"orders pick the same option (threshold {AGREEMENT_MIN:.0%})"
        )
    chance = agree.get("first_position_chance")
    for place in ("first", "last"):
        share = agree.get(f"{place}_position")
        if share is not None and chance is not None and abs(share - chance) > POSITION_EXCESS:
            out.append(
                f"{what}: position bias: {share:.0%} of picks are the {place} option shown, chance is {chance:.0%}"
            )
    if agree.get("wording") is not None and agree["wording"] < AGREEMENT_MIN:
        out.append(
            f"{what}: wording effect: on average only {agree['wording']:.0%} of an item's wordings pick "
            f"the same option (threshold {AGREEMENT_MIN:.0%})"
        )
    width = None
    if interval and interval.get("ci_low") is not None and interval.get("ci_high") is not None:
        width = interval["ci_high"] - interval["ci_low"]
    rng = score_spread.get("range")
    if rng is not None and width is not None and rng > width:
        out.append(
            f"{what}: the score moves by {rng:.3f} across variants, more than its 95% interval is wide "
            f"({width:.3f})"
        )
    return out


def block(
    name: str,
    records: Sequence[dict[str, Any]],
    score: Callable[[Sequence[dict[str, Any]]], float | None],
    *,
    interval: Mapping[str, Any] | None,
    what: str,
    k: int,
    wordings: Sequence[str],
) -> dict[str, Any]:
    """The robustness summary of one score: per-variant values, spread, agreement, flags."""
    per_variant = variant_scores(records, score)
    sp = spread([v["score"] for v in per_variant])
    agree = agreement(records)
    found = flags(agree, sp, interval, what)
    return {
        "score": name,
        "orders": k,
        "wordings": list(wordings),
        "variants": per_variant,
        "spread": sp,
        "range_by_factor": factor_ranges(per_variant),
        "agreement": agree,
        "failed": sum(1 for r in records if r.get("choice") is None),
        "stable": not found,
        "flags": found,
    }
