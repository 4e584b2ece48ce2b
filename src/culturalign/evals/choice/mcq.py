"""Generic multiple choice: INCLUDE, MMLU-style tables and our own ``ChoiceItem`` JSONL.

Two ways to read the model's answer:

* ``letters`` (default): options listed with letters, the next-token probability of
  each letter after the answer prefix; one forward pass per question. Reports accuracy.
* ``text``: each option's full text scored as the continuation of ``Question: ...
  Answer:`` (lm-evaluation-harness's multiple-choice scoring; the prompt is encoded once
  and every option is scored from its cached prefix). Reports accuracy (highest summed
  log-probability) and length-normalised accuracy (highest log-probability per
  character of the option, lm-eval's ``acc_norm``).

Breakdowns by culture (country), language and topic when the items carry them. Every
accuracy carries its Wilson 95% interval and binomial standard error
(``culturalign.uncertainty.proportion_interval``; lm-evaluation-harness reports
``acc_stderr`` the same way, with n - 1 in the denominator).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError
from culturalign.evals.choice.prompts import ChoicePrompts, letters_for, option_block
from culturalign.evals.choice.run import (
    INTERVAL_HEADERS,
    INTERVAL_NOTE,
    ChoiceRun,
    interval_cells,
    interval_fields,
    method_notes,
)
from culturalign.evals.choice.scoring import score_labels, score_texts
from culturalign.evals.metrics import accuracy
from culturalign.lm.cached import LM
from culturalign.records import ChoiceItem
from culturalign.sampling import limit_fields, sample_limit
from culturalign.uncertainty import proportion_interval

MODES = ("letters", "text")


def _breakdown(records: Sequence[dict[str, Any]], key: str, metric: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[bool]] = {}
    for r in records:
        if r.get(metric) is not None and r.get(key):
            groups.setdefault(r[key], []).append(r[metric])
    return {g: accuracy_block(v) for g, v in sorted(groups.items())}


def accuracy_block(flags: Sequence[bool]) -> dict[str, Any]:
    """``{accuracy, n, stderr, ci_low, ci_high, too_small}`` of correct/incorrect flags."""
    stats = proportion_interval(sum(1 for f in flags if f), len(flags))
    return {"accuracy": accuracy(flags), **interval_fields(stats)}


def summarise_mcq(records: Sequence[dict[str, Any]], mode: str) -> dict[str, Any]:
    scored = [r for r in records if r.get("correct") is not None]
    out: dict[str, Any] = {
        "mode": mode,
        "questions": len(scored),
        "failed": len(records) - len(scored),
        "accuracy": accuracy(r["correct"] for r in scored),
        "accuracy_interval": interval_fields(
            proportion_interval(sum(1 for r in scored if r["correct"]), len(scored))
        ),
    }
    if mode == "text":
        out["accuracy_norm"] = accuracy(r["correct_norm"] for r in scored)
        out["accuracy_norm_interval"] = interval_fields(
            proportion_interval(sum(1 for r in scored if r["correct_norm"]), len(scored))
        )
    for key, name in (("culture", "per_culture"), ("language", "per_language"), ("topic", "per_topic")):
        block = _breakdown(scored, key, "correct")
        if block:
            out[name] = block
    return out


def run_mcq(
    lm: LM,
    items: Sequence[Any],
    out_dir: str | Path,
    *,
    mode: str = "letters",
    chat: bool = True,
    template_dir: str | Path | None = None,
    limit: int | None = None,
    data_path: str | Path | None = None,
    limit_order: str = "stratified",
    robustness: int = 0,
) -> dict[str, Any]:
    """Accuracy on multiple-choice items with a gold answer. ``robustness`` K > 0 also
    scores every question under K option orders × three wordings
    (``evals.robustness``); letters mode only, since option texts scored one by one have
    no order."""
    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    if robustness < 0:
        raise ConfigError(f"--robustness must be 0 or more, not {robustness}")
    if robustness and mode != "letters":
        raise ConfigError("--robustness varies the order of lettered options: use it with --mode letters")
    questions = [i for i in items if isinstance(i, ChoiceItem) and i.answer is not None]
    questions = sample_limit(questions, limit, order=limit_order)  # stratified unless limit_order="file"
    prompts = ChoicePrompts(template_dir, chat)
    run = ChoiceRun(
        out_dir,
        "eval-mcq",
        lm,
        {
            "questions": len(questions),
            "mode": mode,
            "chat": chat,
            **limit_fields(limit, limit_order),
            **({"robustness": robustness} if robustness else {}),
        },
    )
    run.add_data(data_path)
    try:
        if mode == "letters":
            scored = score_labels(
                lm,
                [
                    prompts.prompt("mcq", question=q.question, options=option_block(q.options))
                    for q in questions
                ],
                [letters_for(len(q.options)) for q in questions],
                prefix=prompts.prefix(),
                desc="multiple choice (letters)",
            )
        else:
            scored = score_texts(
                lm,
                [prompts.prompt("mcq_text", raw_suffix="", question=q.question) for q in questions],
                [q.options for q in questions],
                desc="multiple choice (option texts)",
            )
        records = []
        for q, s in zip(questions, scored, strict=True):
            rec: dict[str, Any] = {
                "id": q.id,
                "culture": q.culture,
                "language": q.language,
                "topic": q.topic,
                "source": q.source,
                "question": q.question,
                "options": q.options,
                "answer": q.answer,
                **s.as_record(),
                "correct": None if s.choice is None else s.choice == q.answer,
            }
            if mode == "text":
                rec["correct_norm"] = None if s.choice_norm is None else s.choice_norm == q.answer
            run.write_item(rec)
            records.append(rec)
        summary = summarise_mcq(records, mode)
        notes: list[str] = []
        if robustness:
            from culturalign.evals.robustness import headline_note, write_outputs
            from culturalign.evals.robustness.benchmarks import mcq_robustness

            rb, rb_records = mcq_robustness(
                lm, prompts, questions, robustness, interval=summary["accuracy_interval"]
            )
            write_outputs(out_dir, rb_records, {"accuracy": rb})
            summary["robustness"] = rb
            notes += [headline_note("accuracy", rb), *rb["flags"]]
    except BaseException:
        run.abort()
        raise
    methods: dict[str, int] = {}
    for r in records:
        methods[r["method"]] = methods.get(r["method"], 0) + 1
    summary.update(benchmark="mcq", methods=methods)
    headers = ["culture", "n", "accuracy", *INTERVAL_HEADERS]
    rows: list[list[Any]] = [
        [c, b["n"], b["accuracy"], *interval_cells(b)] for c, b in (summary.get("per_culture") or {}).items()
    ]
    rows.append(
        ["all", summary["questions"], summary["accuracy"], *interval_cells(summary["accuracy_interval"])]
    )
    if mode == "text":
        rows.append(
            [
                "all (length-normalised)",
                summary["questions"],
                summary["accuracy_norm"],
                *interval_cells(summary["accuracy_norm_interval"]),
            ]
        )
    return run.finish(
        summary,
        headers,
        rows,
        prompts=prompts.shas,
        notes=method_notes(methods) + notes,
        footnotes=[INTERVAL_NOTE],
        title=f"Multiple choice ({mode})" + _stability(summary),
    )


def _stability(summary: dict[str, Any]) -> str:
    rb = summary.get("robustness")
    if not rb:
        return ""
    from culturalign.evals.robustness import stability_text

    return f": {stability_text(rb)} under option order and wording"
