"""The rubric judge: a judge model reads a rubric filled with a question, an optional
reference and a response, writes a commentary and ends with a rating on the rubric's
scale. CARE (1-10), CultureBank quality, PRISM cultural awareness and the grounded
rubric (1-5) are all rubrics for this one judge. Importing the package loads nothing.

* ``rubric``     rubric files with their scale and placeholders; CARE's category set
* ``parse``      reading the rating out of a judge's reply, on any scale (pure)
* ``expected``   the judge's expected rating from its own probabilities
* ``core``       the judging loop: prompts, retries with fresh seeds, k-sample medians
* ``inputs``     any responses file → judge items (``culturalign judge``)
* ``agreement``  judge vs. human ratings: Pearson, Spearman, Kendall, histograms
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "parse_rating": "culturalign.judge.parse",
    "judge_items": "culturalign.judge.core",
    "load_rubrics": "culturalign.judge.rubric",
    "run_judge_agreement": "culturalign.judge.agreement",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'culturalign.judge' has no attribute {name!r}")
