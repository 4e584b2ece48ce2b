"""Options shared by many commands, so they read the same everywhere."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

# short on purpose: the whole grammar lives in `culturalign models --help` (cli/groups.py),
# so an 80-column help table never cuts a spec in half
MODEL_HELP = "model spec: embedded, hf:ID, openai:MODEL or vllm:ID (grammar: culturalign models --help)"

ModelOpt = typer.Option("embedded", "--model", "-m", help=MODEL_HELP)
CacheOpt = typer.Option(
    None,
    "--cache",
    help="SQLite call cache ('off' disables it; default: $CULTURALIGN_CACHE, else calls.sqlite in "
    "culturalign's cache folder)",
)
LimitOpt = typer.Option(
    None, "--limit", "-n", min=1, help="use a sample of N items (how it is drawn: --limit-order)"
)
LimitOrderOpt = typer.Option(
    "stratified",
    "--limit-order",
    help="stratified: a seeded sample spread over the data's cultures, categories and regions in "
    "proportion; file: the first N items of the file",
)
TranslateWithOpt = typer.Option(
    None,
    "--translate-with",
    help="with --lang en: translate questions that have no English text with this model spec "
    "(cached; every output says how many were machine-translated)",
)


JsonOpt = typer.Option(
    False, "--json", help="print the run's summary as JSON on stdout (tables and status go to stderr)"
)
StrictOpt = typer.Option(
    False,
    "--strict",
    help="exit 1 when any model call failed or any judgment gave no valid rating (for CI)",
)


def _check_report_to(value: str | None) -> str | None:
    from culturalign.trackers import report_to_callback

    return report_to_callback(value)


ReportToOpt = typer.Option(
    None,
    "--report-to",
    metavar="TRACKERS",
    callback=_check_report_to,
    help="wandb, mlflow and/or tensorboard (comma separated; none: off): log training curves, the "
    "held-out gap and the summary's numbers",
)


def track_run(report_to: str | None, out: Path, summary: dict[str, Any], kind: str | None = None) -> None:
    """Send a finished run's numbers to the trackers ``--report-to`` names: the summary
    flattened, plus the model calls of ``run.json``; its models and settings as the run's
    configuration."""
    if not report_to:
        return
    import json

    from culturalign import trackers

    config: dict[str, Any] = {}
    metrics: dict[str, Any] = dict(summary)
    try:
        run_log = json.loads((out / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        run_log = None
    if isinstance(run_log, dict):
        config = {
            "models": {role: m.get("spec") for role, m in (run_log.get("models") or {}).items()},
            "settings": run_log.get("config") or {},
            "data": sorted(run_log.get("data") or {}),
        }
        metrics["calls"] = run_log.get("calls") or {}
    if kind is None:
        path = _command_path()
        kind = path.removeprefix("culturalign ") if path else "run"
    trackers.report_summary(report_to, out, kind, metrics, config=config)


def _command_path() -> str | None:
    """The running command's path ("culturalign eval care"). Typer 0.2x runs its own copy
    of click (``typer._click``), whose context ``click.get_current_context`` never sees;
    and the core install has no click of its own."""
    try:
        from typer._click.globals import get_current_context
    except ImportError:  # an older typer, built on click itself
        from click import get_current_context
    context = get_current_context(silent=True)
    return context.command_path if context else None


def report_run(
    out: Path, show: Callable[[], None], *, as_json: bool, strict: bool, report_to: str | None = None
) -> None:
    """The end of every eval command: ``show()`` prints the tables for a person; with
    ``--json`` stdout gets only the summary as written to OUT (``show`` goes to stderr,
    or nowhere under ``-q``), so ``culturalign eval ... --json | jq`` works; with
    ``--strict`` any failed call or invalid judgment (``evals.outcome``) exits 1; with
    ``--report-to`` the summary's numbers go to the trackers first."""
    import contextlib
    import json
    import sys

    from culturalign import progress
    from culturalign.evals.outcome import run_outcome

    outcome = run_outcome(out) if as_json or strict or report_to else None
    if outcome is not None and report_to:
        track_run(report_to, out, {**outcome.summary, "problems": len(outcome.problems)})
    if outcome is not None and as_json:
        if progress.verbosity() > progress.QUIET:
            with contextlib.redirect_stdout(sys.stderr):
                show()
        typer.echo(json.dumps(outcome.summary, ensure_ascii=False, indent=2))
    else:
        show()
    if strict and outcome is not None and outcome.problems:
        typer.echo(f"--strict: {'; '.join(outcome.problems)} (in {out})", err=True)
        raise typer.Exit(1)


def cache_arg(cache: str | None):
    """Translate the --cache option into what ``load_lm`` takes."""
    if cache is None:
        return "default"
    if cache.lower() in ("off", "none", "no"):
        return None
    return Path(cache)


def system_prompt_arg(value: str | None) -> str | None:
    """``--system-prompt TEXT`` or ``--system-prompt @FILE``."""
    if value is None or not value.startswith("@"):
        return value
    from culturalign.errors import ConfigError
    from culturalign.io import read_text_utf8

    path = Path(value[1:])
    if not path.is_file():
        raise ConfigError(f"--system-prompt: no such file {path}")
    return read_text_utf8(path).strip("\n")


def limit_order_arg(value: str) -> str:
    """Checked before any model is loaded."""
    from culturalign.sampling import LIMIT_ORDERS

    if value not in LIMIT_ORDERS:
        from culturalign.errors import ConfigError

        raise ConfigError(f"--limit-order must be one of {', '.join(LIMIT_ORDERS)}, not {value!r}")
    return value


def english_check(questions, lang: str, translate_with: str | None, source) -> None:
    """``--lang en`` without English text fails before a model is loaded; ``--translate-with``
    only makes sense with ``--lang en``."""
    from culturalign.errors import ConfigError
    from culturalign.translation import require_english

    if translate_with is not None and lang != "en":
        raise ConfigError("--translate-with needs --lang en (native questions are not translated)")
    if lang == "en" and translate_with is None:
        require_english(questions, source)


def open_lm(spec: str, cache: str | None):
    from culturalign.lm import load_lm

    return load_lm(spec, cache=cache_arg(cache))
