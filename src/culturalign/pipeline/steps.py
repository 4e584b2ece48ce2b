"""The stage builders of the data, training, evaluation and report stages.

Each builder returns a ``Stage`` whose fingerprint covers exactly what changes its
output (config + input bytes + built-in prompts); the work itself is done by the library
functions of each capability, called with the same typed settings the CLI would pass.
The synthesis, selection and export stages are built in ``steps_synth``; every kind is
looked up in ``BUILDERS``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from culturalign.io import write_json, write_records
from culturalign.pipeline import steps_synth
from culturalign.pipeline.context import RunContext
from culturalign.pipeline.evals_dispatch import EVALS, judge_spec, load_questions
from culturalign.pipeline.graph import Node, Unit
from culturalign.pipeline.stages import Stage


def split_stage(ctx: RunContext, node: Node) -> Stage:
    s = node.spec
    src = ctx.resolve(s.data)
    out = ctx.out_dir(node)

    def run() -> dict[str, Any]:
        from culturalign.datasets.split import split_questions

        res = split_questions(load_questions(src, s.format), per_category=s.per_category, seed=s.seed)
        write_records(out / "test.jsonl", res.test)
        write_records(out / "train.jsonl", res.train)
        write_json(out / "split.json", res.summary())
        return {"test": len(res.test), "train": len(res.train)}

    cfg = {"split": {"per_category": s.per_category, "seed": s.seed}, "format": s.format}
    return Stage(node.key, run, cfg, [src], out / "test.jsonl")


def pairs_stage(ctx: RunContext, node: Node) -> Stage:
    s = node.spec
    src = ctx.resolve(s.data)
    out = ctx.output(node)

    def run() -> dict[str, Any]:
        from culturalign.datasets.pairs import make_pairs

        res = make_pairs(load_questions(src, s.format), strategy=s.strategy, min_margin=s.min_margin)
        write_records(out, res.records)
        write_json(out.with_suffix(".summary.json"), res.summary())
        return res.summary()

    cfg = {"pairs": {"strategy": s.strategy, "min_margin": s.min_margin}, "format": s.format}
    return Stage(node.key, run, cfg, [src], out)


def train_stage(ctx: RunContext, node: Node) -> Stage:
    t = node.spec
    data = ctx.resolve(t.data)
    out = ctx.out_dir(node)
    base = ctx.model_spec(t.base)

    def run() -> dict[str, Any]:
        import shutil

        from culturalign.train.outputs import ResumeMismatch
        from culturalign.train.run import train

        def go():
            return train(
                t.method, base, data, out, config=dict(t.config), lora=t.lora, qlora=t.qlora, resume=True
            )

        try:
            result = go()
        except ResumeMismatch as exc:
            # the stage's data or settings changed since its folder was trained: that model
            # is stale, so it is set aside (one generation kept) and the stage trains anew
            stale = out.with_name(out.name + ".stale")
            shutil.rmtree(stale, ignore_errors=True)
            out.rename(stale)
            import logging

            logging.getLogger(__name__).warning("%s; moved it to %s and training again", exc, stale.name)
            result = go()
        return result.model_dump(mode="json")

    cfg = {"method": t.method, "base": base, "config": t.config, "lora": t.lora, "qlora": t.qlora}
    return Stage(node.key, run, cfg, [data, *ctx.model_inputs(t.base)], out / "culturalign-train.json")


def eval_stage(ctx: RunContext, node: Node, model: str, mode: str, lang: str) -> Stage:
    e = node.spec
    out = ctx.eval_dir(node, model, mode, lang)
    spec = ctx.model_spec(model)
    entry = EVALS[e.eval]
    data = ctx.resolve(e.data)
    cfg = {
        "kind": e.eval,
        "model": spec,
        "judge": judge_spec(ctx, e) if entry.judged else None,
        "mode": mode,
        "lang": lang,
        "limit": e.limit,
        # only when they change what is measured, so older runs keep their stage key
        **({"limit_order": e.limit_order} if e.limit is not None else {}),
        **({"translate_with": e.translate_with} if e.translate_with and lang == "en" else {}),
        "generation": {**ctx.exp.generation, **e.generation},
        "judge_generation": e.judge_generation,
        "options": e.options,
    }

    if e.eval in ("care", "care-choice") and lang == "en" and not e.translate_with and data.is_file():
        # fail while planning, not after the training stages have run
        from culturalign.sampling import sample_limit
        from culturalign.translation import require_english

        require_english(sample_limit(load_questions(data, e.data_format), e.limit, order=e.limit_order), data)

    def run() -> dict[str, Any]:
        return entry.run(ctx, e, model, mode, lang, data, out)

    return Stage(
        f"{node.key}:{model}:{mode}-{lang}",
        run,
        cfg,
        [data, *(entry.inputs(ctx, e) if entry.inputs else []), *ctx.model_inputs(model)],
        out / "summary.json",
        assets=f"eval:{e.eval}",
    )


def eval_stages(ctx: RunContext, node: Node, model: str) -> list[Stage]:
    return [eval_stage(ctx, node, model, mode, lang) for mode in node.spec.modes for lang in node.spec.langs]


def report_stage(ctx: RunContext, node: Node) -> Stage:
    s = node.spec

    def run() -> dict[str, Any]:
        from culturalign import view
        from culturalign.report.build import build_report

        paths = build_report(
            [ctx.run_dir],
            out=ctx.run_dir / "report",
            formats=s.formats,
            baseline=s.baseline,
            title=f"culturalign report: {ctx.exp.name}",
            viewer=view,  # view.html beside the report; its numbers link to the answers
        )
        return {"files": [str(p) for p in paths]}

    # the report changes whenever any evaluation or training output does
    cfg = {"formats": s.formats, "baseline": s.baseline, "name": ctx.exp.name}
    inputs: list[Path] = [ctx.run_dir / "eval", ctx.run_dir / "train"]
    return Stage("report", run, cfg, inputs, ctx.run_dir / "report.html")


def build(ctx: RunContext, unit: Unit) -> list[Stage]:
    """The stages of one unit of the plan (an evaluation: one per mode and language)."""
    kind = unit.node.spec.kind
    if kind == "evaluate":
        return eval_stages(ctx, unit.node, unit.model or "")
    builders = {
        "split": split_stage,
        "pairs": pairs_stage,
        "train": train_stage,
        "report": report_stage,
        **steps_synth.BUILDERS,
    }
    return [builders[kind](ctx, unit.node)]
