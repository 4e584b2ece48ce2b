"""Pure scoring functions for the benchmarks scored from a model's own probabilities.

* ``opinion_similarity``: one minus a Jensen–Shannon quantity between two distributions,
  base-2 logarithms, in [0, 1], with two definitions the papers disagree on
  (``SIMILARITY_MEASURES``):

  - ``"distance"``: 1 − JS *distance* (the square root of the divergence). CAReDiO
    (paper 002 §4.1 and its Table 1: "1 − JS Distance") scores GlobalOpinionQA this
    way, following GlobalOpinionQA's authors (Durmus et al. 2023, whose paper is not in
    our set); ``jsd_similarity`` is this measure.
  - ``"divergence"``: 1 − JS *divergence*, ½KL(P‖M) + ½KL(Q‖M) with M the midpoint.
    Paper 003 §5.2.2 writes cultureSim with this JSD (its equation under "Specifically,
    we calculate", and the definition below it); it names no log base, so we take base 2,
    under which the divergence also tops out at 1.

  The two are not interchangeable: for every pair divergence ≤ distance (d ≤ sqrt(d) on
  [0, 1]), so 1 − divergence is the higher score, much higher for close distributions
  (divergence 0.01 is distance 0.1). Every output names the measure it used. With
  natural logarithms the distance would top out at sqrt(ln 2) ≈ 0.83, not 1, which is
  the mistake to avoid.
* ``culture_sim``: paper 003's cultureSim, the mean over questions of the mean over the
  countries asked about that question.
* ``renormalise``: option log-probabilities → a distribution over just those options.
* ``accuracy``, ``f1_scores`` (sklearn). BLEnD's short-answer matching lives in
  ``evals/blend/match.py``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence


def renormalise(logprobs: Sequence[float | None]) -> list[float]:
    """A distribution over the options from their log-probabilities (None = unseen = 0).

    Raises ValueError when no option has a log-probability."""
    seen = [lp for lp in logprobs if lp is not None and math.isfinite(lp)]
    if not seen:
        raise ValueError("no option has a log-probability")
    top = max(seen)
    weights = [math.exp(lp - top) if lp is not None and math.isfinite(lp) else 0.0 for lp in logprobs]
    total = sum(weights)
    return [w / total for w in weights]


def _as_distribution(p: Sequence[float], name: str) -> list[float]:
    if any((not math.isfinite(v)) or v < 0 for v in p):
        raise ValueError(f"{name} has a negative or non-finite value")
    total = float(sum(p))
    if total <= 0:
        raise ValueError(f"{name} sums to 0")
    return [float(v) / total for v in p]


SIMILARITY_MEASURES = ("distance", "divergence")
SIMILARITY_LABELS = {
    "distance": "1 − Jensen–Shannon distance (base 2)",
    "divergence": "1 − Jensen–Shannon divergence (base 2)",
}


def check_similarity_measure(measure: str) -> str:
    if measure not in SIMILARITY_MEASURES:
        from culturalign.errors import ConfigError

        raise ConfigError(
            f"unknown similarity measure {measure!r}; choose {' or '.join(SIMILARITY_MEASURES)}"
        )
    return measure


def js_divergence(p: Sequence[float], q: Sequence[float]) -> float:
    """Jensen–Shannon divergence in bits, ½KL(p‖m) + ½KL(q‖m) with m = (p + q)/2, in [0, 1].

    Computed as the square of scipy's distance so both measures share one implementation
    (and its handling of zeros)."""
    from scipy.spatial.distance import jensenshannon

    if len(p) != len(q):
        raise ValueError(f"distributions differ in length ({len(p)} vs {len(q)})")
    distance = float(jensenshannon(_as_distribution(p, "p"), _as_distribution(q, "q"), base=2))
    if not math.isfinite(distance):  # identical inputs can give a tiny negative under the root
        distance = 0.0
    return min(1.0, max(0.0, distance * distance))


def opinion_similarity(p: Sequence[float], q: Sequence[float], measure: str = "distance") -> float:
    """1 − JS distance (``measure="distance"``) or 1 − JS divergence (``"divergence"``),
    base 2; see the module docstring for which paper uses which."""
    divergence = js_divergence(p, q)
    if check_similarity_measure(measure) == "divergence":
        return 1.0 - divergence
    return min(1.0, max(0.0, 1.0 - math.sqrt(divergence)))


def jsd_similarity(p: Sequence[float], q: Sequence[float]) -> float:
    """1 − Jensen–Shannon distance (base 2) between two distributions over the same options."""
    return opinion_similarity(p, q, "distance")


def culture_sim(scores: Mapping[str, Mapping[str, float]]) -> float | None:
    """Paper 003's cultureSim: ``scores[question][country]`` similarities, averaged over
    each question's countries, then over questions. None when there are none."""
    per_question = [sum(c.values()) / len(c) for c in scores.values() if c]
    return sum(per_question) / len(per_question) if per_question else None


def mean(values: Iterable[float]) -> float | None:
    vals = list(values)
    return sum(vals) / len(vals) if vals else None


def std(values: Iterable[float]) -> float | None:
    """Population standard deviation (ddof = 0): the spread across the countries reported,
    paper 003's balance figure. None for an empty list."""
    vals = list(values)
    if not vals:
        return None
    m = sum(vals) / len(vals)
    return math.sqrt(sum((v - m) ** 2 for v in vals) / len(vals))


def accuracy(correct: Iterable[bool]) -> float | None:
    flags = list(correct)
    return sum(1 for c in flags if c) / len(flags) if flags else None


def argmax(values: Sequence[float]) -> int:
    """Index of the largest value; the first one on ties (deterministic)."""
    best = 0
    for i, v in enumerate(values):
        if v > values[best]:
            best = i
    return best


def f1_scores(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> dict[str, float]:
    """Per-label F1 and their unweighted mean (``macro``), via sklearn; a label that is
    neither gold nor predicted anywhere scores 0 (sklearn's ``zero_division=0``)."""
    from sklearn.metrics import f1_score

    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    if not gold:
        return {**{lab: 0.0 for lab in labels}, "macro": 0.0}
    per = f1_score(gold, predicted, labels=list(labels), average=None, zero_division=0)
    out = {lab: float(v) for lab, v in zip(labels, per, strict=True)}
    out["macro"] = float(f1_score(gold, predicted, labels=list(labels), average="macro", zero_division=0))
    return out
