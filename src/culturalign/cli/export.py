"""``export lm-eval``: culturalign's choice benchmarks as lm-evaluation-harness tasks.
Thin: parses options and calls ``culturalign.interop.lm_eval.export_lm_eval``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from culturalign.cli.common import LimitOpt, LimitOrderOpt, limit_order_arg
from culturalign.sampling import LimitOrder

export_app = typer.Typer(
    help="Write culturalign's benchmarks in other tools' formats (lm-evaluation-harness tasks).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")


@export_app.command("lm-eval")
def lm_eval(
    out: Path = typer.Argument(..., help="folder for the task YAML, JSONL and utils.py (created)"),
    benchmark: str = typer.Option(
        ..., "--benchmark", "-b", help="opinions | culturalbench | cali | blend-mcq | mcq"
    ),
    data: Path = typer.Option(
        ..., "--data", "-d", help="the benchmark's data, as `culturalign eval` reads it"
    ),
    fmt: str | None = typer.Option(None, "--format", "-f", help="data format (default: detected)"),
    limit: int | None = LimitOpt,
    limit_order: LimitOrder = LimitOrderOpt,
    country: list[str] = typer.Option([], "--country", help="opinions: only these countries (repeatable)"),
    culture: list[str] = typer.Option(
        [], "--culture", help="cali: annotator cultures, one task each (default: United States, India)"
    ),
    similarity: str = typer.Option(
        "distance",
        "--similarity",
        help="opinions: distance (1 − JS distance) | divergence (1 − JS divergence)",
    ),
    mode: str = typer.Option(
        "letters", "--mode", help="mcq, blend-mcq: letters (after 'Answer: (') | text (option texts)"
    ),
    templates: Path | None = typer.Option(
        None, "--templates", help="folder with your own choice/*.txt prompt templates"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the tasks written, as JSON on stdout"),
) -> None:
    """Task YAML + documents whose prompts are exactly those `culturalign eval ... --no-chat`
    scores, so `lm_eval --include_path OUT --tasks culturalign` gives the same per-option
    log-likelihoods; the metrics lm-eval lacks live in OUT/utils.py."""
    from culturalign.interop.lm_eval import export_lm_eval, load_items

    order = limit_order_arg(limit_order)
    items = load_items(benchmark, data, fmt)
    result = export_lm_eval(
        out,
        benchmark,
        items,
        template_dir=templates,
        countries=country or None,
        cultures=culture or None,
        similarity=similarity,
        mode=mode,
        limit=limit,
        limit_order=order,
        data_path=data,
    )
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    for name, info in result["tasks"].items():
        typer.echo(f"{name}: {info['docs']} documents; metrics {', '.join(info['metrics'])}")
    names = ",".join(result["tasks"])
    typer.echo(
        f"wrote {out}; run: lm_eval --model hf --model_args pretrained=MODEL --include_path {out} --tasks {names}"
    )
