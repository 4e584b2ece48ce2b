"""``synth grounded``, ``synth grounded-export`` and ``eval grounded``: situation-grounded
questions from cultural knowledge, their evaluation by knowledge entailment, and the
DPO/SFT data drawn from it (paper 003 §4.1, §4.2, §5.2.1). Thin: each command parses
options and calls one library function; heavy imports stay inside the commands."""

from __future__ import annotations

from pathlib import Path

import typer

from culturalign.cli.common import (
    MODEL_HELP,
    CacheOpt,
    JsonOpt,
    LimitOpt,
    LimitOrderOpt,
    ModelOpt,
    ReportToOpt,
    StrictOpt,
    open_lm,
    report_run,
)
from culturalign.cli.groups import eval_app, synth_app
from culturalign.sampling import LimitOrder, limit_fields, sample_limit

TemplatesOpt = typer.Option(
    None, "--templates", help="folder with your own grounded templates (same file names, e.g. question.txt)"
)
LambdaOpt = typer.Option(
    0.6,
    "--lambda",
    min=0.0,
    max=1.0,
    help="SFT keeps questions whose plain answer scores below λ (paper: 0.6)",
)


def _console():
    from rich.console import Console

    return Console(stderr=True)


def _print_notes(console, notes) -> None:
    for n in notes:
        console.print(f"[yellow]note:[/yellow] {n}")


def _print_export(console, counts, dpo: Path | None, sft: Path | None, lam: float) -> None:
    if dpo is not None:
        console.print(f"wrote {counts.dpo} DPO pairs (augmented answer chosen, plain rejected) to {dpo}")
    if sft is not None:
        console.print(f"wrote {counts.sft} SFT examples (plain entailment < λ={lam:g}) to {sft}")
    for kind, reasons in counts.skipped.items():
        for why, n in reasons.items():
            console.print(f"  {kind}: skipped {n}: {why}")


@synth_app.command("grounded")
def synth_grounded(
    knowledge: Path = typer.Option(
        ..., "--knowledge", "-k", help="CultureBank knowledge (CSV, TSV, JSONL or JSON; records or free text)"
    ),
    out: Path = typer.Option(..., "--out", "-o", help="JSONL file of grounded questions to write"),
    model: str = ModelOpt,
    checker: str | None = typer.Option(
        None, "--checker", help=f"model that runs the two yes/no checks (default: --model). {MODEL_HELP}"
    ),
    threshold: float = typer.Option(
        0.5, "--threshold", min=0.0, max=1.0, help="both checks' P(Yes) must reach this"
    ),
    max_attempts: int = typer.Option(
        3, "--max-attempts", min=1, help="checked candidates per item before the best is kept"
    ),
    json_retries: int = typer.Option(
        2, "--json-retries", min=0, help="re-asks when a reply is not valid JSON"
    ),
    refine: str = typer.Option(
        "revise", "--refine", help="after a failed check: revise (told which check failed) | regenerate"
    ),
    temperature: float = typer.Option(0.7, "--temperature", min=0.0, help="generator sampling temperature"),
    max_new_tokens: int = typer.Option(256, "--max-new-tokens", min=16, help="room for the JSON reply"),
    seed: int = typer.Option(0, "--seed", help="base seed; each attempt and retry adds to it"),
    limit: int | None = LimitOpt,
    limit_order: LimitOrder = LimitOrderOpt,
    cache: str | None = CacheOpt,
    templates: Path | None = TemplatesOpt,
) -> None:
    """Write one indirect, situation-grounded question per knowledge item, refined until a
    checker finds it relevant and indirect (paper 003 §4.1)."""
    from culturalign.datasets import culturebank
    from culturalign.records import GenerationParams
    from culturalign.runlog import RunLog
    from culturalign.synth.grounded import RefineConfig, synthesize_grounded
    from culturalign.synth.grounded_prompts import prompt_hashes

    console = _console()
    items = sample_limit(culturebank.load(knowledge), limit, order=limit_order)  # by cultural group
    config = RefineConfig(
        threshold=threshold,
        max_attempts=max_attempts,
        json_retries=json_retries,
        refine=refine,  # type: ignore[arg-type]
        params=GenerationParams(temperature=temperature, max_new_tokens=max_new_tokens, seed=seed),
    )
    gen_lm = open_lm(model, cache)
    check_lm = gen_lm if checker is None or checker == model else open_lm(checker, cache)
    log = RunLog(
        kind="synth-grounded",
        config={
            "threshold": threshold,
            "max_attempts": max_attempts,
            "json_retries": json_retries,
            "refine": refine,
            "params": config.params.model_dump(mode="json"),
            "items": len(items),
            **limit_fields(limit, limit_order),
        },
        prompts=prompt_hashes(templates),
    )
    log.add_model("generator", gen_lm)
    log.add_model("checker", check_lm)
    log.add_data(knowledge)
    result = synthesize_grounded(gen_lm, check_lm, items, config, out=out, template_dir=templates)
    notes = []
    from culturalign.evals.open_ended.grounded import is_embedded

    if is_embedded(check_lm):
        from culturalign.models.embedded import EMBEDDED_JUDGE_WARNING

        notes.append("The checker is the embedded model. " + EMBEDDED_JUDGE_WARNING)
    log.notes.extend(notes)
    lms = {"generator+checker": gen_lm} if check_lm is gen_lm else {"generator": gen_lm, "checker": check_lm}
    _finish_file_log(log, out, lms)
    n, acc = len(result.questions), result.accepted
    console.print(
        f"wrote {n} questions to {out}: {acc} passed both checks (threshold {threshold:g}), {n - acc} are "
        f"the best of up to {max_attempts} tries; {len(result.failures)} items gave no valid JSON"
        + (f" (see {out.name}.failed.jsonl)" if result.failures else "")
    )
    _print_notes(console, notes)
    if not result.questions:
        raise typer.Exit(1)


def _finish_file_log(log, out: Path, lms) -> None:
    """The run log of a single-file output sits beside it as OUT.run.json."""
    import time

    from culturalign.io import write_json

    for role, lm in lms.items():
        log.calls[role] = lm.stats.as_dict()
    log.finished = time.time()
    write_json(out.with_name(out.name + ".run.json"), log.model_dump(mode="json"))


@synth_app.command("grounded-export")
def synth_grounded_export(
    items: Path | None = typer.Option(
        None, "--items", "-i", help="items.jsonl of an `eval grounded` run, or the run directory"
    ),
    dpo: Path | None = typer.Option(None, "--dpo", help="write DPO pairs (augmented chosen, plain rejected)"),
    sft: Path | None = typer.Option(None, "--sft", help="write SFT examples for questions scored below λ"),
    lam: float = LambdaOpt,
    knowledge: Path | None = typer.Option(
        None, "--knowledge", "-k", help="CultureBank knowledge file, for --knowledge-text"
    ),
    knowledge_text: Path | None = typer.Option(
        None, "--knowledge-text", help="write each knowledge record as training text ({'text': ...})"
    ),
    templates: Path | None = TemplatesOpt,
) -> None:
    """Training data of paper 003 §4.2: DPO pairs and λ-filtered SFT data from a grounded
    evaluation run, and the knowledge descriptions themselves as training text."""
    from culturalign.errors import ConfigError
    from culturalign.io import read_records, write_records
    from culturalign.records.grounded import GroundedEvalItem

    if dpo is None and sft is None and knowledge_text is None:
        raise ConfigError(
            "nothing to write: give --dpo FILE and/or --sft FILE (with --items), or --knowledge-text FILE"
        )
    if (dpo is not None or sft is not None) and items is None:
        raise ConfigError("--dpo/--sft read an evaluation run: give --items RUN_DIR")
    if (knowledge_text is None) != (knowledge is None):
        raise ConfigError("--knowledge and --knowledge-text go together")
    console = _console()
    if knowledge is not None and knowledge_text is not None:
        from culturalign.datasets import culturebank
        from culturalign.synth.grounded_export import knowledge_texts

        texts, stances = knowledge_texts(culturebank.load(knowledge))
        n = write_records(knowledge_text, texts)
        console.print(
            f"wrote {n} knowledge descriptions to {knowledge_text} ({stances.negated} given as their "
            f"negation; {stances.left_out} left out because most sources disagree with them)"
        )
    if items is not None and (dpo is not None or sft is not None):
        from culturalign.synth.grounded_export import export_training_data

        path = items / "items.jsonl" if items.is_dir() else items
        records = read_records(path, GroundedEvalItem)
        counts = export_training_data(records, dpo_out=dpo, sft_out=sft, lam=lam, template_dir=templates)
        _print_export(console, counts, dpo, sft, lam)


@eval_app.command("grounded")
def eval_grounded(
    data: Path = typer.Option(
        ...,
        "--data",
        "-d",
        help="grounded questions (from `synth grounded`) or a CultureBank file with eval_question",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="run directory to write"),
    model: str = ModelOpt,
    judge: str = typer.Option(
        "embedded", "--judge", "-j", help="entailment judge spec (embedded is a weak stand-in)"
    ),
    augment_model: str | None = typer.Option(
        None, "--augment-model", help="model for knowledge-augmented answers (default: --model)"
    ),
    augmented: bool = typer.Option(
        True,
        "--augmented/--no-augmented",
        help="also answer with the knowledge in the prompt (upper reference)",
    ),
    temperature: float = typer.Option(0.0, "--temperature", min=0.0, help="answer decoding (0 = greedy)"),
    max_new_tokens: int = typer.Option(512, "--max-new-tokens", min=1, help="answer length limit"),
    limit: int | None = LimitOpt,
    limit_order: LimitOrder = LimitOrderOpt,
    cache: str | None = CacheOpt,
    templates: Path | None = TemplatesOpt,
    export_dpo: Path | None = typer.Option(None, "--export-dpo", help="also write DPO pairs to this file"),
    export_sft: Path | None = typer.Option(None, "--export-sft", help="also write λ-filtered SFT data here"),
    lam: float = LambdaOpt,
    as_json: bool = JsonOpt,
    strict: bool = StrictOpt,
    report_to: str | None = ReportToOpt,
) -> None:
    """Answer grounded questions, score knowledge entailment with a judge, and tabulate
    per cultural group and topic beside the knowledge-augmented reference (paper 003 §5.2.1)."""
    from culturalign.errors import ConfigError
    from culturalign.evals.open_ended.grounded import load_grounded_questions, run_grounded_eval
    from culturalign.io import read_records
    from culturalign.records import GenerationParams
    from culturalign.records.grounded import GroundedEvalItem
    from culturalign.synth.grounded_export import export_training_data

    if (export_dpo or export_sft) and not augmented:
        raise ConfigError(
            "--export-dpo/--export-sft need the knowledge-augmented answers; drop --no-augmented"
        )
    questions = load_grounded_questions(data)
    model_lm = open_lm(model, cache)
    judge_lm = model_lm if judge == model else open_lm(judge, cache)
    aug_lm = None
    if augmented and augment_model is not None and augment_model != model:
        aug_lm = judge_lm if augment_model == judge else open_lm(augment_model, cache)
    params = GenerationParams(temperature=temperature, max_new_tokens=max_new_tokens)
    summary = run_grounded_eval(
        model_lm,
        judge_lm,
        questions,
        out,
        knowledge_augmented=augmented,
        augment_lm=aug_lm,
        params=params,
        template_dir=templates,
        limit=limit,
        limit_order=limit_order,
        data_path=data,
    )
    console = _console()

    def show() -> None:
        typer.echo((out / "table.md").read_text(encoding="utf-8"))
        o = summary.overall
        console.print(
            f"{o.plain.scored}/{o.plain.n} answers scored; results in {out} "
            "(items.jsonl, summary.json, table.md, run.json)"
        )
        _print_notes(console, summary.notes)

    if export_dpo or export_sft:  # written before --strict may end the command
        records = read_records(out / "items.jsonl", GroundedEvalItem)
        counts = export_training_data(
            records, dpo_out=export_dpo, sft_out=export_sft, lam=lam, template_dir=templates
        )
        _print_export(console, counts, export_dpo, export_sft, lam)
    report_run(out, show, as_json=as_json, strict=strict, report_to=report_to)
