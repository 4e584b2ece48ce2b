"""The expected rating: the mean of the judge's own probability distribution over its
rubric's scale (1-10 for CARE, 1-5 for the other rubrics).

A parsed rating keeps only the digit the judge happened to write. A small judge
writes 9 or 1 for almost anything, so the parsed numbers hardly move when the answers
get better. Reading the judge's probabilities for every rating at the point where it
writes the number, and taking their mean (the G-Eval idea), keeps the information the
argmax throws away and gives a continuous score with far fewer ties.

How it is read: the judge's reply is cut just before its rating line, and
``Rating: [[`` is forced after the commentary; each candidate ``n]]`` (n = 1..10) is
scored as a continuation, so a two-token ``10`` and a ``1`` followed by ``]]`` are
told apart exactly. The ten probabilities are renormalised over the scale: what the
judge would put on anything else (a decimal, a word) is left out, and
``coverage`` (their sum before renormalising) says how much that was.

It needs continuation log-probabilities after an assistant prefix: the local
backends (``embedded``, ``hf:``, ``vllm:``) have them; a chat-completions server does
not, and the judge then keeps the parsed rating and says so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from culturalign.judge.parse import RATING_LABELS

SCALE = tuple(range(1, 11))
RATING_OPENER = "Rating: [["
CANDIDATES = tuple(f"{n}]]" for n in SCALE)


def candidates(low: int = 1, high: int = 10) -> tuple[str, ...]:
    """The continuations scored for a ``low``-``high`` scale (CARE's ``CANDIDATES`` for 1-10)."""
    return tuple(f"{n}]]" for n in range(low, high + 1))


# the line that gives the rating: a double bracket, or one of the parser's rating labels
# (English, Chinese in both scripts, Japanese, Arabic) followed by a digit of any script
_RATING_LINE = re.compile(r"\[\[|(?:" + RATING_LABELS + r")\W{0,6}[0-9０-９٠-٩۰-۹]", re.IGNORECASE)


def commentary(reply: str) -> str:
    """The judge's reply up to (not including) the line where it gives its rating.

    The cut is at the last such line (what comes before it is the commentary); a reply
    with no rating line is all commentary, and the opener is forced after it."""
    starts = [m.start() for m in _RATING_LINE.finditer(reply)]
    if not starts:
        return reply.rstrip()
    cut = reply.rfind("\n", 0, starts[-1]) + 1  # the start of that line
    return reply[:cut].rstrip()


def rating_prefix(reply: str) -> str:
    """The text forced into the judge's turn before the candidate ratings."""
    body = commentary(reply)
    return f"{body}\n\n{RATING_OPENER}" if body else RATING_OPENER


@dataclass(frozen=True)
class ExpectedRating:
    rating: float
    distribution: tuple[float, ...]  # P(n) for n = low..high, renormalised over the scale
    coverage: float  # the candidates' probabilities summed before renormalising


def expected_rating(logprobs: Sequence[float], low: int = 1, high: int = 10) -> ExpectedRating | None:
    """The probability-weighted mean rating from the candidates' log-probabilities (one
    per rating, ``low`` first), or None when none of them is finite (nothing is made up)."""
    scale = tuple(range(low, high + 1))
    if len(logprobs) != len(scale):
        raise ValueError(f"need {len(scale)} log-probabilities, got {len(logprobs)}")
    finite = [lp for lp in logprobs if math.isfinite(lp)]
    if not finite:
        return None
    top = max(finite)
    weights = [math.exp(lp - top) if math.isfinite(lp) else 0.0 for lp in logprobs]
    total = sum(weights)
    dist = tuple(w / total for w in weights)
    coverage = min(1.0, total * math.exp(top))
    rating = sum(p * n for p, n in zip(dist, scale, strict=True))
    return ExpectedRating(
        rating=min(float(high), max(float(low), rating)), distribution=dist, coverage=coverage
    )
