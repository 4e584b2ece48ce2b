"""CulturalBench Easy and Hard (paper 002 §4.1), scored from the model's probabilities.

* **Easy**: four lettered options; the most probable letter is the answer; accuracy.
* **Hard**: every option becomes its own true/false question ("is this a correct answer
  to the question?"); an option is judged true when P(True) > P(False) after the answer
  prefix. A question counts as right only if all of its options are judged right, so a
  question with two true options needs both accepted and the others rejected.

Accuracy overall and per country, for each variant present in the items (a folder with
both files runs both).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from culturalign.evals.choice_prompts import ChoicePrompts, letters_for, option_block
from culturalign.evals.choice_run import ChoiceRun, method_notes
from culturalign.evals.choice_scoring import score_labels
from culturalign.evals.metrics import accuracy
from culturalign.lm.cached import LM
from culturalign.records import ChoiceItem
from culturalign.records.truefalse import TrueFalseItem

TRUE_FALSE = (" True", " False")


def hard_question_correct(judged_true: Sequence[bool | None], truths: Sequence[bool]) -> bool:
    """Right only when every option's true/false judgement matches (a missing judgement
    counts as wrong)."""
    if len(judged_true) != len(truths):
        raise ValueError("one judgement per option")
    return all(j is not None and j == t for j, t in zip(judged_true, truths, strict=True))


def _by_country(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[bool]] = {}
    for r in records:
        if r.get("correct") is not None:
            groups.setdefault(r.get("country") or "unknown", []).append(r["correct"])
    return {c: {"accuracy": accuracy(v), "n": len(v)} for c, v in sorted(groups.items())}


def summarise_variant(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    scored = [r for r in records if r.get("correct") is not None]
    out: dict[str, Any] = {
        "questions": len(scored),
        "failed": len(records) - len(scored),
        "accuracy": accuracy(r["correct"] for r in scored),
        "per_country": _by_country(records),
    }
    judgements = [ok for r in scored for ok in r.get("option_correct") or []]
    if judgements:
        out["option_accuracy"] = accuracy(judgements)
        out["options"] = len(judgements)
    return out


def _easy(lm: LM, items: list[ChoiceItem], prompts: ChoicePrompts, run: ChoiceRun) -> list[dict[str, Any]]:
    scored = score_labels(
        lm,
        [prompts.prompt("mcq", question=q.question, options=option_block(q.options)) for q in items],
        [letters_for(len(q.options)) for q in items],
        prefix=prompts.prefix(),
        desc="CulturalBench-Easy",
    )
    out = []
    for q, s in zip(items, scored, strict=True):
        rec = {
            "id": q.id,
            "variant": "easy",
            "country": q.culture,
            "question": q.question,
            "options": q.options,
            "answer": q.answer,
            **s.as_record(),
            "correct": None if s.choice is None else s.choice == q.answer,
        }
        run.write_item(rec)
        out.append(rec)
    return out


def _hard(lm: LM, items: list[TrueFalseItem], prompts: ChoicePrompts, run: ChoiceRun) -> list[dict[str, Any]]:
    units = [(q, k) for q in items for k in range(len(q.options))]
    scored = score_labels(
        lm,
        [prompts.prompt("truefalse", question=q.question, option=q.options[k]) for q, k in units],
        [list(TRUE_FALSE)] * len(units),
        prefix=prompts.prefix("truefalse_prefix"),
        desc="CulturalBench-Hard (one judgement per option)",
    )
    per_item: dict[str, list] = {q.id: [None] * len(q.options) for q in items}
    for (q, k), s in zip(units, scored, strict=True):
        per_item[q.id][k] = s
    out = []
    for q in items:
        judgements = per_item[q.id]
        judged = [None if s.choice is None else s.choice == 0 for s in judgements]
        failed = any(j is None for j in judged)
        rec = {
            "id": q.id,
            "variant": "hard",
            "country": q.culture,
            "question": q.question,
            "options": q.options,
            "truths": q.truths,
            "p_true": [None if s.probs is None else s.probs[0] for s in judgements],
            "judged_true": judged,
            "option_correct": None if failed else [j == t for j, t in zip(judged, q.truths, strict=True)],
            "methods": sorted({s.method for s in judgements}),
            "correct": None if failed else hard_question_correct(judged, q.truths),
        }
        errors = [s.error for s in judgements if s.error]
        if errors:
            rec["error"] = errors[0]
        run.write_item(rec)
        out.append(rec)
    return out


def run_culturalbench(
    lm: LM,
    items: Sequence[Any],
    out_dir: str | Path,
    *,
    chat: bool = True,
    template_dir: str | Path | None = None,
    limit: int | None = None,
    data_path: str | Path | None = None,
) -> dict[str, Any]:
    """Accuracy on CulturalBench-Easy and/or -Hard items (``limit`` applies to each)."""
    easy = [i for i in items if isinstance(i, ChoiceItem) and i.answer is not None]
    hard = [i for i in items if isinstance(i, TrueFalseItem)]
    if limit is not None:
        easy, hard = easy[:limit], hard[:limit]
    prompts = ChoicePrompts(template_dir, chat)
    run = ChoiceRun(
        out_dir,
        "eval-culturalbench",
        lm,
        {"easy": len(easy), "hard": len(hard), "chat": chat, "limit": limit},
    )
    run.add_data(data_path)
    try:
        easy_recs = _easy(lm, easy, prompts, run) if easy else []
        hard_recs = _hard(lm, hard, prompts, run) if hard else []
    except BaseException:
        run.abort()
        raise
    summary: dict[str, Any] = {"benchmark": "culturalbench"}
    if easy_recs:
        summary["easy"] = summarise_variant(easy_recs)
    if hard_recs:
        summary["hard"] = summarise_variant(hard_recs)
    methods: dict[str, int] = {}
    for r in easy_recs:
        methods[r["method"]] = methods.get(r["method"], 0) + 1
    for r in hard_recs:
        for m in r["methods"]:
            methods[m] = methods.get(m, 0) + 1
    summary["methods"] = methods
    headers, rows = _table(summary)
    title = "CulturalBench: " + ", ".join(
        f"{v} accuracy {100 * summary[v]['accuracy']:.2f}"
        for v in ("easy", "hard")
        if v in summary and summary[v]["accuracy"] is not None
    )
    return run.finish(summary, headers, rows, prompts=prompts.shas, notes=method_notes(methods), title=title)


def _table(summary: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    easy, hard = summary.get("easy") or {}, summary.get("hard") or {}
    countries = sorted(set(easy.get("per_country", {})) | set(hard.get("per_country", {})))
    headers = ["country", "easy accuracy", "easy n", "hard accuracy", "hard n"]

    def cell(block: dict[str, Any], country: str, key: str) -> Any:
        return (block.get("per_country", {}).get(country) or {}).get(key)

    rows = [
        [c, cell(easy, c, "accuracy"), cell(easy, c, "n"), cell(hard, c, "accuracy"), cell(hard, c, "n")]
        for c in countries
    ]
    rows.append(
        ["all", easy.get("accuracy"), easy.get("questions"), hard.get("accuracy"), hard.get("questions")]
    )
    return headers, rows
