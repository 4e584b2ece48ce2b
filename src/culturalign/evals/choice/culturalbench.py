"""CulturalBench Easy and Hard (Chiu et al. 2024; paper 002 §4.1), scored from the model's
probabilities, or from its parsed reply when the backend shows none.

* **Easy**: four lettered options; the most probable letter is the answer; accuracy over
  questions.
* **Hard**: every option becomes its own true/false question ("is this a correct answer
  to the question?"); an option is judged true when P(True) > P(False) after the answer
  prefix. A question counts as right only if all of its options are judged right, so a
  question with two true options needs both accepted and the others rejected (the
  benchmark's question-level accuracy; ``option_accuracy`` is the per-judgement rate
  that lm-evaluation-harness's ``cultural_bench_hard`` reports).

Every question asked ends in one of three outcomes:

* *answered*: an option (or a true/false) was read, so it is right or wrong;
* *invalid*: the model replied but no option could be read from the reply (the
  generate-and-parse path): the question counts as **wrong** and as ``invalid``. For
  Hard, one unreadable judgement makes the whole question wrong;
* *error*: the call failed (an HTTP error, a timeout, an empty reply), so nothing was
  learnt about the model: the question is counted in ``errors`` and left out of the
  denominator; a rerun asks only for those, the rest come from the call cache. For
  Hard, one failed judgement makes the whole question an error.

So accuracy = correct / (questions - errors), with a Wilson 95% interval
(``culturalign.uncertainty.proportion_interval``) and its n, overall and per country,
for each variant present in the items (a folder with both files runs both).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError
from culturalign.evals.choice.prompts import ChoicePrompts, letters_for, option_block
from culturalign.evals.choice.run import ChoiceRun, method_notes
from culturalign.evals.choice.scoring import OptionScores, score_labels
from culturalign.lm.cached import LM
from culturalign.records import ChoiceItem
from culturalign.records.truefalse import TrueFalseItem
from culturalign.sampling import limit_fields, sample_limit
from culturalign.uncertainty import proportion_interval

TRUE_FALSE = (" True", " False")
ANSWERED, INVALID, ERROR = "answered", "invalid", "error"


def hard_question_correct(judged_true: Sequence[bool | None], truths: Sequence[bool]) -> bool:
    """Right only when every option's true/false judgement matches its truth; an option
    whose judgement could not be read (None) makes the question wrong."""
    if len(judged_true) != len(truths):
        raise ValueError("one judgement per option")
    return all(j is not None and j == t for j, t in zip(judged_true, truths, strict=True))


def outcome(scores: OptionScores) -> str:
    """``answered`` when an option was read; ``invalid`` when the model replied but no
    option could be read from its reply; ``error`` when the call gave nothing to read."""
    if scores.choice is not None:
        return ANSWERED
    if scores.raw_text is not None and scores.raw_text.strip():
        return INVALID
    return ERROR


def _hard_outcome(outcomes: Sequence[str]) -> str:
    if ERROR in outcomes:
        return ERROR
    return INVALID if INVALID in outcomes else ANSWERED


def accuracy_block(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy of ``records`` (each with ``outcome`` and ``correct``) over the questions
    that did not fail, with its interval and the counts behind it."""
    scored = [r for r in records if r["outcome"] != ERROR]
    correct = sum(1 for r in scored if r["correct"])
    block = proportion_interval(correct, len(scored))
    block.update(
        correct=correct,
        invalid=sum(1 for r in scored if r["outcome"] == INVALID),
        errors=len(records) - len(scored),
    )
    return block


def _by_country(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault(r.get("country") or "unknown", []).append(r)
    out = {}
    for country, rs in sorted(groups.items()):
        block = accuracy_block(rs)
        block.pop("stderr_kind")  # said once, beside the overall accuracy
        out[country] = block
    return out


def summarise_variant(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Question accuracy overall and per country; for Hard also the per-option rate."""
    out: dict[str, Any] = {"questions": len(records), **accuracy_block(records)}
    out["per_country"] = _by_country(records)
    judgements = [ok for r in records if r["outcome"] != ERROR for ok in r.get("option_correct") or []]
    if judgements:
        option = proportion_interval(sum(judgements), len(judgements))
        out["option_accuracy"] = option["accuracy"]
        out["options"] = len(judgements)
        out["option_interval"] = {k: option[k] for k in ("ci_low", "ci_high", "stderr", "n")}
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
            "outcome": outcome(s),
            # an unreadable reply is a wrong answer; a failed call is no answer at all
            "correct": None if outcome(s) == ERROR else s.choice == q.answer,
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
        result = _hard_outcome([outcome(s) for s in judgements])
        scored = result != ERROR
        rec = {
            "id": q.id,
            "variant": "hard",
            "country": q.culture,
            "question": q.question,
            "options": q.options,
            "truths": q.truths,
            "p_true": [None if s.probs is None else s.probs[0] for s in judgements],
            "judged_true": judged,
            "option_correct": [j is not None and j == t for j, t in zip(judged, q.truths, strict=True)]
            if scored
            else None,
            "methods": sorted({s.method for s in judgements}),
            "outcome": result,
            "correct": hard_question_correct(judged, q.truths) if scored else None,
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
    limit_order: str = "stratified",
    robustness: int = 0,
) -> dict[str, Any]:
    """Accuracy on CulturalBench-Easy and/or -Hard items (``limit`` applies to each): an
    unreadable answer counts as wrong, a failed call is left out and counted (see the
    module docstring); every accuracy carries its 95% interval and n. ``robustness`` K
    > 0 also scores Easy under K option orders × three wordings (``evals.robustness``);
    Hard asks about one option at a time, so it has no option order to vary."""
    if robustness < 0:
        raise ConfigError(f"--robustness must be 0 or more, not {robustness}")
    easy = [i for i in items if isinstance(i, ChoiceItem) and i.answer is not None]
    hard = [i for i in items if isinstance(i, TrueFalseItem)]
    # by country unless limit_order="file"
    easy, hard = sample_limit(easy, limit, order=limit_order), sample_limit(hard, limit, order=limit_order)
    prompts = ChoicePrompts(template_dir, chat)
    run = ChoiceRun(
        out_dir,
        "eval-culturalbench",
        lm,
        {
            "easy": len(easy),
            "hard": len(hard),
            "chat": chat,
            **limit_fields(limit, limit_order),
            **({"robustness": robustness} if robustness else {}),
        },
    )
    run.add_data(data_path)
    try:
        easy_recs = _easy(lm, easy, prompts, run) if easy else []
        hard_recs = _hard(lm, hard, prompts, run) if hard else []
        summary: dict[str, Any] = {"benchmark": "culturalbench"}
        if easy_recs:
            summary["easy"] = summarise_variant(easy_recs)
        if hard_recs:
            summary["hard"] = summarise_variant(hard_recs)
        robust_notes = _robustness(lm, prompts, easy, robustness, summary, out_dir) if robustness else []
    except BaseException:
        run.abort()
        raise
    methods: dict[str, int] = {}
    for r in easy_recs:
        methods[r["method"]] = methods.get(r["method"], 0) + 1
    for r in hard_recs:
        for m in r["methods"]:
            methods[m] = methods.get(m, 0) + 1
    summary["methods"] = methods
    headers, rows = _table(summary)
    title = "CulturalBench: " + ", ".join(
        f"{v} accuracy {100 * summary[v]['accuracy']:.2f}{_ci_text(summary[v], 100)} (n={summary[v]['n']})"
        for v in ("easy", "hard")
        if v in summary and summary[v]["accuracy"] is not None
    )
    notes = method_notes(methods) + outcome_notes(summary) + robust_notes
    if "robustness" in summary:
        from culturalign.evals.robustness import stability_text

        title += f"; Easy {stability_text(summary['robustness'])} under option order and wording"
    return run.finish(summary, headers, rows, prompts=prompts.shas, notes=notes, title=title)


def _robustness(
    lm: LM,
    prompts: ChoicePrompts,
    easy: list[ChoiceItem],
    k: int,
    summary: dict[str, Any],
    out_dir: str | Path,
) -> list[str]:
    """Easy under K option orders × the MCQ wordings; its block goes in the summary."""
    from culturalign.evals.robustness import headline_note, write_outputs
    from culturalign.evals.robustness.benchmarks import mcq_robustness

    notes = []
    if "hard" in summary:
        notes.append("Robustness: CulturalBench-Hard judges one option at a time; only Easy was varied.")
    if not easy:
        return notes
    rb, records = mcq_robustness(
        lm,
        prompts,
        easy,
        k,
        interval=summary["easy"],
        what="CulturalBench-Easy accuracy",
        desc="robustness: CulturalBench-Easy",
    )
    write_outputs(out_dir, records, {"CulturalBench-Easy accuracy": rb})
    summary["robustness"] = rb
    return [*notes, headline_note("Easy accuracy", rb), *rb["flags"]]


def outcome_notes(summary: dict[str, Any]) -> list[str]:
    """Say how many questions were counted wrong for an unreadable reply, and how many
    failed and were left out, so an accuracy is never read without them."""
    notes = []
    for variant in ("easy", "hard"):
        block = summary.get(variant)
        if not block:
            continue
        name = f"CulturalBench-{variant.capitalize()}"
        if block["invalid"]:
            notes.append(
                f"{name}: {block['invalid']} of {block['n']} questions got a reply from which no answer "
                "could be read; they count as wrong."
            )
        if block["errors"]:
            notes.append(
                f"{name}: {block['errors']} of {block['questions']} questions failed (no reply) and are "
                "left out of the accuracy; run again to ask only for them."
            )
    return notes


def _ci_text(block: dict[str, Any], scale: float = 1.0) -> str:
    if block.get("ci_low") is None:
        return ""
    digits = 2 if scale == 100 else 4
    return f" [{scale * block['ci_low']:.{digits}f}, {scale * block['ci_high']:.{digits}f}]"


def _table(summary: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    easy, hard = summary.get("easy") or {}, summary.get("hard") or {}
    countries = sorted(set(easy.get("per_country", {})) | set(hard.get("per_country", {})))
    headers = ["country"]
    for v in ("easy", "hard"):
        headers += [f"{v} accuracy", f"{v} 95% CI", f"{v} n", f"{v} invalid", f"{v} errors"]

    def cells(block: dict[str, Any] | None) -> list[Any]:
        block = block or {}
        ci = _ci_text(block).strip() or None
        return [block.get("accuracy"), ci, block.get("n"), block.get("invalid"), block.get("errors")]

    rows = [
        [c, *cells(easy.get("per_country", {}).get(c)), *cells(hard.get("per_country", {}).get(c))]
        for c in countries
    ]
    rows.append(["all", *cells(easy), *cells(hard)])
    return headers, rows
