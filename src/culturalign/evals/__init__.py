"""Evaluations. Each benchmark is its own module; importing this package loads none of
them (``from culturalign.evals.care import run_care_eval`` loads CARE's). The rubric
judge they share (rubrics, parsing, the judging loop, agreement) is ``culturalign.judge``.

* ``care``             CARE's judged evaluation (paper 000 §4.1, §5, appendix C)
* ``care_stats``       judgments → means, counts, bootstrap intervals (pure)
* ``care_tables``      CARE's tables from run directories, as data, Markdown, CSV, rich
* ``opinions``, ``culturalbench``, ``cali``, ``blend``, ``mcq``  choice and distribution
  benchmarks scored from the model's own probabilities (papers 002 §4.1, 003 §5.2)
* ``grounded``         situation-grounded questions judged by knowledge entailment (paper 003)
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "run_care_eval": "culturalign.evals.care",
    "CareSummary": "culturalign.evals.care_stats",
    "run_opinions": "culturalign.evals.opinions",
    "run_culturalbench": "culturalign.evals.culturalbench",
    "run_cali": "culturalign.evals.cali",
    "run_blend": "culturalign.evals.blend",
    "run_mcq": "culturalign.evals.mcq",
    "run_grounded_eval": "culturalign.evals.grounded",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'culturalign.evals' has no attribute {name!r}")
