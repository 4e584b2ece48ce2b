"""The `culturalign` command line. Thin: every command parses options and calls one
library function. Heavy libraries are imported inside commands, so `--help` is instant.
"""

from __future__ import annotations

import sys

import typer

from culturalign import __version__
from culturalign.cli.groups import (
    annotate_app,
    data_app,
    eval_app,
    models_app,
    study_app,
    synth_app,
    train_app,
)
from culturalign.errors import CulturalignError, path_error

app = typer.Typer(
    help="Measure and improve the regional cultural awareness of language models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)

# Importing a command module attaches its commands to the groups above (or to `app`).
from culturalign.cli import (  # noqa: E402
    annotate,
    data,
    eval_care,
    eval_choice,
    generate,
    grounded,
    models,
    run,
    select,
    synth,
    train,
)

for _group, _name in [
    (data_app, "data"),
    (models_app, "models"),
    (eval_app, "eval"),
    (train_app, "train"),
    (study_app, "study"),
    (synth_app, "synth"),
    (annotate_app, "annotate"),
]:
    app.add_typer(_group, name=_name)

for _module in (
    annotate,
    data,
    eval_care,
    eval_choice,
    generate,
    grounded,
    models,
    run,
    select,
    synth,
    train,
):
    register = getattr(_module, "register", None)
    if register is not None:
        register(app)  # top-level commands such as `generate`, `judge`, `select`, `run`


def _version(value: bool) -> None:
    if value:
        typer.echo(f"culturalign {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="print the version"
    ),
) -> None:
    """culturalign: data → synthesize and select → align → evaluate → report."""


def main() -> None:
    try:
        app()
    except CulturalignError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        sys.exit(exc.exit_code)
    except OSError as exc:
        located = path_error(exc)  # e.g. --out inside a file, or a folder where a file belongs
        if located is None:
            raise
        print(located, file=sys.stderr)
        sys.exit(located.exit_code)
    except KeyboardInterrupt:
        print("interrupted; finished results are kept and the next run resumes from them", file=sys.stderr)
        sys.exit(130)
