"""``--robustness K`` for the lettered multiple-choice benchmarks (``mcq``, BLEnD
multiple choice through it, CulturalBench-Easy) and for CALI.

Each returns the block of ``core.block`` that goes under ``summary["robustness"]``, and
its records (one per unit × variant) for ``robustness.jsonl``. The wordings are template
files under ``prompts/templates/choice/`` (the first is the wording of the headline run,
so that variant comes from the call cache); a ``--templates`` folder can replace them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from culturalign.evals.choice.prompts import ChoicePrompts, culture_phrase
from culturalign.evals.robustness.core import Unit, block, score_variants
from culturalign.lm.cached import LM

MCQ_WORDINGS = ("mcq", "robust/mcq_2", "robust/mcq_3")
CALI_WORDINGS = ("robust/cali_1", "robust/cali_2", "robust/cali_3")
# the three relations as options a permutation can reorder, in E, N, C order
CALI_OPTIONS = ("It must be true.", "It may or may not be true.", "It must be false.")
CALI_LABELS = ("E", "N", "C")


def mcq_robustness(
    lm: LM,
    prompts: ChoicePrompts,
    questions: Sequence[Any],
    k: int,
    *,
    interval: Mapping[str, Any] | None,
    what: str = "accuracy",
    desc: str = "robustness: multiple choice",
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Accuracy of ChoiceItems with a gold answer under K orders × the MCQ wordings."""
    answers = {q.id: q.answer for q in questions}
    units = [Unit(q.id, q.id, list(q.options), {"question": q.question}) for q in questions]
    records = score_variants(lm, prompts, units, MCQ_WORDINGS, k, desc=desc)
    for r in records:
        r["correct"] = None if r["choice"] is None else r["choice"] == answers[r["id"]]

    def accuracy(rs: Sequence[dict[str, Any]]) -> float | None:
        scored = [r["correct"] for r in rs if r["correct"] is not None]
        return sum(scored) / len(scored) if scored else None

    return block(
        "accuracy", records, accuracy, interval=interval, what=what, k=k, wordings=MCQ_WORDINGS
    ), records


def cali_robustness(
    lm: LM,
    prompts: ChoicePrompts,
    pairs: Sequence[Any],
    cultures: Sequence[str],
    k: int,
    *,
    intervals: Mapping[str, Mapping[str, Any] | None],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Macro-F1 per culture (argmax, every pair with a majority label) under K orders of
    the three relations × the CALI wordings (which list them with letters A–C, unlike
    the headline's E/N/C prompt)."""
    from culturalign.evals.metrics import f1_scores

    gold: dict[str, str] = {}
    units = []
    for p in pairs:
        for c in cultures:
            if c in p.labels and p.gold(c) is not None:
                key = f"{p.id}|{c}"
                gold[key] = p.gold(c)
                units.append(
                    Unit(
                        key,
                        p.id,
                        list(CALI_OPTIONS),
                        {"premise": p.premise, "hypothesis": p.hypothesis, "culture": culture_phrase(c)},
                    )
                )
    culture_of = {u.key: u.key.rsplit("|", 1)[1] for u in units}
    records = score_variants(lm, prompts, units, CALI_WORDINGS, k, desc="robustness: CALI")
    for r in records:
        r["culture"] = culture_of[r["unit"]]
        r["gold"] = gold[r["unit"]]
        r["pred"] = None if r["choice"] is None else CALI_LABELS[r["choice"]]
    per_culture = {}
    for c in cultures:
        mine = [r for r in records if r["culture"] == c]
        if not mine:
            continue

        def macro_f1(rs: Sequence[dict[str, Any]]) -> float | None:
            scored = [r for r in rs if r["pred"] is not None]
            if not scored:
                return None
            return f1_scores([r["gold"] for r in scored], [r["pred"] for r in scored], CALI_LABELS)["macro"]

        per_culture[c] = block(
            "macro_f1",
            mine,
            macro_f1,
            interval=intervals.get(c),
            what=f"CALI {c} macro-F1",
            k=k,
            wordings=CALI_WORDINGS,
        )
    out = {
        "per_culture": per_culture,
        "stable": all(b["stable"] for b in per_culture.values()),
        "flags": [f for b in per_culture.values() for f in b["flags"]],
    }
    return out, records
