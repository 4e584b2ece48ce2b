"""CultureBank answer quality (paper 002 §4.1, Table 5): the model answers each
CultureBank question, a judge rates the answer 1-5 for quality, and the table reports
the mean per cultural group.

The questions are the ones ``eval grounded`` reads: a CultureBank file with its own
``eval_question`` column (the published benchmark; 002 uses its 10% test split, 1,176
questions) or ``synth grounded`` output. The judge reads the question, the knowledge it
was written from and the answer (rubric ``culturebank_quality``; any 1-5 rubric file
with the same placeholders can replace it). CAReDiO's judge was GPT-4o; a local judge
gives numbers of a different scale of reliability, and every output says so.

``run_grounded_criteria`` rates the same answers on paper 003's three human criteria
(§6.2: usefulness, cultural awareness, coherence, each 1-5), one rubric each; the
answers are generated once (the call cache answers the second and third rubric).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from culturalign.evals.open_ended.grounded import answer_messages
from culturalign.evals.open_ended.rubric_run import RubricTask, run_rubric_eval, with_system
from culturalign.io import atomic_write_text, write_json
from culturalign.judge.core import JudgeConfig
from culturalign.judge.rubric import GROUNDED_RUBRICS, load_rubric
from culturalign.judge.summary import RubricSummary
from culturalign.lm.cached import LM
from culturalign.records.generation import GenerationParams
from culturalign.records.knowledge import GroundedQuestion
from culturalign.sampling import limit_fields, sample_limit

BENCHMARK = "CultureBank quality"
RUBRIC = "culturebank_quality"


def culturebank_tasks(
    questions: Sequence[GroundedQuestion],
    *,
    system_prompt: str | None = None,
    template_dir: str | Path | None = None,
) -> list[RubricTask]:
    """One task per question: its plain answer prompt; the knowledge goes to the judge."""
    return [
        RubricTask(
            item_id=q.id,
            question=q.question,
            messages=with_system(system_prompt, answer_messages(q, False, template_dir)),
            culture=q.cultural_group,
            extra={"knowledge": q.knowledge, "persona": q.persona, "scenario": q.scenario},
        )
        for q in questions
    ]


def run_culturebank_quality(
    model_lm: LM,
    judge_lm: LM,
    questions: Sequence[GroundedQuestion],
    out_dir: str | Path,
    *,
    rubric: str | Path = RUBRIC,
    params: GenerationParams | None = None,
    judge: JudgeConfig | None = None,
    limit: int | None = None,
    limit_order: str = "stratified",
    system_prompt: str | None = None,
    template_dir: str | Path | None = None,
    data_path: str | Path | None = None,
    label: str | None = None,
    benchmark: str = BENCHMARK,
) -> RubricSummary:
    """Answer (cached), judge 1-5 (cached) and tabulate one model per cultural group.

    ``limit`` draws a sample stratified by cultural group (``limit_order='file'`` takes
    the first ones); ``system_prompt`` is put before every question (a role-play
    baseline, for instance). Returns the summary also written to ``summary.json``."""
    from culturalign.synth import grounded_prompts as gp

    chosen = sample_limit(questions, limit, order=limit_order)
    left_out = tuple(getattr(questions, "left_out_ids", ()))
    judged_rubric = load_rubric(rubric)
    notes = []
    if left_out:
        notes.append(
            f"{len(left_out)} knowledge item(s) were left out on loading: most of their sources "
            "disagree with them and they could not be negated reliably"
        )
    return run_rubric_eval(
        model_lm,
        judge_lm,
        culturebank_tasks(chosen, system_prompt=system_prompt, template_dir=template_dir),
        out_dir,
        benchmark=benchmark,
        kind="eval-culturebank-quality",
        rubric=judged_rubric,
        params=params,
        judge=judge,
        label=label,
        data_paths=[data_path] if data_path else [],
        prompts=gp.prompt_hashes(template_dir, ("answer",)),
        config={
            **limit_fields(limit, limit_order),
            "system_prompt": system_prompt,
            "template_dir": str(template_dir) if template_dir else None,
        },
        extra={"questions": len(questions), "knowledge_left_out": len(left_out)},
        notes=notes,
    )


def run_grounded_criteria(
    model_lm: LM,
    judge_lm: LM,
    questions: Sequence[GroundedQuestion],
    out_dir: str | Path,
    **options: object,
) -> dict[str, RubricSummary]:
    """Paper 003's three criteria, one run directory each under ``out_dir``, and
    ``criteria.md`` / ``criteria.json`` beside them: one row per criterion (mean, 95%
    interval, n) and one column per cultural group."""
    out = Path(out_dir)
    results = {
        name: run_culturebank_quality(
            model_lm,
            judge_lm,
            questions,
            out / name,
            rubric=name,
            benchmark=f"Grounded {name.removeprefix('grounded_')}",
            **options,  # type: ignore[arg-type]
        )
        for name in GROUNDED_RUBRICS
    }
    cultures = sorted({c for s in results.values() for c in s.cultures})
    lines = [
        "| criterion (1-5) | mean | 95% CI | n | " + " | ".join(cultures) + " |",
        "| --- | ---: | :---: | ---: |" + " ---: |" * len(cultures),
    ]
    for name, s in results.items():
        o = s.overall
        ci = "–" if o["ci_low"] is None else f"[{o['ci_low']:.2f}, {o['ci_high']:.2f}]"
        mean = "–" if o["mean"] is None else f"{o['mean']:.3f}"
        per = [
            "–" if s.cultures.get(c, {}).get("mean") is None else f"{s.cultures[c]['mean']:.3f}"
            for c in cultures
        ]
        lines.append(
            f"| {name.removeprefix('grounded_')} | {mean} | {ci} | {o['n']} | " + " | ".join(per) + " |"
        )
    atomic_write_text(out / "criteria.md", "\n".join(lines) + "\n")
    write_json(out / "criteria.json", {n: s.model_dump(mode="json") for n, s in results.items()})
    return results
