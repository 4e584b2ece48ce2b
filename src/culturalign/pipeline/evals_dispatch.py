"""One entry per evaluation kind: the function that runs it inside an experiment.

Adding an evaluation to experiment files is one entry here (and its name in
``checks.EvalKind``): ``run(ctx, spec, model, mode, lang, data, out)`` does the work with
the library function of that evaluation and returns a small dict for ``stages.json``;
``judged`` says whether the experiment's judge is part of what it measures (then the judge
spec is in the stage fingerprint).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from culturalign.pipeline.context import RunContext


def load_questions(path: Path, fmt: str | None) -> list:
    from culturalign.datasets import load_any
    from culturalign.records import CulturalQuestion

    _, records = load_any(path, fmt)
    return [r for r in records if isinstance(r, CulturalQuestion)]


def gen_params(ctx: RunContext, e: Any):
    """The experiment's decoding overrides under the evaluation's own (None: the defaults)."""
    from culturalign.records import GenerationParams

    merged = {**ctx.exp.generation, **e.generation}
    return GenerationParams(**merged) if merged else None


def judge_spec(ctx: RunContext, e: Any) -> str:
    return e.judge or ctx.exp.judge


def _care(ctx: RunContext, e: Any, model: str, mode: str, lang: str, data: Path, out: Path) -> dict:
    from culturalign.evals.care.judged import run_care_eval
    from culturalign.judge.core import JudgeConfig
    from culturalign.records import GenerationParams

    judge_params = None
    if e.judge_generation:
        base = JudgeConfig().params.model_dump()
        judge_params = GenerationParams(**{**base, **e.judge_generation})
    s = run_care_eval(
        ctx.lm(ctx.model_spec(model)),
        ctx.lm(judge_spec(ctx, e)),
        load_questions(data, e.data_format),
        out,
        mode=mode,
        lang=lang,
        params=gen_params(ctx, e),
        limit=e.limit,
        limit_order=e.limit_order,
        translate_with=ctx.lm(e.translate_with) if e.translate_with and lang == "en" else None,
        data_path=data,
        label=model,
        judge_params=judge_params,
        **e.options,
    )
    return {"items": s.counts.get("items"), "label": s.label}


def _care_choice(ctx: RunContext, e: Any, model: str, mode: str, lang: str, data: Path, out: Path) -> dict:
    from culturalign.evals.care.choice import run_care_choice
    from culturalign.sampling import sample_limit

    qs = sample_limit(load_questions(data, e.data_format), e.limit, order=e.limit_order)
    s = run_care_choice(ctx.lm(ctx.model_spec(model)), qs, out, lang=lang, data_path=data, **e.options)
    return {"label": model, "metrics": {"accuracy_norm": s["overall"]["accuracy"]}}


def _grounded(ctx: RunContext, e: Any, model: str, mode: str, lang: str, data: Path, out: Path) -> dict:
    from culturalign.evals.open_ended.grounded import load_grounded_questions, run_grounded_eval

    run_grounded_eval(
        ctx.lm(ctx.model_spec(model)),
        ctx.lm(judge_spec(ctx, e)),
        load_grounded_questions(data),
        out,
        limit=e.limit,
        limit_order=e.limit_order,
        data_path=data,
        label=model,
        params=gen_params(ctx, e),
        **e.options,
    )
    return {"label": model}


JUDGE_OPTIONS = ("judge_samples", "judge_retries", "judge_score")


def _judge_config(e: Any):
    """The rubric judge's settings: ``judge_generation`` over its defaults, and the
    ``judge_samples``/``judge_retries``/``judge_score`` options as on the command line."""
    from culturalign.judge.core import JUDGE_PARAMS, JudgeConfig

    o = e.options
    params = JUDGE_PARAMS.model_copy(update=dict(e.judge_generation)) if e.judge_generation else None
    return JudgeConfig.build(
        o.get("judge_samples", 1), o.get("judge_retries", 2), params, o.get("judge_score", "parsed")
    )


def _rest(e: Any, *taken: str) -> dict[str, Any]:
    """The options left for the evaluation function once the judge's are taken."""
    return {k: v for k, v in e.options.items() if k not in (*JUDGE_OPTIONS, *taken)}


def _rubric_metrics(s: Any, model: str) -> dict:
    per = {c: v["mean"] for c, v in s.cultures.items() if v.get("mean") is not None}
    return {"label": model, "items": s.counts.get("items"), "metrics": {"mean": s.overall["mean"], **per}}


def _culturebank_quality(
    ctx: RunContext, e: Any, model: str, mode: str, lang: str, data: Path, out: Path
) -> dict:
    """``options: {rubric: grounded}`` rates each answer on paper 003's three 1-5 criteria
    (usefulness, cultural awareness, coherence), one run folder per criterion, as
    ``eval culturebank-quality --rubric grounded`` does; any other rubric is one run."""
    from culturalign.evals.open_ended.culturebank_quality import (
        run_culturebank_quality,
        run_grounded_criteria,
    )
    from culturalign.evals.open_ended.grounded import load_grounded_questions

    options = dict(
        params=gen_params(ctx, e),
        judge=_judge_config(e),
        limit=e.limit,
        limit_order=e.limit_order,
        data_path=data,
        label=model,
    )
    args = (ctx.lm(ctx.model_spec(model)), ctx.lm(judge_spec(ctx, e)), load_grounded_questions(data), out)
    if e.options.get("rubric") == "grounded":
        results = run_grounded_criteria(*args, **options, **_rest(e, "rubric"))
        means = {name.removeprefix("grounded_"): s.overall["mean"] for name, s in results.items()}
        items = max((s.counts.get("items") or 0 for s in results.values()), default=0)
        return {"label": model, "items": items, "metrics": means}
    s = run_culturebank_quality(*args, **options, **_rest(e))
    return _rubric_metrics(s, model)


def _prism(ctx: RunContext, e: Any, model: str, mode: str, lang: str, data: Path, out: Path) -> dict:
    """``options`` may name ``survey`` (survey.jsonl), ``culture_from``, ``topic_filter``,
    ``rubric`` and ``system_prompt``."""
    from culturalign.datasets.prism import load_conversations
    from culturalign.evals.open_ended.prism import run_prism

    options = _rest(e, "survey", "culture_from")
    survey = next(iter(_prism_survey(ctx, e)), None)  # sample:, a path next to the experiment, ...
    culture_from = e.options.get("culture_from", "birth")
    s = run_prism(
        ctx.lm(ctx.model_spec(model)),
        ctx.lm(judge_spec(ctx, e)),
        load_conversations(data, survey, culture_from=culture_from),
        out,
        params=gen_params(ctx, e),
        judge=_judge_config(e),
        limit=e.limit,
        limit_order=e.limit_order,
        data_paths=[p for p in (data, survey) if p],
        label=model,
        **options,
    )
    return _rubric_metrics(s, model)


def _choice(target: str) -> Callable[..., dict]:
    """The choice benchmarks share one calling convention: (lm, items, out, ...) → summary."""

    def run(ctx: RunContext, e: Any, model: str, mode: str, lang: str, data: Path, out: Path) -> dict:
        from importlib import import_module

        from culturalign.datasets import load_any

        module, fn = target.split(":")
        _, items = load_any(data, e.data_format)
        summary = getattr(import_module(module), fn)(
            ctx.lm(ctx.model_spec(model)),
            items,
            out,
            limit=e.limit,
            limit_order=e.limit_order,
            data_path=data,
            **e.options,
        )
        return {"label": model, "metrics": {k: v for k, v in summary.items() if isinstance(v, int | float)}}

    return run


def _prism_survey(ctx: RunContext, e: Any) -> list[Path]:
    survey = e.options.get("survey")
    return [ctx.resolve(survey)] if survey else []


@dataclass(frozen=True)
class EvalEntry:
    run: Callable[..., dict]
    judged: bool = False
    # files besides `data` that the evaluation reads (hashed into its fingerprint)
    inputs: Callable[..., list[Path]] | None = None


EVALS: dict[str, EvalEntry] = {
    "care": EvalEntry(_care, judged=True),
    "care-choice": EvalEntry(_care_choice),
    "grounded": EvalEntry(_grounded, judged=True),
    "culturebank-quality": EvalEntry(_culturebank_quality, judged=True),
    "prism": EvalEntry(_prism, judged=True, inputs=_prism_survey),
    "opinions": EvalEntry(_choice("culturalign.evals.choice.opinions:run_opinions")),
    "culturalbench": EvalEntry(_choice("culturalign.evals.choice.culturalbench:run_culturalbench")),
    "cali": EvalEntry(_choice("culturalign.evals.choice.cali:run_cali")),
    "blend": EvalEntry(_choice("culturalign.evals.blend.run:run_blend")),
    "mcq": EvalEntry(_choice("culturalign.evals.choice.mcq:run_mcq")),
}
