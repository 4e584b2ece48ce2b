"""The stage functions of an experiment run: split, pairs, train, evaluate, report.

Each builder returns a ``Stage`` whose fingerprint covers exactly what changes its
output (config + input bytes); the work itself is done by the library functions of
each capability, called with the same typed settings the CLI would pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from culturalign.io import write_json, write_records
from culturalign.pipeline.experiment import QUESTION_EVALS, EvalSpec, TrainSpec, resolve_path
from culturalign.pipeline.stages import Stage

if TYPE_CHECKING:
    from culturalign.pipeline.runner import Runner

CHOICE_EVALS = {
    "opinions": "culturalign.evals.opinions:run_opinions",
    "culturalbench": "culturalign.evals.culturalbench:run_culturalbench",
    "cali": "culturalign.evals.cali:run_cali",
    "blend": "culturalign.evals.blend:run_blend",
    "mcq": "culturalign.evals.mcq:run_mcq",
}


def _load_questions(path: Path, fmt: str | None) -> list:
    from culturalign.datasets import load_any
    from culturalign.records import CulturalQuestion

    _, records = load_any(path, fmt)
    return [r for r in records if isinstance(r, CulturalQuestion)]


def split_stage(r: Runner) -> Stage:
    d = r.exp.data
    src = resolve_path(d.questions, r.base_dir)
    out = r.data_dir()

    def run() -> dict[str, Any]:
        from culturalign.datasets.split import split_questions

        res = split_questions(
            _load_questions(src, d.questions_format), per_category=d.split.per_category, seed=d.split.seed
        )
        write_records(out / "test.jsonl", res.test)
        write_records(out / "train.jsonl", res.train)
        write_json(out / "split.json", res.summary())
        return {"test": len(res.test), "train": len(res.train)}

    return Stage(
        "data:split",
        run,
        {"split": d.split.model_dump(), "format": d.questions_format},
        [src],
        out / "test.jsonl",
    )


def pairs_path(r: Runner) -> Path:
    return r.data_dir() / "pairs.jsonl"


def pairs_stage(r: Runner) -> Stage:
    d = r.exp.data
    src = resolve_path(d.preferences, r.base_dir)
    out = pairs_path(r)

    def run() -> dict[str, Any]:
        from culturalign.datasets.pairs import make_pairs

        res = make_pairs(
            _load_questions(src, d.preferences_format),
            strategy=d.pairs.strategy,
            min_margin=d.pairs.min_margin,
        )
        write_records(out, res.records)
        write_json(out.with_suffix(".summary.json"), res.summary())
        return res.summary()

    return Stage(
        "data:pairs", run, {"pairs": d.pairs.model_dump(), "format": d.preferences_format}, [src], out
    )


def _train_data(r: Runner, t: TrainSpec) -> Path:
    if t.data == "pairs":
        return pairs_path(r)
    if t.data == "sft":
        return (
            r.data_dir() / "train.jsonl"
            if r.exp.data.split
            else resolve_path(r.exp.data.questions, r.base_dir)
        )
    return resolve_path(t.data, r.base_dir)


def train_stage(r: Runner, t: TrainSpec) -> Stage:
    data = _train_data(r, t)
    out = r.train_dir(t)
    base = r.model_spec(t.base)

    def run() -> dict[str, Any]:
        from culturalign.train.run import train

        result = train(
            t.method, base, data, out, config=dict(t.config), lora=t.lora, qlora=t.qlora, resume=True
        )
        return result.model_dump(mode="json")

    cfg = {"method": t.method, "base": base, "config": t.config, "lora": t.lora, "qlora": t.qlora}
    inputs = [data]
    return Stage(f"train:{t.name}", run, cfg, inputs, out / "culturalign-train.json")


def _model_inputs(r: Runner, model: str) -> list[Path]:
    """A trained model's folder is an input of its evaluations: retraining re-evaluates."""
    for t in r.exp.train:
        if t.name == model:
            return [r.train_dir(t)]
    return []


def _params(r: Runner, e: EvalSpec):
    from culturalign.records import GenerationParams

    return (
        GenerationParams(**{**r.exp.generation, **e.generation})
        if (r.exp.generation or e.generation)
        else None
    )


def eval_stage(r: Runner, e: EvalSpec, model: str, mode: str, lang: str) -> Stage:
    out = r.eval_dir(e, model, mode, lang)
    spec = r.model_spec(model)
    judge = e.judge or r.exp.judge
    if e.kind in QUESTION_EVALS:
        data = resolve_path(e.data, r.base_dir) if e.data else r.questions_path()
    else:
        data = resolve_path(e.data, r.base_dir)
    cfg = {
        "kind": e.kind,
        "model": spec,
        "judge": judge if e.kind in ("care", "grounded") else None,
        "mode": mode,
        "lang": lang,
        "limit": e.limit,
        # only when they change what is measured, so older runs keep their stage key
        **({"limit_order": e.limit_order} if e.limit is not None else {}),
        **({"translate_with": e.translate_with} if e.translate_with and lang == "en" else {}),
        "generation": {**r.exp.generation, **e.generation},
        "judge_generation": e.judge_generation,
        "options": e.options,
    }

    if e.kind in ("care", "care-choice") and lang == "en" and not e.translate_with and data.is_file():
        # fail while planning, not after the training stages have run
        from culturalign.sampling import sample_limit
        from culturalign.translation import require_english

        require_english(
            sample_limit(_load_questions(data, e.data_format), e.limit, order=e.limit_order), data
        )

    def run() -> dict[str, Any]:
        lm = r.lm(spec)
        if e.kind == "care":
            from culturalign.evals.care import run_care_eval

            qs = _load_questions(data, e.data_format)
            from culturalign.judge.core import JudgeConfig
            from culturalign.records import GenerationParams

            judge_params = None
            if e.judge_generation:
                base = JudgeConfig().params.model_dump()
                judge_params = GenerationParams(**{**base, **e.judge_generation})
            s = run_care_eval(
                lm,
                r.lm(judge),
                qs,
                out,
                mode=mode,
                lang=lang,
                params=_params(r, e),
                limit=e.limit,
                limit_order=e.limit_order,
                translate_with=r.lm(e.translate_with) if e.translate_with and lang == "en" else None,
                data_path=data,
                label=model,
                judge_params=judge_params,
                **e.options,
            )
            return {"items": s.counts.get("items"), "label": s.label}
        if e.kind == "care-choice":
            from culturalign.evals.care_choice import run_care_choice
            from culturalign.sampling import sample_limit

            qs = sample_limit(_load_questions(data, e.data_format), e.limit, order=e.limit_order)
            s = run_care_choice(lm, qs, out, lang=lang, data_path=data, **e.options)
            return {"label": model, "metrics": {"accuracy_norm": s["overall"]["accuracy"]}}
        if e.kind == "grounded":
            from culturalign.evals.grounded import load_grounded_questions, run_grounded_eval

            s = run_grounded_eval(
                lm,
                r.lm(judge),
                load_grounded_questions(data),
                out,
                limit=e.limit,
                limit_order=e.limit_order,
                data_path=data,
                label=model,
                params=_params(r, e),
                **e.options,
            )
            return {"label": model}
        from importlib import import_module

        from culturalign.datasets import load_any

        module, fn = CHOICE_EVALS[e.kind].split(":")
        _, items = load_any(data, e.data_format)
        summary = getattr(import_module(module), fn)(
            lm, items, out, limit=e.limit, limit_order=e.limit_order, data_path=data, **e.options
        )
        return {"label": model, "metrics": {k: v for k, v in summary.items() if isinstance(v, int | float)}}

    return Stage(
        f"eval:{e.kind}:{model}:{mode}-{lang}",
        run,
        cfg,
        [data, *_model_inputs(r, model)],
        out / "summary.json",
    )


def report_stage(r: Runner) -> Stage:
    def run() -> dict[str, Any]:
        from culturalign.report.build import build_report

        paths = build_report(
            [r.run_dir],
            out=r.run_dir / "report",
            formats=r.exp.report.formats,
            baseline=r.exp.report.baseline,
            title=f"culturalign report: {r.exp.name}",
        )
        return {"files": [str(p) for p in paths]}

    # the report changes whenever any evaluation or training output does
    cfg = {"formats": r.exp.report.formats, "baseline": r.exp.report.baseline, "name": r.exp.name}
    return Stage("report", run, cfg, [r.run_dir / "eval", r.run_dir / "train"], r.run_dir / "report.html")
