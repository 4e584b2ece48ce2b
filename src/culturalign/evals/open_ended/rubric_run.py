"""One run of a rubric-judged, open-ended benchmark: the model answers each prompt
(cached), the rubric judge rates each answer on the rubric's scale (cached), and the
run directory gets what a reader opens:

    answers.jsonl    one ModelResponse per prompt, failures kept with their error
    judgments.jsonl  one Judgment per answer (rating or why there is none, every attempt)
    summary.json     RubricSummary: mean per culture and overall, n and 95% intervals
    table.md         the same as a table
    run.json         RunLog: model identities, data fingerprints, prompt shas, call counts

CultureBank quality (002 Table 5) and PRISM cultural awareness (002 Table 6) are both
this shape; they differ in where the prompts come from and what the rubric reads.
Answers are written before any judging, so a run stopped by a judge failure keeps
every answer it paid for (and the call cache answers them again on a rerun).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from culturalign.judge.core import JudgeConfig, JudgeItem, judge_items
from culturalign.judge.rubric import Rubric, RubricSet
from culturalign.judge.summary import RubricSummary, judge_notes, summarize_rubric, write_rubric_outputs
from culturalign.lm.cached import LM
from culturalign.records.generation import ChatMessage, GenerationParams, ModelResponse
from culturalign.runlog import RunLog

#: answers are greedy so a rerun gives the same numbers; 512 new tokens as in grounded
ANSWER_PARAMS = GenerationParams(temperature=0, max_new_tokens=512)


@dataclass(frozen=True)
class RubricTask:
    """One prompt for the model, and what the rubric needs besides the answer."""

    item_id: str
    question: str
    messages: Sequence[ChatMessage]
    culture: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


def with_system(system_prompt: str | None, messages: list[ChatMessage]) -> list[ChatMessage]:
    """``messages`` after a system message (a role-play prompt, say), when one is given."""
    if not system_prompt:
        return messages
    return [ChatMessage(role="system", content=system_prompt), *messages]


def run_rubric_eval(
    model_lm: LM,
    judge_lm: LM,
    tasks: Sequence[RubricTask],
    out_dir: str | Path,
    *,
    benchmark: str,
    kind: str,
    rubric: Rubric,
    params: GenerationParams | None = None,
    judge: JudgeConfig | None = None,
    label: str | None = None,
    data_paths: Sequence[str | Path] = (),
    prompts: Mapping[str, str] | None = None,
    config: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    notes: Sequence[str] = (),
) -> RubricSummary:
    """Answer, judge and tabulate ``tasks``; returns the summary written to ``summary.json``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    params = params or ANSWER_PARAMS
    judge = judge or JudgeConfig()
    log = RunLog(
        kind=kind,
        config={
            "items": len(tasks),
            "rubric": rubric.name,
            "rubric_source": rubric.source,
            "scale": list(rubric.scale),
            "params": params.model_dump(mode="json"),
            "judge_params": judge.params.model_dump(mode="json"),
            **judge.log_fields(),
            **dict(config or {}),
        },
        prompts={f"judge/{rubric.name}": rubric.sha, **dict(prompts or {})},
    )
    log.add_model("model", model_lm)
    log.add_model("judge", judge_lm)
    for p in data_paths:
        log.add_data(p)

    completions = model_lm.generate([list(t.messages) for t in tasks], params, desc=f"{benchmark} answers")
    answers = [
        ModelResponse(
            item_id=t.item_id,
            model=model_lm.spec,
            messages=list(t.messages),
            question=t.question,
            culture=t.culture,
            text=c[0].text if c[0].ok else None,
            error=None if c[0].ok else (c[0].error or "no text"),
        )
        for t, c in zip(tasks, completions, strict=True)
    ]
    from culturalign.io import write_records

    write_records(out / "answers.jsonl", answers)

    items = [
        JudgeItem(
            item_id=t.item_id,
            question=t.question,
            reference=None,
            response=a.text,
            response_error=a.error,
            culture=t.culture,
            model=model_lm.spec,
            extra=dict(t.extra),
        )
        for t, a in zip(tasks, answers, strict=True)
    ]
    judgments = judge_items(judge_lm, items, RubricSet.single(rubric), judge)
    all_notes = judge_notes(judge_lm.spec, judgments, rubric.scale, notes)
    summary = summarize_rubric(
        judgments,
        rubric,
        benchmark=benchmark,
        label=label or out.name,
        model=model_lm.spec,
        judge=judge_lm.spec,
        judge_samples=judge.samples,
        judge_retries=judge.retries,
        extra=dict(extra or {}),
        notes=all_notes,
    )
    write_rubric_outputs(out, judgments, summary)
    log.notes.extend(summary.notes)
    log.finish(out, {"model": model_lm} if model_lm is judge_lm else {"model": model_lm, "judge": judge_lm})
    return summary
