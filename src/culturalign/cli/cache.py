"""``culturalign cache ...``: maintenance of the call cache (``culturalign.lm.cache_parts``)."""

from __future__ import annotations

from pathlib import Path

import typer

from culturalign.cli.groups import cache_app


@cache_app.command("merge")
def merge(
    path: Path | None = typer.Argument(
        None, help="the main cache file (default: $CULTURALIGN_CACHE or ~/.cache/culturalign/calls.sqlite)"
    ),
    include_running: bool = typer.Option(
        False, "--include-running", help="also merge parts of processes still running on this host"
    ),
) -> None:
    """Fold the per-process part files (PATH.parts/HOST-PID.sqlite) into the main cache file.

    On a network filesystem (NFS, Lustre, ...) or with CULTURALIGN_CACHE_MODE=per-process,
    each process writes its own part file instead of the shared one; run this once the
    jobs are done so later runs read every result from the main file."""
    from culturalign.lm.cache_parts import merge_parts, parts_dir
    from culturalign.paths import default_call_cache

    main = path if path is not None else default_call_cache()
    if not parts_dir(main).is_dir():
        typer.echo(f"{main}: no part files to merge ({parts_dir(main)} does not exist)")
        return
    typer.echo(f"{main}: {merge_parts(main, include_running=include_running).summary()}")
