"""``eval care-choice``: CARE scored without a judge, as multiple choice over human
reference answers (``culturalign.evals.care.choice``)."""

from __future__ import annotations

from pathlib import Path

import typer

from culturalign.cli.common import (
    CacheOpt,
    JsonOpt,
    ModelOpt,
    ReportToOpt,
    StrictOpt,
    open_lm,
    report_run,
)
from culturalign.cli.groups import eval_app


@eval_app.command("care-choice")
def care_choice(
    data: Path = typer.Option(..., "--data", "-d", help="CARE questions with reference answers"),
    out: Path = typer.Option(..., "--out", "-o", help="run directory to write"),
    model: str = ModelOpt,
    fmt: str | None = typer.Option(None, "--format", "-f", help="data format (default: detected)"),
    k: int = typer.Option(3, "--k", min=1, help="other references each question's own is compared with"),
    lang: str = typer.Option(
        "native", "--lang", help="native, or en (needs English questions and references)"
    ),
    seed: int = typer.Option(0, "--seed", help="seed of the deterministic distractor draw"),
    chat: bool = typer.Option(True, "--chat/--no-chat", help="wrap the question in the chat template"),
    templates: Path | None = typer.Option(None, "--templates", help="folder with your own choice/*.txt"),
    cache: str | None = CacheOpt,
    as_json: bool = JsonOpt,
    strict: bool = StrictOpt,
    report_to: str | None = ReportToOpt,
) -> None:
    """Judge-free CARE: for each question, its human reference against K references of
    other questions of the same culture and category, picked by the model's
    log-likelihood per character. Accuracy per culture x category with 95% intervals;
    chance is 1/(K+1). No judge calls."""
    from culturalign.cli.eval_care import _questions
    from culturalign.errors import ConfigError
    from culturalign.evals.care.choice import run_care_choice

    if lang not in ("native", "en"):
        raise ConfigError(f"--lang must be native or en, not {lang!r}")
    summary = run_care_choice(
        open_lm(model, cache),
        _questions(data, fmt),
        out,
        k=k,
        lang=lang,
        seed=seed,
        chat=chat,
        template_dir=templates,
        data_path=data,
    )

    def show() -> None:
        typer.echo((out / "table.md").read_text(encoding="utf-8"))
        o = summary["overall"]
        typer.echo(f"{summary['questions']} questions scored, {summary['failed']} failed → {out}")
        if o.get("accuracy") is not None and o.get("ci_low") is not None:
            typer.echo(
                f"accuracy {o['accuracy']:.3f} [{o['ci_low']:.3f}, {o['ci_high']:.3f}] "
                f"vs chance {o['chance']:.3f}"
            )

    report_run(out, show, as_json=as_json, strict=strict, report_to=report_to)
