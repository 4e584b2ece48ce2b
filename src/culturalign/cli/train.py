"""`culturalign train sft|dpo|kto|simpo` and `culturalign study scaling|mixing|algorithms|lr|sizes`.

Thin: options become a config and one library call (``culturalign.train.run.train`` or
``culturalign.train.studies``). TRL, torch and transformers load only inside commands.
Multi-GPU runs use the same commands under accelerate:

    accelerate launch --config_file "$(culturalign train accelerate-config ddp)" \\
        -m culturalign train dpo --model hf:Qwen/Qwen2.5-7B-Instruct --data pairs.jsonl --out runs/dpo

and, to check the distributed path without GPUs, ``torchrun --nproc_per_node 2 -m culturalign train ...``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from culturalign.cli.common import MODEL_HELP, ReportToOpt, track_run
from culturalign.cli.groups import study_app, train_app
from culturalign.trackers import reporting

_METHOD_HELP = {
    "sft": "Supervised fine-tuning on reference or chosen answers (CARE Table 3 'SFT w/ CARE'; paper 003 §4.2).",
    "dpo": "Direct preference optimisation on best-vs-worst pairs (CARE §4.1, appendix B: beta 0.1).",
    "kto": "KTO on unpaired examples, or on pairs split into desirable/undesirable rows (CARE Table 2).",
    "simpo": "SimPO, the reference-free length-normalised loss, via TRL's CPO trainer (CARE Table 2).",
}

ConfigOpt = typer.Option(
    None, "--config", "-c", help="YAML file: `preset: NAME` plus any settings to override"
)
PresetOpt = typer.Option(None, "--preset", help="care-paper | culturebank-sft | cpu-demo | tiny-test")
SetOpt = typer.Option(
    None, "--set", help="override one setting, e.g. --set learning_rate=1e-4 --set lora.r=16"
)


def _overrides(sets: list[str] | None) -> dict:
    from culturalign.train.presets import parse_set

    return parse_set(sets or [])


def _print_result(result) -> None:
    from culturalign.train.outputs import is_main_process

    if not is_main_process():  # one summary per run, not one per process
        return
    typer.echo(
        f"{result.method}: {result.steps} optimizer steps in {result.seconds:.1f} s on {result.n_train} examples"
    )
    if result.gap_before is not None and result.gap_after is not None:
        b, a = result.gap_before, result.gap_after
        acc = (
            ""
            if a.accuracy is None
            else f"; chosen preferred on {b.accuracy:.0%} -> {a.accuracy:.0%} of pairs"
        )
        typer.echo(f"held-out preference gap ({a.n} items): {b.gap:+.3f} -> {a.gap:+.3f} nats{acc}")
        from culturalign.train.gap import gap_change
        from culturalign.uncertainty import describe_delta

        change = gap_change(b, a)
        if change is not None:
            typer.echo(f"  change, paired over the same held-out pairs: {describe_delta(change, digits=3)}")
    for note in result.notes:
        typer.echo(f"  note: {note}")
    typer.echo(f"saved to {result.out_dir}  (use it as --model hf:{result.out_dir})")


def _make_train_command(method: str):
    def command(
        model: str = typer.Option("embedded", "--model", "-m", help=MODEL_HELP),
        data: Path = typer.Option(
            ...,
            "--data",
            "-d",
            help="pairs / unpaired / SFT data: JSONL, JSON, Parquet, CSV, a dataset folder or hf:OWNER/NAME[:CONFIG][@SPLIT]",
        ),
        out: Path = typer.Option(..., "--out", "-o", help="output folder (loads as hf:OUT afterwards)"),
        lora: bool = typer.Option(
            False, "--lora", help="train LoRA adapters (r=8, alpha 16, dropout 0.05 on q,v by default)"
        ),
        qlora: bool = typer.Option(
            False, "--qlora", help="LoRA on 4-bit nf4 weights (needs a CUDA GPU and bitsandbytes)"
        ),
        config: Path | None = ConfigOpt,
        preset: str | None = PresetOpt,
        sets: list[str] | None = SetOpt,
        resume: bool = typer.Option(
            False, "--resume", help="continue an interrupted run from its newest checkpoint"
        ),
        merge: bool = typer.Option(False, "--merge", help="save merged full weights instead of the adapter"),
        heldout: Path | None = typer.Option(
            None, "--heldout", help="pairs to measure the preference gap on (default: split off the data)"
        ),
        push_to_hub: str | None = typer.Option(
            None,
            "--push-to-hub",
            metavar="OWNER/NAME",
            help="push the adapter or merged weights to this Hub model repo, with a card from the run",
        ),
        report_to: str | None = ReportToOpt,
    ) -> None:
        from culturalign.train.presets import resolve_config
        from culturalign.train.run import train

        cfg = resolve_config(config, preset_name=preset, overrides=_overrides(sets))
        result = train(
            method,
            model,
            data,
            out,
            config=cfg,
            lora=lora,
            qlora=qlora,
            resume=resume,
            merge=merge,
            heldout=heldout,
            report_to=report_to,
        )
        _print_result(result)
        if push_to_hub:
            from culturalign.hub_push import push_training
            from culturalign.train.outputs import is_main_process

            if is_main_process():  # one push per run, not one per process
                typer.echo(push_training(result.out_dir, push_to_hub).summary())

    command.__doc__ = _METHOD_HELP[method]
    return command


for _method in ("sft", "dpo", "kto", "simpo"):
    train_app.command(_method)(_make_train_command(_method))


@train_app.command("presets")
def presets_command() -> None:
    """List the named training presets and what they hold."""
    from culturalign.train.presets import PRESET_HELP

    for name, text in PRESET_HELP.items():
        typer.echo(f"{name:16s} {text}")


@train_app.command("config")
def config_command(
    config: Path | None = ConfigOpt, preset: str | None = PresetOpt, sets: list[str] | None = SetOpt
) -> None:
    """Print the resolved training config (preset + YAML + --set) as YAML."""
    from culturalign.train.presets import resolve_config

    typer.echo(resolve_config(config, preset_name=preset, overrides=_overrides(sets)).to_yaml(), nl=False)


@train_app.command("accelerate-config")
def accelerate_config_command(
    name: str = typer.Argument(..., help="ddp | deepspeed-zero2 | deepspeed-zero3 | fsdp"),
) -> None:
    """Print the path of a shipped accelerate config, for `accelerate launch --config_file`."""
    from culturalign.train.launch import accelerate_config

    typer.echo(str(accelerate_config(name)))


# -- studies ---------------------------------------------------------------------------

StudyConfigOpt = typer.Option(
    None, "--config", "-c", help="study YAML: train settings under `train:`, the evaluation under `eval:`"
)
EvalOpt = typer.Option(
    None,
    "--eval",
    help="evaluation: care | gap | opinions | culturalbench | cali | blend | mcq (default: from the config, else gap)",
)
EvalDataOpt = typer.Option(None, "--eval-data", help="the evaluation's items (e.g. CARE test questions)")
JudgeOpt = typer.Option(None, "--judge", help="judge model spec for --eval care")
EvalLimitOpt = typer.Option(None, "--eval-limit", min=1, help="evaluate on the first N items only")


StudyModelOpt = typer.Option("embedded", "--model", "-m", help=MODEL_HELP)
StudyOutOpt = typer.Option(
    ..., "--out", "-o", help="study folder: study.csv, study.md, study.png, one folder per cell"
)
StudyLoraOpt = typer.Option(False, "--lora", help="train LoRA adapters instead of full weights")
StudyMethodOpt = typer.Option("dpo", "--method", help="sft | dpo | kto | simpo")
StudyHeldoutOpt = typer.Option(
    None,
    "--heldout",
    help="held-out pairs for every cell; then 100% is all of --data (default: split off --data first)",
)


def _print_study(table, out: Path, report_to: str | None = None) -> None:
    typer.echo(table.markdown())
    typer.echo(f"wrote {out}/study.csv, study.md, study.png")
    if report_to:  # each cell's training reported itself; here the study's table
        rows = {str(row[table.key]): row for row in table.rows}
        track_run(report_to, out, {"cells": rows, "changes": table.changes})


def _study_options(config, eval_name, eval_data, judge, eval_limit, sets, lora, method=None, preset=None):
    from culturalign.train.studies import load_study_config

    overrides = _overrides(sets)
    if preset:
        overrides["preset"] = preset
    return load_study_config(
        config,
        eval_name=eval_name,
        eval_data=eval_data,
        judge=judge,
        eval_limit=eval_limit,
        train_overrides=overrides,
        lora=lora,
        method=method,
    )


@study_app.command("scaling")
def scaling_command(
    model: str = StudyModelOpt,
    data: Path = typer.Option(..., "--data", "-d", help="preference pairs"),
    out: Path = StudyOutOpt,
    fractions: str = typer.Option("0,0.25,0.5,0.75,1", "--fractions", help="shares of the pairs to train on"),
    method: str = StudyMethodOpt,
    lora: bool = StudyLoraOpt,
    config: Path | None = StudyConfigOpt,
    eval_name: str | None = EvalOpt,
    eval_data: Path | None = EvalDataOpt,
    judge: str | None = JudgeOpt,
    eval_limit: int | None = EvalLimitOpt,
    sets: list[str] | None = SetOpt,
    preset: str | None = PresetOpt,
    heldout: Path | None = StudyHeldoutOpt,
    report_to: str | None = ReportToOpt,
) -> None:
    """Data scaling: align on 0/25/50/75/100% of the pairs and evaluate each (CARE §4.3, Fig. 4)."""
    from culturalign.train.studies import run_scaling

    cfg = _study_options(config, eval_name, eval_data, judge, eval_limit, sets, lora, method, preset)
    try:
        shares = [float(x) for x in fractions.split(",") if x.strip()]
    except ValueError:
        from culturalign.errors import ConfigError

        raise ConfigError(f"--fractions {fractions!r}: write comma-separated shares, e.g. 0,0.5,1") from None
    with reporting(report_to):
        table = run_scaling(model, data, out, shares, cfg, heldout)
    _print_study(table, out, report_to)


@study_app.command("mixing")
def mixing_command(
    model: str = StudyModelOpt,
    data: Path = typer.Option(..., "--data", "-d", help="pairs with associated_culture native/foreign"),
    out: Path = StudyOutOpt,
    count: int | None = typer.Option(
        None, "--count", min=1, help="pairs per condition (default: as many as the smaller side allows)"
    ),
    method: str = StudyMethodOpt,
    lora: bool = StudyLoraOpt,
    config: Path | None = StudyConfigOpt,
    eval_name: str | None = EvalOpt,
    eval_data: Path | None = EvalDataOpt,
    judge: str | None = JudgeOpt,
    eval_limit: int | None = EvalLimitOpt,
    sets: list[str] | None = SetOpt,
    preset: str | None = PresetOpt,
    heldout: Path | None = StudyHeldoutOpt,
    report_to: str | None = ReportToOpt,
) -> None:
    """Culture mixing: native vs foreign vs mixed pairs in equal counts, scored on native and foreign questions (CARE §4.5, Fig. 6)."""
    from culturalign.train.studies import run_mixing

    cfg = _study_options(config, eval_name, eval_data, judge, eval_limit, sets, lora, method, preset)
    with reporting(report_to):
        table = run_mixing(model, data, out, count, cfg, heldout)
    _print_study(table, out, report_to)


@study_app.command("algorithms")
def algorithms_command(
    model: str = StudyModelOpt,
    data: Path = typer.Option(..., "--data", "-d", help="preference pairs"),
    out: Path = StudyOutOpt,
    methods: str = typer.Option("dpo,kto,simpo", "--methods", help="algorithms to compare"),
    lora: bool = StudyLoraOpt,
    config: Path | None = StudyConfigOpt,
    eval_name: str | None = EvalOpt,
    eval_data: Path | None = EvalDataOpt,
    judge: str | None = JudgeOpt,
    eval_limit: int | None = EvalLimitOpt,
    sets: list[str] | None = SetOpt,
    preset: str | None = PresetOpt,
    heldout: Path | None = StudyHeldoutOpt,
    report_to: str | None = ReportToOpt,
) -> None:
    """Algorithms: DPO / KTO / SimPO as score changes over the vanilla model (CARE Table 2)."""
    from culturalign.train.studies import run_algorithms

    cfg = _study_options(config, eval_name, eval_data, judge, eval_limit, sets, lora, None, preset)
    methods_list = [m.strip() for m in methods.split(",") if m.strip()]
    with reporting(report_to):
        table = run_algorithms(model, data, out, methods_list, cfg, heldout)
    _print_study(table, out, report_to)


@study_app.command("lr")
def lr_command(
    model: str = StudyModelOpt,
    data: Path = typer.Option(..., "--data", "-d", help="preference pairs"),
    out: Path = StudyOutOpt,
    rates: str = typer.Option("1e-7,5e-7,9e-7", "--rates", help="learning rates to try (CARE's grid)"),
    select_by: str | None = typer.Option(
        None, "--select-by", help="metric to choose the rate by (default: the evaluation's main one)"
    ),
    method: str = StudyMethodOpt,
    lora: bool = StudyLoraOpt,
    config: Path | None = StudyConfigOpt,
    eval_name: str | None = EvalOpt,
    eval_data: Path | None = EvalDataOpt,
    judge: str | None = JudgeOpt,
    eval_limit: int | None = EvalLimitOpt,
    sets: list[str] | None = SetOpt,
    preset: str | None = PresetOpt,
    heldout: Path | None = StudyHeldoutOpt,
    report_to: str | None = ReportToOpt,
) -> None:
    """Learning rate: train at each rate, choose on held-out pairs, train the chosen rate on all pairs (CARE appendix B)."""
    from culturalign.train.study_lr import parse_rates, run_lr

    grid = parse_rates(rates)
    cfg = _study_options(config, eval_name, eval_data, judge, eval_limit, sets, lora, method, preset)
    with reporting(report_to):
        table = run_lr(model, data, out, cfg, grid, heldout, select_by)
    _print_study(table, out, report_to)
    typer.echo(f"final model: {out}/final/model  (use it as --model hf:{out}/final/model)")


@study_app.command("sizes")
def sizes_command(
    model: str = StudyModelOpt,
    data: Path = typer.Option(
        ..., "--data", "-d", help="pairs in selection-rank order (`synth export --dpo` from `select` picks)"
    ),
    out: Path = StudyOutOpt,
    sizes: str = typer.Option(
        "0,100,200,300,400,500,600,700,800,900,1000", "--sizes", help="top-k samples per culture (0: vanilla)"
    ),
    method: str = typer.Option("sft", "--method", help="sft (CAReDiO's) | dpo | kto | simpo"),
    lora: bool = StudyLoraOpt,
    config: Path | None = StudyConfigOpt,
    eval_name: str | None = EvalOpt,
    eval_data: Path | None = EvalDataOpt,
    judge: str | None = JudgeOpt,
    eval_limit: int | None = EvalLimitOpt,
    sets: list[str] | None = SetOpt,
    preset: str | None = PresetOpt,
    heldout: Path | None = StudyHeldoutOpt,
    report_to: str | None = ReportToOpt,
) -> None:
    """Training-set size in selection-rank order: the top k picks per culture, k = 100..1000 (CAReDiO Fig. 2)."""
    from culturalign.train.study_sizes import parse_sizes, run_sizes

    ks = parse_sizes(sizes)
    cfg = _study_options(config, eval_name, eval_data, judge, eval_limit, sets, lora, method, preset)
    with reporting(report_to):
        table = run_sizes(model, data, out, ks, cfg, heldout)
    _print_study(table, out, report_to)


# the fidelity effects over seeds live in their own module (it attaches to study_app)
from culturalign.cli import study_fidelity  # noqa: E402, F401
