"""`culturalign annotate ...`: the annotation web app and its data (paper 000 §3.2, appendix A).

Nothing heavy is imported here; FastAPI and friends load only inside ``serve``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from culturalign.cli.groups import annotate_app

DbOpt = typer.Option(
    "annotations.sqlite", "--db", help="SQLite file (WAL mode), or a postgresql:// URL for a team server"
)

users_app = typer.Typer(
    help="Annotators and coordinators: add them, issue sign-in links, list them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
annotate_app.add_typer(users_app, name="users")


def _store(db: str, *, existing: bool = False):
    """The store, opened and connected once here so that a --db that is not a database
    (a text file, a folder, an unreachable server) is a plain error, not a traceback.
    ``existing``: commands that only read must not create an empty database."""
    from sqlalchemy.exc import SQLAlchemyError

    from culturalign.annotate.store import Store
    from culturalign.errors import ConfigError

    if existing and "://" not in db and not Path(db).is_file():
        raise ConfigError(
            f"--db {db}: no such annotation database (create one with `culturalign annotate import`, "
            "or give `annotate serve` --create for an empty one)"
        )
    try:
        store = Store(db)
        with store.read():
            pass
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ConfigError(f"--db {db}: cannot open the annotation database ({reason})") from None
    return store


@annotate_app.command("serve")
def serve_cmd(
    db: str = DbOpt,
    host: str = typer.Option("127.0.0.1", "--host", help="interface to listen on"),
    port: int = typer.Option(8080, "--port", min=0, max=65535, help="TCP port"),
    max_body: int = typer.Option(
        64 * 1024, "--max-body", min=1, help="largest request body accepted, in bytes"
    ),
    secure_cookies: bool = typer.Option(
        False, "--secure-cookies", help="mark cookies Secure (when served over HTTPS, e.g. behind a proxy)"
    ),
    create: bool = typer.Option(
        False, "--create", help="start with an empty database when --db does not exist yet"
    ),
    base_url: str = typer.Option(
        None,
        "--base-url",
        help="the address annotators open (behind a proxy); default http://HOST:PORT. "
        "Sign-in links from `annotate users` use it",
    ),
) -> None:
    """Serve the annotation app (server-rendered pages; no front-end build)."""
    from culturalign.annotate.server import public_url, serve

    store = _store(db, existing=not create)  # a bad --db fails here, not inside the server's startup
    url = base_url or public_url(host, port)
    store.set_setting("base_url", url)
    store.dispose()
    typer.echo(f"annotation app on {url} (listening on {host}:{port}; database: {db})", err=True)
    serve(db, host=host, port=port, max_body=max_body, secure_cookies=secure_cookies)


@annotate_app.command("import")
def import_cmd(
    files: list[Path] = typer.Argument(
        ..., help="question JSONL (with responses) and/or ModelResponse JSONL files"
    ),
    db: str = DbOpt,
    per_item: int = typer.Option(
        None, "--per-item", "-k", help="annotators per item (default 2; kept for later imports)"
    ),
    tasks: str = typer.Option(
        "rank,classify", "--tasks", help="tasks for these items: rank, classify, rubric"
    ),
    reference_as_response: bool = typer.Option(
        False,
        "--reference-as-response",
        help="also offer the human reference answer as a candidate (as CARE did)",
    ),
    language: str = typer.Option(None, "--language", help="ISO 639-1 code for items whose files give none"),
    culture: str = typer.Option(
        None, "--culture", help="culture for items whose files name none, e.g. Japanese"
    ),
) -> None:
    """Import questions and candidate responses; assign them to annotators."""
    from culturalign.annotate.importer import import_files, parse_tasks

    store = _store(db)
    report = import_files(
        store,
        files,
        tasks=parse_tasks(tasks),
        per_item=per_item,
        reference_as_response=reference_as_response,
        language=language,
        culture=culture,
    )
    s = report.summary
    typer.echo(
        f"imported {report.items} items with {report.responses} responses from {report.files} file(s): "
        f"{s.new} new, {s.updated} updated (new version), {s.unchanged} unchanged; "
        f"{s.assigned} new assignments ({store.per_item} annotator(s) per item)"
    )
    if report.skipped_failed:
        typer.echo(
            f"skipped {report.skipped_failed} failed or empty generations (no text to judge)", err=True
        )
    if not store.annotators():
        typer.echo("no annotators yet: add them with `culturalign annotate users add NAME`", err=True)


BaseUrlOpt = typer.Option(
    None,
    "--base-url",
    help="where the app is served; default: what `annotate serve` last served on, else http://127.0.0.1:8080",
)
CulturesOpt = typer.Option(
    None, "--cultures", help="comma-separated cultures this person judges, e.g. Japanese (default: any)"
)
LanguagesOpt = typer.Option(
    None, "--languages", help="comma-separated ISO 639-1 codes this person reads, e.g. ja,en (default: any)"
)


def _base_url(store, given: str | None) -> str:
    return given or store.get_setting("base_url") or "http://127.0.0.1:8080"


def _routing_line(result) -> str:
    moved = f" ({result.moved} unstarted moved from busier annotators)" if result.moved else ""
    withdrawn = f"; {result.withdrawn} withdrawn (can no longer judge them)" if result.withdrawn else ""
    unrouted = (
        f"; {result.unrouted} item(s) have fewer than --per-item annotators who can judge them"
        if result.unrouted
        else ""
    )
    return f"{result.added + result.moved} item(s) assigned{moved}{withdrawn}{unrouted}"


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="annotator name as shown in the app and exports"),
    db: str = DbOpt,
    admin: bool = typer.Option(False, "--admin", help="a coordinator: sees agreement, gets no items"),
    cultures: str = CulturesOpt,
    languages: str = LanguagesOpt,
    base_url: str = BaseUrlOpt,
    hours: float = typer.Option(168, "--hours", help="how long the sign-in link stays valid"),
) -> None:
    """Add an annotator and print a one-time sign-in link."""
    from culturalign.annotate.auth import issue_login_link

    store = _store(db)
    person = store.add_annotator(
        name, role="admin" if admin else "annotator", cultures=cultures, languages=languages
    )
    result = store.assign_report() if not admin else None
    typer.echo(issue_login_link(store, person, _base_url(store, base_url), hours=hours))
    if result is None:
        typer.echo(f"added coordinator {name!r}", err=True)
    else:
        typer.echo(f"added annotator {name!r}; {_routing_line(result)}", err=True)


@users_app.command("set")
def users_set(
    name: str = typer.Argument(...),
    db: str = DbOpt,
    cultures: str = CulturesOpt,
    languages: str = LanguagesOpt,
) -> None:
    """Change the cultures and languages a person judges, and re-route unstarted items."""
    from culturalign.annotate.team import parse_list
    from culturalign.errors import ConfigError

    store = _store(db, existing=True)
    person = store.annotator(name=name)
    if person is None:
        raise ConfigError(f"no annotator named {name!r}; add them with `annotate users add {name}`")
    store.set_skills(
        person.id, cultures=parse_list(cultures, "cultures"), languages=parse_list(languages, "languages")
    )
    typer.echo(f"updated {name!r}; {_routing_line(store.assign_report())}", err=True)


@users_app.command("link")
def users_link(
    name: str = typer.Argument(...),
    db: str = DbOpt,
    base_url: str = BaseUrlOpt,
    hours: float = typer.Option(168, "--hours"),
) -> None:
    """Print a new one-time sign-in link for an existing annotator."""
    from culturalign.annotate.auth import issue_login_link
    from culturalign.errors import ConfigError

    store = _store(db, existing=True)
    person = store.annotator(name=name)
    if person is None:
        raise ConfigError(f"no annotator named {name!r}; add them with `annotate users add {name}`")
    typer.echo(issue_login_link(store, person, _base_url(store, base_url), hours=hours))


@users_app.command("list")
def users_list(db: str = DbOpt) -> None:
    """List annotators with their progress."""
    store = _store(db, existing=True)
    for person in store.annotators():
        rows = store.queue(person.id)
        total = sum(len(r.status) for r in rows)
        done = sum(1 for r in rows for s in r.status.values() if s == "done")
        skipped = sum(1 for r in rows for s in r.status.values() if s == "skipped")
        skills = store.skills(person.id, as_written=True)
        routes = "; ".join(
            p
            for p in (
                skills.cultures and "cultures " + ",".join(skills.cultures),
                skills.languages and "languages " + ",".join(skills.languages),
            )
            if p
        )
        typer.echo(
            f"{person.name}\t{person.role}\t{done}/{total} tasks done"
            + (f", {skipped} skipped" if skipped else "")
            + f"\t{routes or 'any item'}"
        )


@annotate_app.command("export")
def export_cmd(
    fmt: str = typer.Option("care", "--format", "-f", help="care | pairs | jsonl"),
    db: str = DbOpt,
    out: Path = typer.Option(None, "--out", "-o", help="output file (default: standard output)"),
    strategy: str = typer.Option("best-worst", "--strategy", help="pairs only: best-worst (CARE) or all"),
    min_margin: float = typer.Option(0.0, "--min-margin", help="pairs only: smallest rating gap for a pair"),
    to: str = typer.Option(
        "jsonl",
        "--to",
        help="jsonl (a file, or standard output) or hf (a datasets save_to_disk folder at --out)",
    ),
    push_to_hub: str | None = typer.Option(
        None,
        "--push-to-hub",
        metavar="OWNER/NAME",
        help="also push the output to this Hub dataset repo, with a card",
    ),
) -> None:
    """Export annotations: CARE release rows, best-vs-worst preference pairs, or everything."""
    from culturalign.annotate.exporter import export_rows, save_dataset_folder
    from culturalign.errors import ConfigError
    from culturalign.io import atomic_write_text

    if to not in ("jsonl", "hf"):
        raise ConfigError(f"--to must be jsonl or hf, not {to!r}")
    if to == "hf" and out is None:
        raise ConfigError("--to hf writes a folder: give it with --out")
    if push_to_hub and out is None:
        raise ConfigError("--push-to-hub pushes a file or folder: give it with --out")
    counts: dict[str, dict[str, int]] = {}
    rows = export_rows(
        _store(db, existing=True), fmt, strategy=strategy, min_margin=min_margin, counts=counts
    )
    if to == "hf":
        save_dataset_folder(rows, out, fmt)
    elif out is None:
        sys.stdout.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    else:
        atomic_write_text(out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    typer.echo(f"exported {len(rows)} {fmt} row(s){f' to {out}' if out else ''}", err=True)
    for task, by in counts.items():
        typer.echo(f"  {task}: " + ", ".join(f"{n} {how}" for how, n in by.items()), err=True)
    if push_to_hub:
        from culturalign.hub_push import push_data

        done = push_data(
            out, push_to_hub, title=f"Human annotations ({fmt})", records=len(rows),
            summary=f"{len(rows)} {fmt} rows exported from a culturalign annotation database.",
            settings={"format": fmt, "strategy": strategy, "min_margin": min_margin, "to": to, "counts": counts},
        )  # fmt: skip
        typer.echo(done.summary(), err=True)


@annotate_app.command("agreement")
def agreement_cmd(
    db: str = DbOpt,
    json_out: Path = typer.Option(
        None, "--json", help="also write the full report (overall and per item) as JSON"
    ),
    items: bool = typer.Option(True, "--items/--no-items", help="print the per-item table"),
) -> None:
    """Inter-annotator agreement: Cohen's/Fleiss' kappa for categories, Krippendorff's alpha for scores."""
    from culturalign.annotate.agreement import compute_agreement
    from culturalign.io import write_json

    report = compute_agreement(_store(db, existing=True).judgments())
    typer.echo(
        f"{'what':<20} {'method':<32} {'value':>7} {'95% interval':>15} {'items':>6} {'compared':>9} "
        f"{'annotators':>10}  note"
    )
    for f in report.overall:
        value = f"{f.value:.3f}" if f.value is not None else "-"
        note = "; ".join(n for n in (f.note, f.warning) if n)
        typer.echo(
            f"{f.name:<20} {f.method:<32} {value:>7} {f.interval_text():>15} {f.n_items:>6} {f.n_units:>9} "
            f"{f.n_annotators:>10}  {note}"
        )
    if items and report.per_item:
        names = [f.name for f in report.overall]
        typer.echo("\nper item: " + "\t".join(["item", "version", *names]))
        for (key, version), values in sorted(report.per_item.items()):
            cells = [f"{values[n]:.2f}" if values.get(n) is not None else "-" for n in names]
            typer.echo("\t".join([key, str(version), *cells]))
    if json_out is not None:
        write_json(json_out, report.as_dict())
