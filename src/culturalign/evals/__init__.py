"""Evaluations, grouped by family; importing this package loads none of them
(``from culturalign.evals.care.judged import run_care_eval`` loads CARE's). The rubric
judge they share (rubrics, parsing, the judging loop, agreement) is ``culturalign.judge``.

* ``care/``        CARE (paper 000): ``judged`` (1-10 ratings against the human reference,
  §4.1, App. C), ``choice`` (the judge-free reference choice), ``stats`` (means, counts,
  intervals), ``tables`` and ``table_render`` (CARE's table layouts)
* ``choice/``      scored from the model's own option probabilities (002 §4.1, 003 §5.2):
  ``opinions`` (cultureSim), ``culturalbench``, ``cali``, ``mcq``, and the shared ``data``,
  ``prompts``, ``run``, ``scoring``
* ``blend/``       BLEnD: ``run`` (short answers and multiple choice), ``match`` (the
  official rules)
* ``open_ended/``  answers rated by a rubric judge or checked by entailment: ``grounded``
  (paper 003), ``culturebank_quality`` and ``prism`` (002 Tables 5 and 6), ``rubric_run``
* ``robustness/``  option-order, wording and judge-sample stability (``--robustness K``)
* ``headline``, ``metrics``  the one number per run, and pure metric functions
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "run_care_eval": "culturalign.evals.care.judged",
    "CareSummary": "culturalign.evals.care.stats",
    "run_opinions": "culturalign.evals.choice.opinions",
    "run_culturalbench": "culturalign.evals.choice.culturalbench",
    "run_cali": "culturalign.evals.choice.cali",
    "run_blend": "culturalign.evals.blend.run",
    "run_mcq": "culturalign.evals.choice.mcq",
    "run_grounded_eval": "culturalign.evals.open_ended.grounded",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'culturalign.evals' has no attribute {name!r}")
