"""`culturalign view`: every item of evaluation runs in one offline HTML page."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("view")(view)


def view(
    run_dirs: list[Path] = typer.Argument(
        ..., help="run directories (single evaluation runs, or an experiment's folder holding them)"
    ),
    out: Path = typer.Option(None, "--out", "-o", help="HTML file to write (default: RUN_DIR/view.html)"),
    serve: bool = typer.Option(False, "--serve", help="also serve the page on 127.0.0.1 until Ctrl-C"),
    port: int = typer.Option(0, "--port", help="port for --serve (0: any free port)"),
) -> None:
    """Write a page of every question, reference, answer side by side, judge reply,
    rating and attempt, with filters; links into it are described in `culturalign.view`."""
    from culturalign.view import serve as serve_page
    from culturalign.view import write_view
    from culturalign.view.server import check_port

    if serve:
        check_port(port)  # before the page is built, not after
    target = write_view(run_dirs, out)
    typer.echo(str(target))
    if not serve:
        return
    server, url = serve_page(target.read_text(encoding="utf-8"), port)
    typer.echo(f"serving on {url} (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
