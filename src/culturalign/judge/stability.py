"""How much a judge disagrees with itself: with ``--judge-samples k`` every response is
rated k times (sampled, each with its own seed), and the median is kept. The median hides
how far apart the k ratings were; this summary shows it, so a judged score can be read
next to the noise of the judge that made it.

Pure: judgments in (``records.Judgment`` objects or their JSON dicts), a dict out.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any

MOVES = 2.0  # a rating that moves by this much between samples is a changed verdict


def _ratings(j: Any) -> list[float]:
    samples = j.get("samples") if isinstance(j, dict) else getattr(j, "samples", None)
    out = []
    for s in samples or []:
        r = s.get("rating") if isinstance(s, dict) else getattr(s, "rating", None)
        if isinstance(r, int | float):
            out.append(float(r))
    return out


def judge_stability(judgments: Iterable[Any]) -> dict[str, Any]:
    """Over the responses with at least two valid samples: the mean and largest spread
    (max − min) of their ratings, the mean standard deviation, and the share whose
    ratings moved by ``MOVES`` (2 points) or more. ``None`` figures when no response
    had two samples (``--judge-samples 1``)."""
    spreads, stds = [], []
    single = 0
    for j in judgments:
        rs = _ratings(j)
        if len(rs) < 2:
            single += 1
            continue
        spreads.append(max(rs) - min(rs))
        stds.append(statistics.stdev(rs))
    n = len(spreads)
    return {
        "responses": n,
        "single_sample": single,
        "mean_spread": sum(spreads) / n if n else None,
        "max_spread": max(spreads) if n else None,
        "mean_std": sum(stds) / n if n else None,
        "moved_by_2_or_more": sum(1 for s in spreads if s >= MOVES) / n if n else None,
    }


def judge_stability_note(block: dict[str, Any]) -> str | None:
    """A sentence for the run's notes, or None with fewer than two samples per response."""
    if not block.get("responses"):
        return None
    return (
        f"Judge stability over {block['responses']} responses rated several times: the ratings of one "
        f"response differ by {block['mean_spread']:.2f} on average (at most {block['max_spread']:.0f}); "
        f"{block['moved_by_2_or_more']:.0%} of responses moved by 2 points or more between samples."
    )
