"""``eval opinions | culturalbench | cali | blend | mcq``: benchmarks scored from the
model's own probabilities, no judge (papers 002 §4.1 and 003 §5.2). Thin: each command
parses options, loads the data and calls one ``run_*`` function; heavy imports stay
inside the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from culturalign.cli.common import (
    CacheOpt,
    JsonOpt,
    LimitOpt,
    LimitOrderOpt,
    ModelOpt,
    ReportToOpt,
    StrictOpt,
    limit_order_arg,
    open_lm,
    report_run,
)
from culturalign.cli.groups import eval_app
from culturalign.sampling import LimitOrder

OutOpt = typer.Option(..., "--out", "-o", help="run directory to write (items.jsonl, summary.json, table.md)")
FormatOpt = typer.Option(None, "--format", "-f", help="data format (default: detected)")
ChatOpt = typer.Option(
    True,
    "--chat/--no-chat",
    help="wrap prompts in the model's chat template (--no-chat: raw text, as for base models)",
)
TemplatesOpt = typer.Option(None, "--templates", help="folder with your own choice/*.txt prompt templates")
RobustnessOpt = typer.Option(
    0,
    "--robustness",
    min=0,
    help="also score every item under K option orders (letters re-assigned) × three wordings and "
    "report the spread and argmax agreement (robustness.md; 0: off)",
)


def _data_opt(what: str):
    return typer.Option(..., "--data", "-d", help=what)


def _finish(
    summary: dict[str, Any],
    out: Path,
    as_json: bool = False,
    strict: bool = False,
    report_to: str | None = None,
) -> None:
    """Show the table (with its notes) and where the files are; or the JSON summary."""

    def show() -> None:
        typer.echo((out / "table.md").read_text(encoding="utf-8"))
        typer.echo(f"wrote {out}/items.jsonl, summary.json, table.md, table.csv, run.json")
        if (out / "lm_eval_results.json").is_file():
            typer.echo(f"wrote {out}/lm_eval_results.json (lm-evaluation-harness's results shape)")
        if summary.get("robustness"):
            typer.echo(f"wrote {out}/robustness.jsonl, robustness.md")

    report_run(out, show, as_json=as_json, strict=strict, report_to=report_to)


@eval_app.command("opinions")
def opinions(
    data: Path = _data_opt(
        "WVS folder, GlobalOpinionQA CSV, or JSONL of ChoiceItems (with target distributions)"
    ),
    out: Path = OutOpt,
    model: str = ModelOpt,
    fmt: str | None = FormatOpt,
    limit: int | None = LimitOpt,
    limit_order: LimitOrder = LimitOrderOpt,
    country: list[str] = typer.Option(
        [], "--country", help="only these countries, by name or WVS code (repeatable)"
    ),
    unsteered: bool = typer.Option(
        True,
        "--unsteered/--no-unsteered",
        help="also ask with no country named and rank the closest countries",
    ),
    closest: int = typer.Option(5, "--closest", min=1, help="how many closest countries to name"),
    similarity: str = typer.Option(
        "distance",
        "--similarity",
        help="distance: 1 − Jensen–Shannon distance (CAReDiO, GlobalOpinionQA) | divergence: "
        "1 − JS divergence (paper 003's cultureSim); base 2 both, not comparable with each other",
    ),
    chat: bool = ChatOpt,
    templates: Path | None = TemplatesOpt,
    cache: str | None = CacheOpt,
    robustness: int = RobustnessOpt,
    as_json: bool = JsonOpt,
    strict: bool = StrictOpt,
    report_to: str | None = ReportToOpt,
) -> None:
    """1 − Jensen–Shannon distance (or divergence, --similarity) between the model's answer
    distribution and each country's survey shares; cultureSim with its interval, the spread
    across countries, and the countries the unsteered model is closest to."""
    from culturalign.datasets.wvs import country_name
    from culturalign.evals.choice.data import opinion_items
    from culturalign.evals.choice.opinions import run_opinions
    from culturalign.evals.metrics import check_similarity_measure

    check_similarity_measure(similarity)  # a typo fails before the data and model load
    items = opinion_items(data, fmt)
    summary = run_opinions(
        open_lm(model, cache),
        items,
        out,
        countries=[country_name(c) for c in country] or None,  # WVS codes (USA) work too
        unsteered=unsteered,
        closest=closest,
        chat=chat,
        template_dir=templates,
        limit=limit,
        limit_order=limit_order,
        data_path=data,
        similarity=similarity,
        robustness=robustness,
    )
    _finish(summary, out, as_json, strict, report_to)


@eval_app.command("culturalbench")
def culturalbench(
    data: Path = _data_opt("CulturalBench-Easy.csv, CulturalBench-Hard.csv, or a folder with both"),
    out: Path = OutOpt,
    model: str = ModelOpt,
    fmt: str | None = FormatOpt,
    limit: int | None = LimitOpt,
    limit_order: LimitOrder = LimitOrderOpt,
    chat: bool = ChatOpt,
    templates: Path | None = TemplatesOpt,
    cache: str | None = CacheOpt,
    robustness: int = RobustnessOpt,
    as_json: bool = JsonOpt,
    strict: bool = StrictOpt,
    report_to: str | None = ReportToOpt,
) -> None:
    """Easy: accuracy over four lettered options. Hard: every option judged true or
    false; a question is right only when all its judgements are."""
    from culturalign.evals.choice.culturalbench import run_culturalbench
    from culturalign.evals.choice.data import culturalbench_items

    items = culturalbench_items(data, fmt)  # bad data fails before the model loads
    summary = run_culturalbench(
        open_lm(model, cache),
        items,
        out,
        chat=chat,
        template_dir=templates,
        limit=limit,
        limit_order=limit_order,
        data_path=data,
        robustness=robustness,
    )
    _finish(summary, out, as_json, strict, report_to)


@eval_app.command("cali")
def cali(
    data: Path = _data_opt("CALI data.tsv"),
    out: Path = OutOpt,
    model: str = ModelOpt,
    fmt: str | None = FormatOpt,
    limit: int | None = LimitOpt,
    limit_order: LimitOrder = LimitOrderOpt,
    culture: list[str] = typer.Option(
        [], "--culture", help="cultures to ask for (default: United States, India)"
    ),
    tune_threshold: bool = typer.Option(
        False, "--tune-threshold", help="tune an entailment threshold on a dev split; report on the rest"
    ),
    dev_fraction: float = typer.Option(
        0.3, "--dev-fraction", min=0.05, max=0.95, help="share of pairs for tuning"
    ),
    seed: int = typer.Option(0, "--seed", help="seed of the dev/test split"),
    chat: bool = ChatOpt,
    templates: Path | None = TemplatesOpt,
    cache: str | None = CacheOpt,
    robustness: int = RobustnessOpt,
    as_json: bool = JsonOpt,
    strict: bool = StrictOpt,
    report_to: str | None = ReportToOpt,
) -> None:
    """Macro-F1 and entailment F1 per culture: the model, given a persona of each
    culture, against the majority label of that culture's annotators."""
    from culturalign.evals.choice.cali import DEFAULT_CULTURES, run_cali
    from culturalign.evals.choice.data import cali_items

    items = cali_items(data, fmt)
    summary = run_cali(
        open_lm(model, cache),
        items,
        out,
        cultures=culture or DEFAULT_CULTURES,
        tune=tune_threshold,
        dev_fraction=dev_fraction,
        seed=seed,
        chat=chat,
        template_dir=templates,
        limit=limit,
        limit_order=limit_order_arg(limit_order),
        data_path=data,
        robustness=robustness,
    )
    _finish(summary, out, as_json, strict, report_to)


@eval_app.command("blend")
def blend(
    data: Path = _data_opt(
        "BLEnD folder (annotations/, questions/), one <Region>_data.json, or a BLEnD "
        "multiple-choice CSV (MCQID, ..., answer_idx)"
    ),
    out: Path = OutOpt,
    model: str = ModelOpt,
    fmt: str | None = FormatOpt,
    limit: int | None = LimitOpt,
    limit_order: LimitOrder = LimitOrderOpt,
    language: list[str] = typer.Option([], "--language", help="local and/or en (default: both)"),
    max_new_tokens: int = typer.Option(48, "--max-new-tokens", min=1, help="room for a short answer"),
    chat: bool = ChatOpt,
    templates: Path | None = TemplatesOpt,
    cache: str | None = CacheOpt,
    robustness: int = RobustnessOpt,
    as_json: bool = JsonOpt,
    strict: bool = StrictOpt,
    report_to: str | None = ReportToOpt,
) -> None:
    """Short answers in the local language and in English, scored by BLEnD's rules (SEM-B
    and SEM-W per region and language, with intervals and the questions left out); a
    multiple-choice CSV is scored by letter probabilities, accuracy per country."""
    from culturalign.evals.blend.run import LANGUAGES, run_blend
    from culturalign.evals.choice.data import blend_items

    if fmt == "blend-mcq" or (fmt is None and _is_blend_mcq(data)):
        from culturalign.datasets.blend_mcq import load as load_blend_mcq
        from culturalign.evals.choice.mcq import run_mcq

        choice_items = load_blend_mcq(data)  # bad data fails before the model loads
        mc = run_mcq(
            open_lm(model, cache),
            choice_items,
            out,
            chat=chat,
            template_dir=templates,
            limit=limit,
            limit_order=limit_order,
            data_path=data,
            robustness=robustness,
        )
        _finish(mc, out, as_json, strict, report_to)
        return
    if robustness:
        from culturalign.errors import ConfigError

        raise ConfigError(
            f"--robustness varies the order of lettered options; {data} holds short-answer questions "
            "(use a BLEnD multiple-choice CSV)"
        )
    items = blend_items(data, fmt)
    summary = run_blend(
        open_lm(model, cache),
        items,
        out,
        languages=language or LANGUAGES,
        max_new_tokens=max_new_tokens,
        chat=chat,
        template_dir=templates,
        limit=limit,
        limit_order=limit_order,
        data_path=data,
    )
    _finish(summary, out, as_json, strict, report_to)


def _is_blend_mcq(path: Path) -> bool:
    from culturalign.datasets.blend_mcq import sniff

    return sniff(path)


@eval_app.command("mcq")
def mcq(
    data: Path = _data_opt("INCLUDE / MMLU-style table, CulturalBench-Easy, or JSONL of ChoiceItems"),
    out: Path = OutOpt,
    model: str = ModelOpt,
    fmt: str | None = FormatOpt,
    limit: int | None = LimitOpt,
    limit_order: LimitOrder = LimitOrderOpt,
    mode: str = typer.Option(
        "letters", "--mode", help="letters: next-token letter probabilities; text: score each option's text"
    ),
    chat: bool = ChatOpt,
    templates: Path | None = TemplatesOpt,
    cache: str | None = CacheOpt,
    robustness: int = RobustnessOpt,
    as_json: bool = JsonOpt,
    strict: bool = StrictOpt,
    report_to: str | None = ReportToOpt,
) -> None:
    """Accuracy on multiple-choice questions (plus length-normalised accuracy with --mode text)."""
    from culturalign.evals.choice.data import mcq_items
    from culturalign.evals.choice.mcq import run_mcq

    items = mcq_items(data, fmt)
    summary = run_mcq(
        open_lm(model, cache),
        items,
        out,
        mode=mode,
        chat=chat,
        template_dir=templates,
        limit=limit,
        limit_order=limit_order_arg(limit_order),
        data_path=data,
        robustness=robustness,
    )
    _finish(summary, out, as_json, strict, report_to)
