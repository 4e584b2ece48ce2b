"""Does the judge tell a right answer from a wrong one? Parsed against expected ratings.

Run: ``python benchmarks/bench_judge_discrimination.py [--judge SPEC] [--limit N]``
(offline; the default judge is the embedded SmolLM2-135M).

For each sample CARE question (English side), the judge rates two answers against the
reference: the reference itself (right) and the reference of the next question in the
file (wrong: fluent, confident, about something else). A useful judge rates every right
answer above every wrong one.

Both scorings read the same judge replies (one shared call cache): ``parsed`` takes
the number the judge wrote (CARE's way), ``expected`` the mean of its probabilities
over 1-10 after its commentary. Printed (``name: value``):

* ``auc_parsed`` / ``auc_expected``: the probability that a right answer is rated above
  a wrong one (ROC AUC; 0.5 is chance, ties count half), over judged pairs;
* ``gap_parsed`` / ``gap_expected``: mean rating of right minus wrong answers;
* ``invalid_parsed`` / ``invalid_expected``: answers left without a rating;
* ``distinct_parsed`` / ``distinct_expected``: distinct ratings given (ties hide order);
* ``auc_expected_minus_parsed``: the difference, measured in this run;
* ``judge_s`` and ``expected_extra_s``: time to judge, and the extra time the
  expected ratings' scoring pass adds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

for _k, _v in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "CULTURALIGN_PROGRESS": "0",
}.items():
    os.environ.setdefault(_k, _v)


def _items(limit: int | None):
    from culturalign.datasets import load_any
    from culturalign.judge.core import JudgeItem
    from culturalign.paths import package_data

    _, questions = load_any(package_data("data", "sample", "care_questions.jsonl"))
    questions = [q for q in questions if q.text_en and q.reference_answer_en][:limit]
    items = []
    for i, q in enumerate(questions):
        other = questions[(i + 1) % len(questions)]
        for kind, answer in (("right", q.reference_answer_en), ("wrong", other.reference_answer_en)):
            items.append(
                JudgeItem(
                    item_id=q.id,
                    question=q.text_en,
                    reference=q.reference_answer_en,
                    response=answer,
                    category=q.category,
                    culture=q.culture,
                    model=kind,
                )
            )
    return items


def _stats(judgments) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    rated = [(j.model == "right", j.rating) for j in judgments if j.valid]
    labels, scores = [r for r, _ in rated], [s for _, s in rated]
    right = [s for r, s in rated if r]
    wrong = [s for r, s in rated if not r]
    auc = roc_auc_score(labels, scores) if right and wrong else float("nan")
    return {
        "auc": round(float(auc), 3),
        "gap": round(statistics.mean(right) - statistics.mean(wrong), 3) if right and wrong else float("nan"),
        "invalid": sum(1 for j in judgments if not j.valid),
        "distinct": len({round(s, 3) for s in scores}),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--judge", default="embedded")
    ap.add_argument("--limit", type=int, default=None, help="questions (two answers each)")
    ap.add_argument("--max-new-tokens", type=int, default=96, help="the judge's commentary (as the demo)")
    args = ap.parse_args()

    from culturalign.judge.core import JUDGE_PARAMS, JudgeConfig, judge_items
    from culturalign.lm.registry import load_lm

    items = _items(args.limit)
    params = JUDGE_PARAMS.model_copy(update={"max_new_tokens": args.max_new_tokens})
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "calls.sqlite"
        judge = load_lm(args.judge, cache=cache)
        t0 = time.perf_counter()
        parsed = judge_items(judge, items, config=JudgeConfig(params=params))
        t1 = time.perf_counter()
        expected = judge_items(judge, items, config=JudgeConfig(params=params, score="expected"))
        t2 = time.perf_counter()
    p, e = _stats(parsed), _stats(expected)
    print(f"judge: {args.judge}")
    print(f"answers: {len(items)}")
    for name, s in (("parsed", p), ("expected", e)):
        for k, v in s.items():
            print(f"{k}_{name}: {v}")
    print(f"auc_expected_minus_parsed: {e['auc'] - p['auc']:.3f}")
    print(f"judge_s: {t1 - t0:.1f}")
    print(f"expected_extra_s: {t2 - t1:.1f}")


if __name__ == "__main__":
    main()
