"""``eval culturebank-quality`` and ``eval prism``: CAReDiO's two judged open-ended
benchmarks (paper 002 §4.1, Tables 5 and 6), rated 1-5 by the rubric judge and
tabulated per culture with n and 95% intervals. Thin: each command parses options and
calls one library function; heavy imports stay inside the commands."""

from __future__ import annotations

from pathlib import Path

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

JudgeOpt = typer.Option("embedded", "--judge", "-j", help="judge model spec (embedded is a weak stand-in)")
JudgeRetriesOpt = typer.Option(2, "--judge-retries", min=0, help="re-asks when a reply has no valid rating")
JudgeSamplesOpt = typer.Option(1, "--judge-samples", min=1, help="judgments per answer; the median is kept")
JudgeScoreOpt = typer.Option(
    "parsed",
    "--judge-score",
    help="parsed: the number the judge writes; expected: the mean of its probabilities over the "
    "scale after its commentary (local judges only)",
)
JudgeTokensOpt = typer.Option(512, "--judge-max-new-tokens", min=1, help="room for the judge's commentary")
SystemOpt = typer.Option(
    None, "--system-prompt", help="system message before every prompt (TEXT or @FILE), e.g. a role-play"
)
MaxTokensOpt = typer.Option(512, "--max-new-tokens", min=1, help="answer length limit")


def _judge_config(samples: int, retries: int, score: str, max_new_tokens: int):
    from culturalign.judge.core import JUDGE_PARAMS, JudgeConfig

    params = JUDGE_PARAMS.model_copy(update={"max_new_tokens": max_new_tokens})
    return JudgeConfig.build(samples, retries, params, score)


def _report(
    out: Path, summary, as_json: bool = False, strict: bool = False, report_to: str | None = None
) -> None:
    def show() -> None:
        from rich.console import Console

        typer.echo((out / "table.md").read_text(encoding="utf-8"))
        console = Console(stderr=True)
        c = summary.counts
        console.print(
            f"{c['ok']}/{c['items']} answers rated; results in {out} "
            "(answers.jsonl, judgments.jsonl, summary.json, table.md, run.json)"
        )
        for n in summary.notes:
            console.print(f"[yellow]note:[/yellow] {n}")

    report_run(out, show, as_json=as_json, strict=strict, report_to=report_to)


@eval_app.command("culturebank-quality")
def eval_culturebank_quality(
    data: Path = typer.Option(
        ..., "--data", "-d", help="CultureBank file with eval_question (or `synth grounded` output)"
    ),
    out: Path = typer.Option(..., "--out", "-o", help="run directory to write"),
    model: str = ModelOpt,
    judge: str = JudgeOpt,
    rubric: str = typer.Option(
        "culturebank_quality",
        "--rubric",
        help="built-in rubric name, a rubric file (1-5, {knowledge}), or 'grounded' for paper 003's "
        "three criteria (usefulness, cultural awareness, coherence)",
    ),
    system_prompt: str | None = SystemOpt,
    temperature: float = typer.Option(0.0, "--temperature", min=0.0, help="answer decoding (0 = greedy)"),
    max_new_tokens: int = MaxTokensOpt,
    judge_samples: int = JudgeSamplesOpt,
    judge_retries: int = JudgeRetriesOpt,
    judge_score: str = JudgeScoreOpt,
    judge_max_new_tokens: int = JudgeTokensOpt,
    limit: int | None = LimitOpt,
    limit_order: str = LimitOrderOpt,
    cache: str | None = CacheOpt,
    as_json: bool = JsonOpt,
    strict: bool = StrictOpt,
    report_to: str | None = ReportToOpt,
) -> None:
    """Answer CultureBank questions and rate each answer's quality 1-5 with a judge that
    reads the knowledge behind it; mean per cultural group (paper 002 Table 5)."""
    from culturalign.cli.common import system_prompt_arg
    from culturalign.evals.open_ended.culturebank_quality import (
        run_culturebank_quality,
        run_grounded_criteria,
    )
    from culturalign.evals.open_ended.grounded import load_grounded_questions
    from culturalign.judge.rubric import load_rubric
    from culturalign.records import GenerationParams

    limit_order_arg(limit_order)
    config = _judge_config(judge_samples, judge_retries, judge_score, judge_max_new_tokens)
    if rubric != "grounded":
        load_rubric(rubric)  # a bad rubric fails before any model loads
    questions = load_grounded_questions(data)
    model_lm = open_lm(model, cache)
    judge_lm = model_lm if judge == model else open_lm(judge, cache)
    options = {
        "params": GenerationParams(temperature=temperature, max_new_tokens=max_new_tokens),
        "judge": config,
        "limit": limit,
        "limit_order": limit_order,
        "system_prompt": system_prompt_arg(system_prompt),
        "data_path": data,
    }
    if rubric == "grounded":
        run_grounded_criteria(model_lm, judge_lm, questions, out, **options)

        def show() -> None:
            typer.echo((out / "criteria.md").read_text(encoding="utf-8"))
            typer.echo(
                f"one run per criterion under {out}; criteria.json holds the three summaries", err=True
            )

        report_run(out, show, as_json=as_json, strict=strict, report_to=report_to)
        return
    summary = run_culturebank_quality(model_lm, judge_lm, questions, out, rubric=rubric, **options)
    _report(out, summary, as_json, strict, report_to)


@eval_app.command("prism")
def eval_prism(
    data: Path = typer.Option(..., "--data", "-d", help="PRISM conversations.jsonl"),
    survey: Path | None = typer.Option(
        None, "--survey", help="PRISM survey.jsonl: gives each participant's culture (table rows, {culture})"
    ),
    culture_from: str = typer.Option(
        "birth", "--culture-from", help="participant culture: birth | reside (country) | locale (study)"
    ),
    out: Path = typer.Option(..., "--out", "-o", help="run directory to write"),
    model: str = ModelOpt,
    judge: str = JudgeOpt,
    topic_filter: str = typer.Option(
        "keywords",
        "--filter",
        help="which conversations count as culture-related: keywords | judge (asks the judge) | none",
    ),
    rubric: str = typer.Option(
        "prism_awareness", "--rubric", help="built-in rubric name or a rubric file (1-5, {culture})"
    ),
    system_prompt: str | None = SystemOpt,
    temperature: float = typer.Option(0.0, "--temperature", min=0.0, help="answer decoding (0 = greedy)"),
    max_new_tokens: int = MaxTokensOpt,
    judge_samples: int = JudgeSamplesOpt,
    judge_retries: int = JudgeRetriesOpt,
    judge_score: str = JudgeScoreOpt,
    judge_max_new_tokens: int = JudgeTokensOpt,
    limit: int | None = LimitOpt,
    limit_order: str = LimitOrderOpt,
    cache: str | None = CacheOpt,
    as_json: bool = JsonOpt,
    strict: bool = StrictOpt,
    report_to: str | None = ReportToOpt,
) -> None:
    """Answer the opening prompts of culture-related PRISM conversations and rate each
    answer's cultural awareness 1-5; mean per participant culture (paper 002 Table 6)."""
    from culturalign.cli.common import system_prompt_arg
    from culturalign.datasets.prism import load_conversations
    from culturalign.errors import ConfigError
    from culturalign.evals.open_ended.prism import FILTERS, run_prism
    from culturalign.judge.rubric import load_rubric
    from culturalign.records import GenerationParams

    limit_order_arg(limit_order)
    if topic_filter not in FILTERS:
        raise ConfigError(f"--filter must be one of {', '.join(FILTERS)}, not {topic_filter!r}")
    config = _judge_config(judge_samples, judge_retries, judge_score, judge_max_new_tokens)
    load_rubric(rubric)
    conversations = load_conversations(data, survey, culture_from=culture_from)
    model_lm = open_lm(model, cache)
    judge_lm = model_lm if judge == model else open_lm(judge, cache)
    summary = run_prism(
        model_lm,
        judge_lm,
        conversations,
        out,
        rubric=rubric,
        topic_filter=topic_filter,
        params=GenerationParams(temperature=temperature, max_new_tokens=max_new_tokens),
        judge=config,
        limit=limit,
        limit_order=limit_order,
        system_prompt=system_prompt_arg(system_prompt),
        data_paths=[p for p in (data, survey) if p is not None],
    )
    _report(out, summary, as_json, strict, report_to)
