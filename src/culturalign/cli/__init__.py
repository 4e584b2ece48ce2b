"""The `culturalign` command line. Thin: every command parses options and calls one
library function. Heavy libraries are imported inside commands, so `--help` is instant.
"""

from __future__ import annotations

import sys

import typer

from culturalign import __version__
from culturalign.cli.groups import (
    annotate_app,
    cache_app,
    data_app,
    eval_app,
    models_app,
    study_app,
    synth_app,
    train_app,
)
from culturalign.errors import EXIT_BAD_INPUT, CulturalignError, path_error

app = typer.Typer(
    help="Measure and improve the regional cultural awareness of language models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)

# Importing a command module attaches its commands to the groups above (or to `app`).
from culturalign.cli import (  # noqa: E402
    annotate,
    cache,
    data,
    eval_care,
    eval_care_choice,
    eval_choice,
    eval_rubric,
    export,
    generate,
    grounded,
    models,
    run,
    select,
    synth,
    train,
    view,
)

for _group, _name in [
    (data_app, "data"),
    (models_app, "models"),
    (eval_app, "eval"),
    (train_app, "train"),
    (study_app, "study"),
    (synth_app, "synth"),
    (annotate_app, "annotate"),
    (cache_app, "cache"),
]:
    app.add_typer(_group, name=_name)

for _module in (
    annotate,
    cache,
    data,
    eval_care,
    eval_care_choice,
    eval_choice,
    eval_rubric,
    export,
    generate,
    grounded,
    models,
    run,
    select,
    synth,
    train,
    view,
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
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="only warnings and errors on stderr: no progress, no status lines"
    ),
    verbose: bool = typer.Option(
        False,
        "--verbose",
        "-v",
        help="debug lines too, and the libraries' own output (TRL's log dictionaries and bars)",
    ),
) -> None:
    """culturalign: data → synthesize and select → align → evaluate → report."""
    from culturalign import progress
    from culturalign.errors import ConfigError

    if quiet and verbose:
        raise ConfigError("--quiet and --verbose contradict each other; give one")
    progress.set_verbosity(progress.QUIET if quiet else progress.VERBOSE if verbose else progress.NORMAL)


_interrupted = False


def _on_sigint(signum: int, frame: object) -> None:
    """Python's own Ctrl-C behaviour, remembered: Typer turns the KeyboardInterrupt into a
    silent exit 130 before ``main`` sees it, so the flag is how ``main`` knows to speak."""
    global _interrupted
    _interrupted = True
    raise KeyboardInterrupt


def _say_interrupted() -> None:
    import signal
    import threading

    from culturalign.interrupts import message

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the line short
    print(f"\n{message()}", file=sys.stderr)
    sys.exit(130)


def main() -> None:
    import signal
    import threading

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        _run_app()
    finally:
        if previous is not None:  # main() called in-process (tests) leaves Ctrl-C as it found it
            signal.signal(signal.SIGINT, previous)


def command():
    """The click command behind ``app``, with its help laid out for narrow terminals
    (``cli/help_format.py``)."""
    from culturalign.cli.help_format import help_command

    return help_command(app)


def _run_app() -> None:
    try:
        command()(prog_name="culturalign")
    except SystemExit as exc:
        if _interrupted and exc.code == 130:
            _say_interrupted()
        raise
    except KeyboardInterrupt:
        _say_interrupted()
    except RecursionError:
        # a value nested past Python's recursion limit in some input no reader bounded yet
        print(
            "error: an input is nested too deeply to read (past Python's recursion limit); "
            "if no input file nests values hundreds of levels deep, please report this",
            file=sys.stderr,
        )
        sys.exit(EXIT_BAD_INPUT)
    except ModuleNotFoundError as exc:
        # an optional package missing deep inside a command: name the extra, not a traceback
        from culturalign.extras import missing_extra

        hint = missing_extra(exc)
        if hint is None:
            raise
        print(hint, file=sys.stderr)
        sys.exit(hint.exit_code)
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
