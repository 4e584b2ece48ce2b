"""Choosing a label: the most probable one, or the first one a reply names.

``parse_label`` is the generate-and-parse fallback for backends without log-probs
(``LM.label_logprobs(..., fallback="generate-parse")``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from culturalign.records.generation import GenerationParams

# short and greedy: a label is a word or two, and the fallback must be reproducible
FALLBACK_PARAMS = GenerationParams(temperature=0, max_new_tokens=16)


def best_label(logprobs: Mapping[str, float | None]) -> str | None:
    """The most probable label among those whose log-probability is known."""
    known = {k: v for k, v in logprobs.items() if v is not None}
    return max(known, key=known.__getitem__) if known else None


def parse_label(text: str, labels: Sequence[str]) -> str | None:
    """The label a reply names first, as a whole word; case-sensitive matches win over
    case-insensitive ones, and at one position a longer label wins ("No" vs "N")."""
    for flags in (0, re.IGNORECASE):
        best: tuple[int, int, str] | None = None
        for label in labels:
            if not label.strip():
                continue
            pattern = rf"(?<![\w]){re.escape(label.strip())}(?![\w])"
            m = re.search(pattern, text, flags)
            if m and (best is None or (m.start(), -len(label)) < (best[0], best[1])):
                best = (m.start(), -len(label), label)
        if best is not None:
            return best[2]
    return None
