"""`culturalign run`, `culturalign demo` and `culturalign report`: the main job."""

from __future__ import annotations

from pathlib import Path

import typer

from culturalign.cli.common import CacheOpt, ReportToOpt, cache_arg, track_run


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("demo")(demo)
    app.command("report")(report)


def run(
    experiment: str = typer.Argument(
        None, help="experiment YAML file, or the name of a shipped one (see --list)"
    ),
    out: Path = typer.Option(
        None, "--out", "-o", help="run directory (default runs/NAME, NAME the experiment's name)"
    ),
    overrides: list[str] = typer.Option(
        [], "--set", help="override a field: path.to.field=value (YAML value; list items by index or name)"
    ),
    list_: bool = typer.Option(False, "--list", help="list the shipped experiments and exit"),
    force: bool = typer.Option(False, help="re-run every stage even if unchanged"),
    cache: str = CacheOpt,
    report_to: str | None = ReportToOpt,
) -> None:
    """Run an experiment as stages; unchanged stages are skipped, interrupted runs resume."""
    from rich.console import Console

    from culturalign.errors import ConfigError

    if list_:
        from culturalign.pipeline.overrides import describe_shipped

        for name, text in describe_shipped():
            typer.echo(f"{name:10} {text}")
        return
    if experiment is None:
        raise ConfigError(
            "give an experiment file or a shipped experiment's name (see `culturalign run --list`)"
        )
    from culturalign.pipeline.runner import run_experiment
    from culturalign.trackers import reporting

    with reporting(report_to):  # every training stage reports its own run
        result = run_experiment(experiment, out, cache=cache_arg(cache), force=force, overrides=overrides)
    if report_to:
        track_run(report_to, Path(result["run_dir"]), _stage_summaries(Path(result["run_dir"]), result))
    s = result["spend"]
    Console().print(
        f"run directory: {result['run_dir']}  ({len(result['ran'])} stages ran, {len(result['skipped'])} skipped, "
        f"{result['seconds']}s; {s['calls']} model calls, {s['cache_hits']} cache hits, ${s['cost_usd']:.4f})"
    )


def _stage_summaries(run_dir: Path, result: dict) -> dict:
    """Every stage's ``summary.json`` under the run directory, by its folder, and the spend:
    what ``--report-to`` logs for a whole experiment."""
    import json

    found: dict = {"spend": result.get("spend") or {}}
    for path in sorted(run_dir.glob("*/summary.json")) + sorted(run_dir.glob("*/*/summary.json")):
        try:
            found[path.parent.relative_to(run_dir).as_posix()] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a stage's summary that is not readable JSON is not a metric
    return found


def demo(
    out: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="run directory"),
    cache: str = CacheOpt,
    force: bool = typer.Option(False, help="re-run every stage even if unchanged"),
) -> None:
    """The whole loop on the embedded model and the sample data: evaluate, align with
    DPO + LoRA, evaluate again, and write the report (about 10 minutes on 2 CPU cores)."""
    from culturalign.pipeline.demo import run_demo

    run_demo(out, cache=cache_arg(cache), force=force)


def report(
    run_dirs: list[Path] = typer.Argument(
        ..., help="run directories (an experiment run, or single evaluation runs)"
    ),
    out: Path = typer.Option(None, "--out", "-o", help="output file stem (default: RUN_DIR/report)"),
    fmt: list[str] = typer.Option(["html", "md"], "--format", "-f", help="html and/or md"),
    baseline: str = typer.Option(None, help="model (name or spec) to take deltas against"),
    annotations: list[Path] = typer.Option(
        [], "--annotations", help="an annotation database to report on (progress, agreement, ratings)"
    ),
    view: bool = typer.Option(
        True, "--view/--no-view", help="also write view.html beside the report; numbers link to their answers"
    ),
) -> None:
    """Write one self-contained HTML report (images embedded) and/or Markdown."""
    from culturalign.errors import ConfigError
    from culturalign.report.build import build_report, discover, has_results

    if not annotations and not has_results(
        discover(run_dirs)
    ):  # an empty report written into the folder helps no one
        raise ConfigError(
            f"{', '.join(map(str, run_dirs))}: no results to report (no run.json, "
            "culturalign-train.json or study.csv inside)"
        )
    from culturalign import view as viewer

    paths = build_report(
        run_dirs,
        out=out,
        formats=fmt,
        baseline=baseline,
        annotations=annotations,
        viewer=viewer if view else None,
    )
    for p in paths:
        typer.echo(str(p))
