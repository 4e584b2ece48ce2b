"""The ``--help`` layout: readable on an 80-column (or narrower) terminal.

Typer draws every option as six columns (long name, short name, negative long name,
negative short name, type, help). On a narrow terminal the help text is left a column
a dozen characters wide, and a word longer than that is cut with ``…``. Here every
option becomes two cells, the way ``argparse`` and ``click`` lay them out: the names
with their value (``-n, --limit N``, ``--chat / --no-chat``) and the help beside them,
or on the next line when the names are long. The value names are tidied too: a flag
or a text option shows no ``<bool>``/``<str>``, paths and numbers say ``PATH``/``N``.

Both are applied to the click command that Typer builds (``help_command``), so the
command definitions themselves stay plain Typer.
"""

from __future__ import annotations

from typing import Any

import typer

# names wider than this put their help on the next line instead of squeezing it
NAME_WIDTH = 26
_SHORT_NAMES = {"Path": "PATH", "int": "N", "float": "X", "list[str]": "TEXT", "list[Path]": "PATH"}


def _tidy_metavars(cmd: Any) -> None:
    """No type after flags and text options; short names for paths and numbers."""
    from typer.core import TyperArgument, TyperOption

    for param in cmd.params:
        if isinstance(param, TyperArgument):
            param.display_type_rich = lambda ctx: ""  # its name says it
            if param.metavar is None:
                param.metavar = param.name.upper()  # `RUNS...` in the usage line, not `{runs}...`
        if not isinstance(param, TyperOption) or param.metavar is not None:
            continue
        if param.is_flag or param.bare_type() in ("str", "bool"):
            param.metavar = ""
        elif param.bare_type() in _SHORT_NAMES:
            param.metavar = _SHORT_NAMES[param.bare_type()]
    made = cmd.get_help_option  # --help is made per call, not kept in cmd.params

    def help_option(ctx, _made=made):
        option = _made(ctx)
        if option is not None:
            option.metavar = ""
        return option

    cmd.get_help_option = help_option
    for sub in getattr(cmd, "commands", {}).values():
        _tidy_metavars(sub)


def _names(param: Any, ctx: Any) -> str:
    """``-n, --limit N [x>=1]`` / ``--chat / --no-chat`` / ``DATA`` for an argument."""
    from typer.core import TyperArgument

    if isinstance(param, TyperArgument):
        text = param.metavar or param.display_name_raw
        if param.nargs != 1:
            text += "..."
    else:
        short = [o for o in param.opts if not o.startswith("--")]
        long = [o for o in param.opts if o.startswith("--")]
        text = ", ".join(short + long)
        if param.secondary_opts:
            text += " / " + ", ".join(param.secondary_opts)
    kind = param.display_type_rich(ctx=ctx)
    if kind and not isinstance(param, TyperArgument):
        text += f" {kind}"
    limits = param._get_number_range_help_str()
    if limits:
        text += f" [{limits}]"
    return ("* " if param.required else "  ") + text


def options_panel(*, name: str, params: list[Any], ctx: Any, markup_mode: Any, console: Any) -> None:
    """Drop-in for ``typer.rich_utils._print_options_panel`` with the two-cell layout."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text
    from typer import rich_utils as ru

    if not params:
        return
    rows = [
        (_names(p, ctx), ru._get_parameter_help(param=p, ctx=ctx, markup_mode=markup_mode)) for p in params
    ]
    width = min(NAME_WIDTH, max(len(n) for n, _ in rows))
    parts: list[Any] = []
    for names, help_cell in rows:
        label = ru.highlighter(Text(names))
        if len(names) > width:  # the names on their own line, never cut
            parts += [label, Padding(help_cell, (0, 0, 0, width + 1))]
            continue
        row = Table.grid(expand=True, padding=(0, 1))
        row.add_column(no_wrap=True, width=width)
        row.add_column(ratio=1)
        row.add_row(label, help_cell)
        parts.append(row)
    console.print(
        Panel(Group(*parts), border_style=ru.STYLE_OPTIONS_PANEL_BORDER, title=name, title_align="left")
    )


def help_command(app: typer.Typer) -> Any:
    """The click command behind ``app``, with the help laid out for any terminal width."""
    from typer import rich_utils

    rich_utils._print_options_panel = options_panel  # type: ignore[assignment]
    root = typer.main.get_command(app)
    _tidy_metavars(root)
    return root
