"""How sure a number is: intervals for every score culturalign reports, and paired
intervals for every before/after change.

One module serves the evaluations, the studies, the demo and the report, so that every
number in every output is made the same way:

* ``mean_interval``: percentile bootstrap of a mean over items (CARE ratings, cultureSim
  per question, length-normalised accuracy flags ...), with its standard error.
* ``proportion_interval``: Wilson score interval of an accuracy, with the binomial
  standard error ``sqrt(p (1 - p) / n)`` that lm-evaluation-harness reports as
  ``acc_stderr`` (it uses the sample form, ``/(n - 1)``; we say which in ``stderr_kind``).
* ``statistic_interval``: percentile bootstrap of any statistic of a list of units that
  is not a plain mean (macro-F1 over NLI pairs, cultureSim over questions x countries).
* ``paired_delta``: the change between two runs over the *same* items, with a paired
  bootstrap interval (items resampled together, so item difficulty cancels), and whether
  that interval includes 0.

A cell of fewer than ``MIN_ITEMS`` items gets no interval at all (never a zero-width one)
and is flagged ``too_small``: one rating tells nothing about its spread. Resampling uses a
fixed seed, so the same inputs always give the same interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

RESAMPLES = 2000
SEED = 0
LEVEL = 0.95
MIN_ITEMS = 2
Z95 = 1.959963984540054

T = TypeVar("T")


def _percentiles(values: Any, level: float) -> tuple[float, float]:
    import numpy as np

    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(values, [tail, 100 - tail])
    return float(lo), float(hi)


def _round(x: float | None, digits: int = 6) -> float | None:
    return None if x is None else round(float(x), digits)


def mean_interval(
    values: Sequence[float],
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> dict[str, Any]:
    """Mean of ``values`` with a percentile-bootstrap interval and the standard error of
    the mean (sample standard deviation / sqrt(n)).

    Returns ``{mean, n, stderr, ci_low, ci_high, too_small}``; the interval and the
    standard error are None when there are fewer than ``MIN_ITEMS`` values."""
    import numpy as np

    x = np.asarray(list(values), dtype=float)
    n = int(x.size)
    out: dict[str, Any] = {"mean": None, "n": n, "stderr": None, "ci_low": None, "ci_high": None}
    out["too_small"] = n < MIN_ITEMS
    if n == 0:
        return out
    out["mean"] = _round(x.mean())
    if n < MIN_ITEMS:
        return out
    out["stderr"] = _round(x.std(ddof=1) / math.sqrt(n))
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, n, size=(resamples, n))].mean(axis=1)
    lo, hi = _percentiles(means, level)
    out["ci_low"], out["ci_high"] = _round(lo), _round(hi)
    return out


def proportion_interval(successes: int, n: int, *, level: float = LEVEL) -> dict[str, Any]:
    """Accuracy ``successes / n`` with a Wilson score interval (sound near 0 and 1, where a
    normal interval leaves [0, 1]) and the binomial standard error.

    Returns ``{accuracy, n, stderr, ci_low, ci_high, too_small, stderr_kind}``."""
    if successes < 0 or n < 0 or successes > n:
        raise ValueError(f"successes ({successes}) must lie between 0 and n ({n})")
    out: dict[str, Any] = {
        "accuracy": None,
        "n": n,
        "stderr": None,
        "ci_low": None,
        "ci_high": None,
        "too_small": n < MIN_ITEMS,
        "stderr_kind": "binomial sqrt(p(1-p)/n); interval: Wilson score",
    }
    if n == 0:
        return out
    p = successes / n
    out["accuracy"] = _round(p)
    if n < MIN_ITEMS:
        return out
    z = Z95 if level == LEVEL else _z(level)
    out["stderr"] = _round(math.sqrt(p * (1 - p) / n))
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    out["ci_low"], out["ci_high"] = _round(max(0.0, centre - half)), _round(min(1.0, centre + half))
    return out


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(1 - (1 - level) / 2))


def statistic_interval(
    units: Sequence[T],
    statistic: Callable[[Sequence[T]], float | None],
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> dict[str, Any]:
    """``statistic(units)`` with a percentile-bootstrap interval over resampled units
    (for example macro-F1 over NLI pairs). Resamples where the statistic is undefined
    (None) are dropped; the standard error is the standard deviation of the resampled
    values. Returns ``{value, n, stderr, ci_low, ci_high, too_small}``."""
    import numpy as np

    units = list(units)
    n = len(units)
    out: dict[str, Any] = {"value": None, "n": n, "stderr": None, "ci_low": None, "ci_high": None}
    out["too_small"] = n < MIN_ITEMS
    if n == 0:
        return out
    value = statistic(units)
    out["value"] = _round(value)
    if n < MIN_ITEMS or value is None:
        return out
    rng = np.random.default_rng(seed)
    draws = []
    for idx in rng.integers(0, n, size=(resamples, n)):
        v = statistic([units[i] for i in idx])
        if v is not None and math.isfinite(v):
            draws.append(v)
    if len(draws) < 2:
        return out
    out["stderr"] = _round(float(np.std(draws, ddof=1)))
    lo, hi = _percentiles(draws, level)
    out["ci_low"], out["ci_high"] = _round(lo), _round(hi)
    return out


def paired_delta(
    before: Mapping[Hashable, float],
    after: Mapping[Hashable, float],
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> dict[str, Any]:
    """The change ``after - before`` in the mean score over the items scored in *both*
    runs, with a paired percentile-bootstrap interval (the per-item differences are
    resampled). Items scored in only one run are counted, not used.

    Returns ``{delta, n, before, after, stderr, ci_low, ci_high, includes_zero,
    too_small, only_before, only_after}``. ``includes_zero`` is None when there is no
    interval (fewer than ``MIN_ITEMS`` shared items)."""
    shared = [k for k in before if k in after]
    diffs = [float(after[k]) - float(before[k]) for k in shared]
    stats = mean_interval(diffs, resamples=resamples, seed=seed, level=level)
    lo, hi = stats["ci_low"], stats["ci_high"]
    return {
        "delta": stats["mean"],
        "n": len(shared),
        "before": _round(sum(float(before[k]) for k in shared) / len(shared)) if shared else None,
        "after": _round(sum(float(after[k]) for k in shared) / len(shared)) if shared else None,
        "stderr": stats["stderr"],
        "ci_low": lo,
        "ci_high": hi,
        "includes_zero": None if lo is None else bool(lo <= 0 <= hi),
        "too_small": stats["too_small"],
        "only_before": sum(1 for k in before if k not in after),
        "only_after": sum(1 for k in after if k not in before),
    }


def paired_statistic_delta(
    before: Mapping[Hashable, T],
    after: Mapping[Hashable, T],
    statistic: Callable[[Sequence[T]], float | None],
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> dict[str, Any]:
    """Like ``paired_delta`` for a statistic that is not a mean of per-item scores (for
    example macro-F1): the same resampled items are scored in both runs and the
    difference of the two statistics is taken each time."""
    import numpy as np

    shared = [k for k in before if k in after]
    n = len(shared)
    out: dict[str, Any] = {
        "delta": None,
        "n": n,
        "stderr": None,
        "ci_low": None,
        "ci_high": None,
        "includes_zero": None,
        "too_small": n < MIN_ITEMS,
    }
    if n == 0:
        return out
    b0, a0 = statistic([before[k] for k in shared]), statistic([after[k] for k in shared])
    if b0 is None or a0 is None:
        return out
    out["delta"] = _round(a0 - b0)
    if n < MIN_ITEMS:
        return out
    rng = np.random.default_rng(seed)
    draws = []
    for idx in rng.integers(0, n, size=(resamples, n)):
        keys = [shared[i] for i in idx]
        b, a = statistic([before[k] for k in keys]), statistic([after[k] for k in keys])
        if a is not None and b is not None:
            draws.append(a - b)
    if len(draws) < 2:
        return out
    out["stderr"] = _round(float(np.std(draws, ddof=1)))
    lo, hi = _percentiles(draws, level)
    out["ci_low"], out["ci_high"] = _round(lo), _round(hi)
    out["includes_zero"] = bool(lo <= 0 <= hi)
    return out


def describe_delta(d: Mapping[str, Any], *, digits: int = 2, unit: str = "") -> str:
    """A change as a sentence fragment: ``+0.80 [+0.20, +1.40] (n=150)``, with "too few
    items to tell" or "interval includes 0" where that is what it shows."""
    if d.get("delta") is None:
        return f"no shared items (n={d.get('n', 0)})"
    text = f"{d['delta']:+.{digits}f}{unit}"
    if d.get("ci_low") is None:
        return f"{text} (n={d['n']}; too few items to tell)"
    text += f" [{d['ci_low']:+.{digits}f}, {d['ci_high']:+.{digits}f}] (n={d['n']})"
    if d.get("includes_zero"):
        text += "; interval includes 0"
    return text


def verdict(d: Mapping[str, Any], *, higher_is_better: bool = True) -> str:
    """One plain word for a change: ``improved``, ``worsened``, ``no measurable change``
    or ``too few items to tell``. Pass ``higher_is_better=False`` for scores where less
    is better (a distance, a spread across countries)."""
    if d.get("delta") is None or d.get("ci_low") is None:
        return "too few items to tell"
    if d.get("includes_zero"):
        return "no measurable change"
    return "improved" if (d["delta"] > 0) == higher_is_better else "worsened"
