"""The stage builders of synthesis (CAReDiO questions → adapt → respond; grounded questions
from knowledge), selection and export of training data.

Each calls the same library function as its CLI command (``synth ...``, ``select``,
``synth export``, ``synth grounded-export``) and writes the same files, plus the run log
beside the output (``OUT.run.json``), so a stage's output can be opened, checked and fed
to the commands by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from culturalign.io import write_records
from culturalign.pipeline.context import RunContext
from culturalign.pipeline.graph import Node
from culturalign.pipeline.stages import Stage


def _params(default: Any, spec: Any) -> Any:
    """A stage's decoding: the step's own defaults under the stage's ``generation``."""
    return default.model_copy(update=spec.generation) if spec.generation else default


def _log(kind: str, out: Path, config: dict, lm: Any, stats: dict, names: list[str]) -> None:
    from culturalign.synth import templates
    from culturalign.synth.stage import write_stage_log

    write_stage_log(kind, out, config, lm, stats, {f"caredio/{n}": templates.load(n).sha for n in names})


def _gen_cfg(ctx: RunContext, s: Any) -> dict[str, Any]:
    """What every model-calling stage's output depends on besides its inputs."""
    return {
        **s.model_dump(exclude={"name", "after", "model", "checker"}),
        "model": ctx.model_spec(s.model),
    }


def questions_stage(ctx: RunContext, node: Node) -> Stage:
    s = node.spec
    out = ctx.output(node)
    framework = ctx.resolve(s.framework) if s.framework else None

    def run() -> dict[str, Any]:
        from culturalign.synth.framework import load_framework
        from culturalign.synth.questions import DEFAULT_PARAMS, generate_questions

        fw = load_framework(framework).select(s.topics or None, s.levels or None)
        encode = None
        if s.embedder.lower() != "none":
            from culturalign.select.embed import open_embedder

            encode = open_embedder(s.embedder)
        params = _params(DEFAULT_PARAMS, s)
        lm = ctx.lm(ctx.model_spec(s.model))
        qs, stats = generate_questions(
            lm, fw, k=s.k, qtypes=s.types, params=params, max_rounds=s.rounds,
            example_cultures=s.cultures, encode=encode, dedup_threshold=s.dedup_threshold, out=out,
        )  # fmt: skip
        cfg = {"framework": fw.source, "topics": len(fw.topics), "k": s.k, "params": params.model_dump()}
        _log("synth-questions", out, cfg, lm, stats.as_dict(), ["questions"])
        return {"questions": len(qs), "topics": len(fw.topics), "unparseable": stats.unparseable_outputs}

    inputs = [framework] if framework else []
    return Stage(
        node.key, run, _gen_cfg(ctx, s), [*inputs, *ctx.model_inputs(s.model)], out, "synth-questions"
    )


def adapt_stage(ctx: RunContext, node: Node) -> Stage:
    s = node.spec
    src, out = ctx.resolve(s.data), ctx.output(node)

    def run() -> dict[str, Any]:
        from culturalign.sampling import sample_limit
        from culturalign.synth.adapt import ADAPT_PARAMS, PROBE_PARAMS, adapt_questions
        from culturalign.synth.stage import read_questions

        qs = sample_limit(read_questions(src), s.limit, order=s.limit_order)
        params, probe = _params(ADAPT_PARAMS, s), _params(PROBE_PARAMS, s)
        lm = ctx.lm(ctx.model_spec(s.model))
        adapted, stats = adapt_questions(
            lm, qs, cultures=s.cultures, targets=s.targets or None, probe_params=probe, params=params,
            retries=s.retries, out=out,
        )  # fmt: skip
        _log("synth-adapt", out, {"data": str(src), "params": params.model_dump()}, lm, stats.as_dict(),
             ["roleplay", "adapt"])  # fmt: skip
        return {"adapted": stats.adapted, "questions": len(adapted), "unparseable": stats.unparseable}

    return Stage(node.key, run, _gen_cfg(ctx, s), [src, *ctx.model_inputs(s.model)], out, "synth-adapt")


def respond_stage(ctx: RunContext, node: Node) -> Stage:
    s = node.spec
    src, out = ctx.resolve(s.data), ctx.output(node)
    general = ctx.resolve(s.general) if s.general else None

    def run() -> dict[str, Any]:
        from culturalign.errors import ConfigError
        from culturalign.sampling import sample_limit
        from culturalign.synth.respond import CONTRAST_PARAMS, ISOLATED_PARAMS, respond
        from culturalign.synth.stage import read_adapted

        qs, skipped = read_adapted(src, s.targets or None)
        note = None
        if not qs and general is not None:
            if not s.targets:
                raise ConfigError(f"stage {s.name!r}: `general` needs `targets` (the cultures that answer)")
            qs, _ = read_adapted(general, s.targets)
            note = f"no adaptation in {src.name} succeeded; answered the general questions of {general.name}"
        qs = sample_limit(qs, s.limit, order=s.limit_order)
        if not qs:
            raise ConfigError(
                f"stage {s.name!r}: {src} holds no question to answer ({skipped} failed adaptations)"
            )
        params, isolated = _params(CONTRAST_PARAMS, s), _params(ISOLATED_PARAMS, s)
        lm = ctx.lm(ctx.model_spec(s.model))
        samples, stats = respond(
            lm, qs, cultures=s.cultures, contrast_k=s.contrast_k, isolated_params=isolated, params=params,
            seed=s.seed, out=out,
        )  # fmt: skip
        stats.skipped_inputs = skipped
        d = stats.as_dict()
        if note:
            d.setdefault("notes", []).append(note)
        _log("synth-respond", out, {"data": str(src), "params": params.model_dump()}, lm, d,
             ["roleplay", "respond_contrast"])  # fmt: skip
        return {"samples": len(samples), "answered": stats.samples_ok, **({"note": note} if note else {})}

    inputs = [src, *([general] if general else []), *ctx.model_inputs(s.model)]
    return Stage(node.key, run, _gen_cfg(ctx, s), inputs, out, "synth-respond")


def grounded_stage(ctx: RunContext, node: Node) -> Stage:
    s = node.spec
    src, out = ctx.resolve(s.data), ctx.output(node)
    checker = s.checker or s.model

    def run() -> dict[str, Any]:
        from culturalign.datasets import culturebank
        from culturalign.records import GenerationParams
        from culturalign.runlog import RunLog
        from culturalign.sampling import sample_limit
        from culturalign.synth.grounded import RefineConfig, synthesize_grounded
        from culturalign.synth.grounded_prompts import prompt_hashes

        items = sample_limit(culturebank.load(src), s.limit, order=s.limit_order)
        params = GenerationParams(**{"temperature": 0.7, "max_new_tokens": 256, **s.generation})
        config = RefineConfig(threshold=s.threshold, max_attempts=s.max_attempts, json_retries=s.json_retries,
                              refine=s.refine, params=params)  # fmt: skip
        gen = ctx.lm(ctx.model_spec(s.model))
        check = ctx.lm(ctx.model_spec(checker))
        result = synthesize_grounded(gen, check, items, config, out=out)
        log = RunLog(kind="synth-grounded", config={"params": params.model_dump(mode="json"), "items": len(items)},
                     prompts=prompt_hashes())  # fmt: skip
        log.add_model("generator", gen)
        log.add_model("checker", check)
        log.add_data(src)
        log.notes.extend(result.notes)
        from culturalign.io import write_json

        write_json(out.with_name(out.name + ".run.json"), log.model_dump(mode="json"))
        return {
            "questions": len(result.questions),
            "accepted": result.accepted,
            "failures": len(result.failures),
        }

    cfg = {**_gen_cfg(ctx, s), "checker": ctx.model_spec(checker)}
    inputs = [src, *ctx.model_inputs(s.model), *ctx.model_inputs(checker)]
    return Stage(node.key, run, cfg, inputs, out, "synth-grounded")


def select_stage(ctx: RunContext, node: Node) -> Stage:
    s = node.spec
    src, out = ctx.resolve(s.data), ctx.output(node)
    validation = ctx.resolve(s.validation) if s.validation else None

    def run() -> dict[str, Any]:
        from culturalign.select.caredio import SelectionConfig
        from culturalign.select.stage import run_selection

        config = SelectionConfig(budget=s.budget, **s.options)
        config.check()
        lm = ctx.lm(ctx.model_spec(s.model)) if s.model else None
        result, _ = run_selection(src, out, config, embedder=s.embedder, fmt=s.format, culture=s.culture, lm=lm,
                                  validation=validation, analysis=s.analysis)  # fmt: skip
        return {"picks": len(result.picks), "notes": result.summary.get("notes", [])}

    cfg = {
        **s.model_dump(exclude={"name", "after", "model"}),
        "model": ctx.model_spec(s.model) if s.model else None,
    }
    inputs = [src, *([validation] if validation else []), *ctx.model_inputs(s.model)]
    return Stage(node.key, run, cfg, inputs, out, "select")


def _kto_rows(pairs: list) -> list[dict[str, Any]]:
    """Unpaired KTO rows from preference pairs: the chosen answer desirable, the rejected not."""
    rows = []
    for p in pairs:
        prompt = [m.model_dump() for m in p.prompt]
        rows.append({"prompt": prompt, "completion": [m.model_dump() for m in p.chosen], "label": True})
        rows.append({"prompt": prompt, "completion": [m.model_dump() for m in p.rejected], "label": False})
    return rows


def export_stage(ctx: RunContext, node: Node) -> Stage:
    s = node.spec
    src, out = ctx.resolve(s.data), ctx.output(node)
    producer = ctx.producer(s.data)
    source = s.source
    if source == "auto":
        source = "grounded" if producer is not None and producer.spec.kind == "evaluate" else "caredio"

    def run() -> dict[str, Any]:
        from culturalign.errors import ConfigError

        if s.format == "text":
            from culturalign.datasets import culturebank
            from culturalign.synth.grounded_export import knowledge_texts

            texts, counts = knowledge_texts(culturebank.load(src))
            return {"rows": write_records(out, texts), "negated": counts.negated, "left_out": counts.left_out}
        if source == "grounded":
            from culturalign.io import read_records
            from culturalign.records.grounded import GroundedEvalItem
            from culturalign.synth.grounded_export import dpo_pairs, export_training_data

            items = read_records(src, GroundedEvalItem)
            if s.format == "kto":
                return {"rows": write_records(out, _kto_rows(dpo_pairs(items)))}
            kw = {"dpo_out": out} if s.format == "dpo" else {"sft_out": out}
            counts = export_training_data(items, lam=s.lam, **kw)
            return {"rows": counts.dpo if s.format == "dpo" else counts.sft, "skipped": counts.skipped}
        from culturalign.select.export import export, load_for_export, to_dpo

        samples = load_for_export(src)
        if s.format == "kto":
            pairs = to_dpo(samples, pairs_per_sample=s.pairs_per_sample, seed=s.seed, system=s.system)
            return {"rows": write_records(out, _kto_rows(pairs)), "samples": len(samples)}
        counts = export(
            samples, **{s.format: out}, pairs_per_sample=s.pairs_per_sample, seed=s.seed, system=s.system
        )
        if not counts.get(s.format):
            raise ConfigError(
                f"stage {s.name!r}: {src} gave no {s.format.upper()} rows (from {len(samples)} samples)"
            )
        return {"rows": counts[s.format], "samples": len(samples)}

    cfg = {**s.model_dump(exclude={"name", "after"}), "source": source}
    return Stage(node.key, run, cfg, [src], out, "export" if source == "grounded" else None)


BUILDERS = {
    "synth-questions": questions_stage,
    "synth-adapt": adapt_stage,
    "synth-respond": respond_stage,
    "synth-grounded": grounded_stage,
    "select": select_stage,
    "export": export_stage,
}
