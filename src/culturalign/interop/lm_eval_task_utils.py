"""The ``utils.py`` that ``culturalign export lm-eval`` copies next to its task YAML.

lm-evaluation-harness loads this file by path (``!function utils.NAME`` in the YAML), in
a process where culturalign may not be installed, so it uses the standard library only
(``datasets`` comes with lm-eval). Its numbers follow culturalign's evaluators:

* ``process_opinion``: the option letters' log-likelihoods, renormalised over the
  options (a softmax, as culturalign's letter scoring does), against the country's
  survey shares: 1 − Jensen–Shannon distance, base 2 (or 1 − the divergence, when the
  export asked for paper 003's measure);
* ``process_truefalse`` + ``question_accuracy``: CulturalBench-Hard, where each option is
  judged alone; ``acc`` is the per-judgement rate, ``question_acc`` needs every option of
  a question judged right;
* ``process_nli`` + ``macro_f1`` / ``entailment_f1``: CALI, F1 over E/N/C with an unseen
  label scoring 0, as sklearn's ``zero_division=0`` does in culturalign.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NLI_LABELS = ("E", "N", "C")


def load_docs(data_file: str, **_: Any) -> Any:
    """``custom_dataset``: the task's JSONL, found beside this file so the folder can move."""
    import datasets

    path = HERE / data_file
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})


def _lls(results: Sequence[Any]) -> list[float]:
    """lm-eval hands multiple-choice results as ``(loglikelihood, is_greedy)`` pairs."""
    return [float(r[0]) if isinstance(r, list | tuple) else float(r) for r in results]


def renormalise(logprobs: Sequence[float]) -> list[float]:
    top = max(logprobs)
    weights = [math.exp(v - top) for v in logprobs]
    total = sum(weights)
    return [w / total for w in weights]


def _distribution(values: Sequence[float]) -> list[float]:
    clean = [max(0.0, float(v)) for v in values]
    total = sum(clean)
    if total <= 0:
        raise ValueError("a distribution with no mass")
    return [v / total for v in clean]


def js_divergence(p: Sequence[float], q: Sequence[float]) -> float:
    """½KL(p‖m) + ½KL(q‖m), m the midpoint, in bits; terms with zero mass add nothing."""
    if len(p) != len(q):
        raise ValueError(f"distributions differ in length ({len(p)} vs {len(q)})")
    p, q = _distribution(p), _distribution(q)
    total = 0.0
    for a, b in zip(p, q, strict=True):
        m = (a + b) / 2
        if a > 0:
            total += 0.5 * a * math.log2(a / m)
        if b > 0:
            total += 0.5 * b * math.log2(b / m)
    return min(1.0, max(0.0, total))


def opinion_similarity(p: Sequence[float], q: Sequence[float], measure: str = "distance") -> float:
    divergence = js_divergence(p, q)
    if measure == "divergence":
        return 1.0 - divergence
    return min(1.0, max(0.0, 1.0 - math.sqrt(divergence)))


def process_opinion(doc: dict[str, Any], results: Sequence[Any]) -> dict[str, float]:
    probs = renormalise(_lls(results))
    return {"similarity": opinion_similarity(probs, doc["target"], doc.get("measure") or "distance")}


def _argmax(values: Sequence[float]) -> int:
    return max(range(len(values)), key=lambda k: values[k])


def process_truefalse(doc: dict[str, Any], results: Sequence[Any]) -> dict[str, Any]:
    right = _argmax(_lls(results)) == int(doc["gold"])
    return {"acc": float(right), "question_acc": (doc["question_id"], right)}


def question_accuracy(items: Iterable[tuple[str, bool]]) -> float:
    """A question is right only when every one of its options was judged right."""
    by_question: dict[str, bool] = {}
    for qid, right in items:
        by_question[qid] = by_question.get(qid, True) and bool(right)
    return sum(by_question.values()) / len(by_question) if by_question else 0.0


def process_nli(doc: dict[str, Any], results: Sequence[Any]) -> dict[str, Any]:
    pred = NLI_LABELS[_argmax(_lls(results))]
    gold = NLI_LABELS[int(doc["gold"])]
    return {"acc": float(pred == gold), "macro_f1": (gold, pred), "entailment_f1": (gold, pred)}


def _f1(pairs: Sequence[tuple[str, str]], label: str) -> float:
    tp = sum(1 for g, p in pairs if g == label and p == label)
    fp = sum(1 for g, p in pairs if g != label and p == label)
    fn = sum(1 for g, p in pairs if g == label and p != label)
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def macro_f1(items: Iterable[tuple[str, str]]) -> float:
    pairs = list(items)
    return sum(_f1(pairs, lab) for lab in NLI_LABELS) / len(NLI_LABELS)


def entailment_f1(items: Iterable[tuple[str, str]]) -> float:
    return _f1(list(items), "E")
