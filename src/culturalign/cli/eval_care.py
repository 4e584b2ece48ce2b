"""``eval care``, ``eval care-table``, ``eval judge-agreement`` and the top-level ``judge``
(CARE's LM-as-a-judge evaluation, paper 000 §4.1, §5, appendix C). Thin: options are
parsed here and handed to one library function each; heavy imports stay inside."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import typer

from culturalign.cli.common import (
    CacheOpt,
    JsonOpt,
    LimitOpt,
    LimitOrderOpt,
    ModelOpt,
    ReportToOpt,
    StrictOpt,
    TranslateWithOpt,
    english_check,
    limit_order_arg,
    open_lm,
    report_run,
    system_prompt_arg,
)
from culturalign.cli.groups import eval_app
from culturalign.sampling import LimitOrder

JudgeOpt = typer.Option("embedded", "--judge", "-j", help="judge model spec (embedded is a weak stand-in)")
JudgeTemplateOpt = typer.Option(
    None,
    "--judge-template",
    help="folder with your own entities_opinion.txt, norms_commonsense.txt, literacy.txt "
    "(placeholders {question} {answer} {response})",
)
JudgeSamplesOpt = typer.Option(1, "--judge-samples", min=1, help="judgments per response; the median is kept")
JudgeRetriesOpt = typer.Option(2, "--judge-retries", min=0, help="re-asks when a reply has no valid rating")
JudgeScoreOpt = typer.Option(
    "parsed",
    "--judge-score",
    help="parsed: the number the judge writes (CARE); expected: the mean of its 1-10 "
    "probabilities after its commentary (no ties, nothing unparsed; local judges only)",
)
JudgeTokensOpt = typer.Option(512, "--judge-max-new-tokens", min=1, help="room for the judge's commentary")
FormatOpt = typer.Option(None, "--format", "-f", help="data format (default: detected)")

Mode = Literal["vanilla", "cot", "roleplay"]
JudgeScore = Literal["parsed", "expected"]


def _console():
    """Wide when piped to a file, so the CARE tables are not squeezed into 80 columns."""
    import sys

    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=200)


def _questions(path: Path, fmt: str | None):
    from culturalign.datasets import load_any
    from culturalign.errors import ConfigError
    from culturalign.records import CulturalQuestion

    name, records = load_any(path, fmt)
    questions = [r for r in records if isinstance(r, CulturalQuestion)]
    if not questions:
        raise ConfigError(f"{path}: read as {name!r}, which holds no culture-specific questions")
    return questions


def _judge_params(max_new_tokens: int):
    from culturalign.judge.core import JUDGE_PARAMS

    return JUDGE_PARAMS.model_copy(update={"max_new_tokens": max_new_tokens})


def _print_notes(console, notes) -> None:
    for n in notes:
        console.print(f"[yellow]note:[/yellow] {n}")


@eval_app.command("care")
def care(
    data: Path = typer.Option(
        ..., "--data", "-d", help="CARE test file (or any file of culture-specific questions)"
    ),
    out: Path = typer.Option(..., "--out", "-o", help="run directory to write"),
    model: str = ModelOpt,
    judge: str = JudgeOpt,
    fmt: str | None = FormatOpt,
    mode: str = typer.Option("vanilla", "--mode", help="prompting mode: vanilla | cot | roleplay"),
    lang: str = typer.Option(
        "native", "--lang", help="native | en (the English translations; see --translate-with)"
    ),
    translate_with: str | None = TranslateWithOpt,
    limit: int | None = LimitOpt,
    limit_order: LimitOrder = LimitOrderOpt,
    samples: int = typer.Option(
        1,
        "--n-samples",
        "--samples",
        min=1,
        help="responses per question (averaged per item), as in generate",
    ),
    temperature: float = typer.Option(0.7, "--temperature", min=0, help="model decoding (CARE: 0.7)"),
    max_new_tokens: int = typer.Option(1024, "--max-new-tokens", min=1, help="model decoding (CARE: 1024)"),
    system_prompt: str | None = typer.Option(
        None, "--system-prompt", help="replace the mode's system text: TEXT or @FILE"
    ),
    templates: Path | None = typer.Option(
        None, "--templates", help="folder of your own prompting-mode files"
    ),
    judge_template: Path | None = JudgeTemplateOpt,
    judge_samples: int = JudgeSamplesOpt,
    judge_retries: int = JudgeRetriesOpt,
    judge_score: JudgeScore = JudgeScoreOpt,
    judge_max_new_tokens: int = JudgeTokensOpt,
    baseline: Path | None = typer.Option(
        None, "--baseline", help="another run directory: also print differences"
    ),
    cache: str | None = CacheOpt,
    as_json: bool = JsonOpt,
    strict: bool = StrictOpt,
    report_to: str | None = ReportToOpt,
) -> None:
    """Answer each question with --model, rate each answer 1-10 against the reference with
    --judge, and write responses, judgments, summary.json and the CARE table to --out."""
    from culturalign.errors import ConfigError
    from culturalign.evals.care.judged import run_care_eval
    from culturalign.evals.care.tables import category_table, delta_table, load_run, to_rich
    from culturalign.records import GenerationParams

    if lang not in ("native", "en"):
        raise ConfigError(f"--lang must be 'native' or 'en', not {lang!r}")
    system = system_prompt_arg(system_prompt)
    baseline_run = load_run(baseline) if baseline is not None else None
    from culturalign.sampling import sample_limit

    # a sample without English text fails here, before any model is loaded
    questions = sample_limit(_questions(data, fmt), limit, order=limit_order_arg(limit_order))
    english_check(questions, lang, translate_with, data)
    params = GenerationParams(temperature=temperature, max_new_tokens=max_new_tokens)
    summary = run_care_eval(
        open_lm(model, cache),
        open_lm(judge, cache),
        questions,
        out,
        mode=mode,
        lang=lang,
        n_samples=samples,
        judge_samples=judge_samples,
        judge_retries=judge_retries,
        judge_score=judge_score,
        params=params,
        judge_template_dir=judge_template,
        limit=limit,
        limit_order=limit_order,
        judge_params=_judge_params(judge_max_new_tokens),
        data_path=data,
        system_prompt=system,
        template_dir=templates,
        translate_with=translate_with,
    )

    def show() -> None:
        console = _console()
        run = load_run(out)
        console.print(to_rich(category_table([run])))
        if baseline_run is not None:
            console.print(to_rich(delta_table([run], baseline_run)))
        c = summary.counts
        console.print(
            f"{c['judgments']} responses judged: {c['rated']} rated, {c['invalid']} invalid, "
            f"{c['skipped']} skipped → {out}"
        )

    report_run(out, show, as_json=as_json, strict=strict, report_to=report_to)


@eval_app.command("care-table")
def care_table(
    runs: list[Path] = typer.Argument(..., help="run directories (or judgments files), one row each"),
    by: str = typer.Option("category", "--by", help="category | scope | mode"),
    baseline: Path | None = typer.Option(None, "--baseline", help="a run to show the others against"),
    md: Path | None = typer.Option(None, "--md", help="also write the table as Markdown"),
    csv_out: Path | None = typer.Option(None, "--csv", help="also write the table as CSV"),
    as_json: bool = typer.Option(False, "--json", help="print the table as JSON on stdout instead"),
    strict: bool = typer.Option(
        False, "--strict", help="exit 1 when any run has invalid or skipped judgments"
    ),
) -> None:
    """CARE's tables across runs: by category (Tables 1, 4), differences from a baseline
    (Table 2), by geographic scope (Table 8) or by prompting mode (Table 3)."""
    from culturalign.errors import ConfigError
    from culturalign.evals.care.tables import (
        category_table,
        delta_table,
        load_run,
        mode_table,
        scope_table,
        to_csv,
        to_markdown,
        to_rich,
    )
    from culturalign.io import atomic_write_text

    loaded = [load_run(p) for p in runs]
    if baseline is not None:
        if by != "category":
            raise ConfigError("--baseline differences are shown by category; drop --by or --baseline")
        base = load_run(baseline)
        table = delta_table([r for r in loaded if r.path != base.path], base)
    elif by == "category":
        table = category_table(loaded)
    elif by == "scope":
        table = scope_table(loaded)
    elif by == "mode":
        table = mode_table(loaded)
    else:
        raise ConfigError(f"--by must be category, scope or mode, not {by!r}")
    if as_json:
        import dataclasses
        import json

        typer.echo(json.dumps(dataclasses.asdict(table), ensure_ascii=False, indent=2))
    else:
        _console().print(to_rich(table))
    if md is not None:
        atomic_write_text(md, to_markdown(table))
    if csv_out is not None:
        atomic_write_text(csv_out, to_csv(table))
    short = [f"{r.label}: {r.invalid} invalid, {r.skipped} skipped" for b in table.blocks for r in b.rows]
    if strict and any(r.invalid or r.skipped for b in table.blocks for r in b.rows):
        typer.echo(f"--strict: {'; '.join(short)}", err=True)
        raise typer.Exit(1)


@eval_app.command("judge-agreement")
def judge_agreement(
    data: Path = typer.Option(
        ..., "--data", "-d", help="responses with human ratings (CARE preference shape)"
    ),
    out: Path = typer.Option(..., "--out", "-o", help="folder for judgments, agreement.json, histograms.png"),
    judge: str = JudgeOpt,
    fmt: str | None = FormatOpt,
    limit: int | None = typer.Option(
        None, "--limit", "-n", min=1, help="use a sample of N questions (how it is drawn: --limit-order)"
    ),
    limit_order: LimitOrder = LimitOrderOpt,
    judge_template: Path | None = JudgeTemplateOpt,
    judge_samples: int = JudgeSamplesOpt,
    judge_retries: int = JudgeRetriesOpt,
    judge_score: JudgeScore = JudgeScoreOpt,
    judge_max_new_tokens: int = JudgeTokensOpt,
    cache: str | None = CacheOpt,
    as_json: bool = JsonOpt,
    strict: bool = StrictOpt,
    report_to: str | None = ReportToOpt,
) -> None:
    """Judge human-rated responses and report Pearson, Spearman and Kendall's tau with
    both rating histograms (CARE appendix C.2, Figure 10)."""
    from culturalign.judge.agreement import run_judge_agreement

    report = run_judge_agreement(
        open_lm(judge, cache),
        _questions(data, fmt),
        out,
        judge_samples=judge_samples,
        judge_retries=judge_retries,
        judge_score=judge_score,
        judge_params=_judge_params(judge_max_new_tokens),
        judge_template_dir=judge_template,
        limit=limit,
        limit_order=limit_order_arg(limit_order),
        data_path=data,
    )
    report_run(out, lambda: _show_agreement(report, out), as_json=as_json, strict=strict, report_to=report_to)


def _show_agreement(report, out: Path) -> None:
    console = _console()
    s = report.stats

    def f(x: float | None) -> str:
        return "undefined" if x is None else f"{x:.3f}"

    console.print(f"judge {report.judge}: {s.n_pairs} pairs")
    console.print(f"  Pearson {f(s.pearson)}   Spearman {f(s.spearman)}   Kendall tau {f(s.kendall_tau)}")
    console.print(
        f"  {report.n_invalid} invalid, {report.n_skipped} skipped, "
        f"{report.n_self_reference} left out (the response is the reference answer)"
    )
    if s.note:
        console.print(f"  {s.note}")
    console.print("  rating  human  judge")
    for b in sorted(s.human_histogram):
        console.print(f"  {b:>6}  {s.human_histogram[b]:>5}  {s.judge_histogram.get(b, 0):>5}")
    _print_notes(console, report.notes)
    console.print(f"→ {out / 'agreement.json'}, {out / 'histograms.png'}")


def judge_command(
    responses: Path = typer.Option(
        ..., "--responses", "-r", help="responses file (JSONL, JSON, CSV, TSV, Parquet)"
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="judgments JSONL to write (tables are written beside it)"
    ),
    judge: str = JudgeOpt,
    data: Path | None = typer.Option(
        None, "--data", "-d", help="questions file to join by id or question text"
    ),
    fmt: str | None = FormatOpt,
    lang: str = typer.Option("native", "--lang", help="which question/reference text to use from --data"),
    per_item: str = typer.Option(
        "mean", "--per-item", help="several responses per item: mean, or max (CARE Table 4's web pages)"
    ),
    limit: int | None = LimitOpt,
    limit_order: LimitOrder = LimitOrderOpt,
    judge_template: Path | None = JudgeTemplateOpt,
    judge_samples: int = JudgeSamplesOpt,
    judge_retries: int = JudgeRetriesOpt,
    judge_score: JudgeScore = JudgeScoreOpt,
    judge_max_new_tokens: int = JudgeTokensOpt,
    label: str | None = typer.Option(
        None, "--label", help="row name in tables (default: the output file name)"
    ),
    cache: str | None = CacheOpt,
    as_json: bool = JsonOpt,
    strict: bool = StrictOpt,
    report_to: str | None = ReportToOpt,
) -> None:
    """Rate any responses 1-10 against reference answers with CARE's rubrics, so any text
    source (another system, retrieved web passages) is scored like a model."""
    from culturalign.errors import ConfigError
    from culturalign.evals.care.judged import judge_responses_stage
    from culturalign.evals.care.tables import CareRun, category_table, to_rich
    from culturalign.judge.inputs import read_judge_inputs
    from culturalign.judge.rubric import load_rubrics

    if per_item not in ("mean", "max"):
        raise ConfigError(f"--per-item must be mean or max, not {per_item!r}")
    if lang not in ("native", "en"):
        raise ConfigError(f"--lang must be 'native' or 'en', not {lang!r}")
    load_rubrics(judge_template)  # a bad template folder fails before any work
    questions = _questions(data, fmt) if data is not None else None
    from culturalign.sampling import sample_limit

    items = sample_limit(
        read_judge_inputs(responses, questions, lang=lang),
        limit,
        order=limit_order_arg(limit_order),
        strata=lambda i: (i.culture, i.category),
        key=lambda i: f"{i.item_id}\x1f{i.model}\x1f{i.sample_index}",
    )
    _, summary = judge_responses_stage(
        open_lm(judge, cache),
        items,
        out,
        judge_samples=judge_samples,
        judge_retries=judge_retries,
        judge_score=judge_score,
        judge_params=_judge_params(judge_max_new_tokens),
        judge_template_dir=judge_template,
        aggregate=per_item,  # type: ignore[arg-type]
        label=label,
        inputs=[p for p in (responses, data) if p is not None],
    )

    def show() -> None:
        console = _console()
        console.print(to_rich(category_table([CareRun(summary.label, summary, out)])))
        c = summary.counts
        console.print(
            f"{c['judgments']} responses judged: {c['rated']} rated, {c['invalid']} invalid → {out}"
        )

    report_run(out, show, as_json=as_json, strict=strict, report_to=report_to)


def register(app: typer.Typer) -> None:
    app.command("judge")(judge_command)
