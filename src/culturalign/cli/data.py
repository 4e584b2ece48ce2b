"""`culturalign data validate|stats|split|pairs|convert|formats|survey-export`: the data commands.

Each command loads its input through ``datasets.validate.load_source`` (any registered
format, a hub id, or a saved ``datasets`` folder), so a bad file stops every command the
same way: located problems on stderr, exit status 2, nothing written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from culturalign.cli.groups import data_app
from culturalign.errors import ConfigError, DataError

console = Console()
err_console = Console(stderr=True)

FormatOpt = typer.Option(
    None,
    "--format",
    "-f",
    help="input format (default: detected); see `culturalign data formats`",
)


def _load(path: str, fmt: str | None, *, describe: bool = False):
    from culturalign.datasets.validate import load_source

    return load_source(path, fmt, describe=describe)


def _questions(loaded, command: str):
    from culturalign.records import CulturalQuestion

    if not all(isinstance(r, CulturalQuestion) for r in loaded.records):
        kind = type(loaded.records[0]).__name__
        raise ConfigError(
            f"`data {command}` works on cultural questions (CARE test or preference files, or "
            f"CulturalQuestion JSONL); {loaded.source} holds {kind} records"
        )
    return loaded.records


@data_app.command("formats")
def formats() -> None:
    """List the input formats this installation can read."""
    from culturalign.datasets import available_loaders

    table = Table("--format", "what it reads")
    for name, mod in available_loaders().items():  # the hub loader is one of them
        table.add_row(name, getattr(mod, "DESCRIPTION", ""))
    console.print(table)


@data_app.command("validate")
def validate(
    path: str = typer.Argument(..., help="file, folder or hf:OWNER/NAME"), fmt: str = FormatOpt
) -> None:
    """Check a data file: one summary line when it is sound, every problem (exit 2) when not."""
    from culturalign.datasets.validate import validate as run_validate

    try:
        loaded, summary = run_validate(path, fmt)
    except DataError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        n = len(exc.problems)
        print(f"{path}: {n} problem{'s' if n != 1 else ''} found", file=sys.stderr)
        raise typer.Exit(2) from None
    print(f"ok: {loaded.source} [{loaded.format}]: {summary}")


@data_app.command("stats")
def stats(
    path: str = typer.Argument(..., help="file, folder or hf:OWNER/NAME"),
    fmt: str = FormatOpt,
    as_json: bool = typer.Option(False, "--json", help="print the counts as JSON"),
) -> None:
    """Question counts by culture × category × source and by geographic scope (CARE Tables 5-7)."""
    from culturalign.datasets.stats import record_stats

    loaded = _load(path, fmt)
    result = {"source": loaded.source, "format": loaded.format, **record_stats(loaded.records)}
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    _render_stats(result)


def _render_stats(result: dict) -> None:
    from culturalign.datasets.stats import CATEGORY_ORDER, NONE
    from culturalign.records import Category

    console.print(f"[bold]{result['source']}[/] ({result['format']}, {result.get('record_type')})")
    if result.get("record_type") != "CulturalQuestion":
        for key, value in result.items():
            if isinstance(value, dict) and value:
                table = Table(key.replace("_", " "), "count")
                for k, v in value.items():
                    table.add_row(str(k), str(v))
                console.print(table)
            elif key not in ("source", "format", "record_type"):
                console.print(f"{key.replace('_', ' ')}: {value}")
        return
    console.print(f"{result['questions']} questions")
    labels = {c.value: c.label for c in Category} | {NONE: NONE}
    for culture, rows in result["by_culture_source_category"].items():
        cats = [c for c in CATEGORY_ORDER if any(c in r for r in rows.values())]
        table = Table(
            "source",
            *[labels[c] for c in cats],
            "total",
            title=f"{culture}: questions by source and category",
        )
        for source, counts in rows.items():
            style = "bold" if source == "total" else None
            table.add_row(source, *[str(counts.get(c, 0)) for c in cats], str(counts["total"]), style=style)
        console.print(table)
    cultures = list(result["cultures"])
    for key, title in (("by_scope", "geographic scope"), ("by_associated_culture", "associated culture")):
        table = Table(title, *cultures, "total", title=f"questions by {title}")
        for name, counts in result[key].items():
            table.add_row(_label(name), *[str(counts.get(c, 0)) for c in cultures], str(counts["total"]))
        console.print(table)
    if result["responses"]:
        table = Table(
            "culture",
            "questions",
            "responses",
            "rated",
            "not an answer",
            "unrated",
            "mean rating",
            title="rated responses",
        )
        for culture, r in result["responses"].items():
            table.add_row(
                culture,
                *[str(r[k]) for k in ("questions", "responses", "rated", "not_an_answer", "unrated")],
                f"{r['mean_rating']:.2f}" if "mean_rating" in r else "-",
            )
        console.print(table)


def _label(name: str) -> str:
    """CARE's spelling of a geographic scope (``national`` → ``Nationwide``)."""
    return {
        "sub_national": "Sub-nationwide",
        "national": "Nationwide",
        "continent_wide": "Continent-wide",
        "worldwide": "Worldwide",
    }.get(name, name)


@data_app.command("split")
def split(
    path: str = typer.Argument(..., help="questions: CARE files or CulturalQuestion JSONL"),
    per_category: int = typer.Option(30, "--per-category", help="test questions per category per culture"),
    seed: int = typer.Option(0, "--seed"),
    out: Path = typer.Option(..., "--out", help="folder for test.jsonl, train.jsonl and split.json"),
    eligible: str = typer.Option(
        "native", "--eligible", help="which questions may go to test: native (CARE's choice) or all"
    ),
    train: int | None = typer.Option(None, "--train", help="CultureBank: train records (default 10000)"),
    dev: int | None = typer.Option(None, "--dev", help="CultureBank: dev records (default 1000)"),
    test: int | None = typer.Option(None, "--test", help="CultureBank: test records (default 1000)"),
    fmt: str = FormatOpt,
) -> None:
    """CARE's split (N questions per category per culture to test, the rest to train), or
    for CultureBank knowledge paper 003's train/dev/test by counts, stratified by cultural group."""
    from culturalign.datasets.split import split_questions
    from culturalign.io import fingerprint_file, write_json, write_records
    from culturalign.records.knowledge import KnowledgeItem

    loaded = _load(path, fmt)
    if loaded.records and all(isinstance(r, KnowledgeItem) for r in loaded.records):
        _split_knowledge(path, loaded.records, out, train=train, dev=dev, test=test, seed=seed)
        return
    if (train, dev, test) != (None, None, None):
        raise ConfigError(
            "--train/--dev/--test size CultureBank splits; CARE questions split with --per-category"
        )
    questions = _questions(loaded, "split")
    result = split_questions(questions, per_category=per_category, seed=seed, eligible=eligible)
    out.mkdir(parents=True, exist_ok=True)
    write_records(out / "test.jsonl", result.test)
    write_records(out / "train.jsonl", result.train)
    summary = {"input": path, **result.summary()}
    if Path(path).is_file():
        summary["input_sha256"] = fingerprint_file(Path(path))
    write_json(out / "split.json", summary)
    print(f"test: {len(result.test)} questions -> {out / 'test.jsonl'}")
    print(f"train: {len(result.train)} questions -> {out / 'train.jsonl'}")
    for culture, cells in result.cells.items():
        text = ", ".join(f"{cat} {c['test']}/{c['eligible']}" for cat, c in cells.items())
        print(f"  {culture}: {text}")
    for line in result.short_cells:
        err_console.print(f"[yellow]short cell[/]: {line}")
    if result.repeated_in_test:
        err_console.print(
            f"{result.repeated_in_test} repeated copies of test questions were kept out of train"
        )


def _split_knowledge(path: str, items, out: Path, *, train, dev, test, seed: int) -> None:
    from culturalign.datasets.split import CULTUREBANK_SIZES, split_knowledge
    from culturalign.io import fingerprint_file, write_json, write_records

    sizes = [v if v is not None else d for v, d in zip((train, dev, test), CULTUREBANK_SIZES, strict=True)]
    result = split_knowledge(items, train=sizes[0], dev=sizes[1], test=sizes[2], seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("train", "dev", "test"):
        records = getattr(result, name)
        write_records(out / f"{name}.jsonl", records)
        print(f"{name}: {len(records)} knowledge records -> {out / f'{name}.jsonl'}")
    summary = {"input": path, **result.summary()}
    if Path(path).is_file():
        summary["input_sha256"] = fingerprint_file(Path(path))
    write_json(out / "split.json", summary)
    print(f"{len(result.groups)} cultural groups; per group counts in {out / 'split.json'}")
    if len(result.train) < sizes[0]:
        err_console.print(
            f"[yellow]train[/]: {len(result.train)} records left, fewer than {sizes[0]} asked for"
        )
    if result.unused:
        err_console.print(f"{result.unused} records beyond --train {sizes[0]} were left out")


@data_app.command("pairs")
def pairs(
    path: str = typer.Argument(..., help="rated responses: CARE preference files or CulturalQuestion JSONL"),
    strategy: str = typer.Option("best-worst", "--strategy", help="best-worst (CARE's choice) or all"),
    min_margin: float = typer.Option(0.0, "--min-margin", help="smallest rating gap that makes a pair"),
    kto: bool = typer.Option(False, "--kto", help="write unpaired examples for KTO instead of pairs"),
    threshold: float = typer.Option(
        7.0, "--threshold", help="with --kto: rating from which a response is desirable"
    ),
    lang: str = typer.Option(
        "native", "--lang", help="prompt language: native, or en for the English translation"
    ),
    out: Path = typer.Option(..., "--out", help="JSONL file to write"),
    fmt: str = FormatOpt,
) -> None:
    """Preference pairs in TRL's conversational format (prompt, chosen, rejected)."""
    from culturalign.datasets.pairs import make_pairs, unpaired_examples
    from culturalign.io import write_records

    if lang not in ("native", "en"):
        raise ConfigError(f"--lang must be 'native' or 'en', not {lang!r}")
    questions = _questions(_load(path, fmt), "pairs")
    if kto:
        result = unpaired_examples(questions, threshold=threshold, lang=lang)
        good = sum(1 for r in result.records if r.label)
        what = f"{len(result.records)} unpaired examples ({good} desirable, {len(result.records) - good} undesirable)"
    else:
        result = make_pairs(questions, strategy=strategy, min_margin=min_margin, lang=lang)
        what = f"{len(result.records)} pairs ({strategy})"
    result.require_records(str(path), "unpaired examples" if kto else "pairs")
    write_records(out, result.records)
    print(f"wrote {what} from {result.used_questions} of {result.questions} questions to {out}")
    skipped = sum(result.no_pair.values())
    if skipped:
        noun = "question" if skipped == 1 else "questions"
        print(f"{skipped} {noun} gave {'no example' if kto else 'no pair'}:")
        for reason, count in result.no_pair.most_common():
            print(f"  {count:>6}  {reason}")


@data_app.command("convert")
def convert(
    path: str = typer.Argument(..., help="file, folder or hf:OWNER/NAME"),
    out_dir: Path = typer.Argument(..., help="folder to write into"),
    to: str = typer.Option(..., "--to", help="jsonl | hf (datasets.save_to_disk folder) | parquet"),
    fmt: str = FormatOpt,
    push_to_hub: str | None = typer.Option(
        None,
        "--push-to-hub",
        metavar="OWNER/NAME",
        help="also push the output to this Hub dataset repo, with a card",
    ),
) -> None:
    """Write any loadable data as our JSONL records, a `datasets` folder, or Parquet."""
    from culturalign.datasets.convert import TARGETS
    from culturalign.datasets.convert import convert as run_convert

    if to not in TARGETS:
        raise ConfigError(f"--to must be one of {', '.join(TARGETS)}, not {to!r}")
    loaded = _load(path, fmt)
    name = Path(str(path)).stem if not str(path).startswith(("hf:", "hub:")) else "data"
    target = run_convert(loaded.records, to, out_dir, name=name)
    kind = type(loaded.records[0]).__name__
    print(f"wrote {len(loaded.records)} {kind} records to {target}")
    if push_to_hub:
        from culturalign.hub_push import push_data

        done = push_data(
            target, push_to_hub, title=f"{kind} records", records=len(loaded.records), source=path,
            summary=f"{len(loaded.records)} {kind} records converted by `culturalign data convert` (--to {to}).",
            settings={"to": to, "format": loaded.format},
        )  # fmt: skip
        print(done.summary())


@data_app.command("survey-export")
def survey_export(
    path: str = typer.Argument(..., help="opinion data with answer shares: a WVS folder or GlobalOpinionQA"),
    country: str = typer.Option(
        ..., "--country", help="whose answers to train on (name or WVS code, e.g. NGA)"
    ),
    out: Path = typer.Option(..., "--out", help="folder for sft.jsonl, dpo.jsonl, split.json, heldout.jsonl"),
    heldout_fraction: float = typer.Option(
        0.5, "--heldout-fraction", help="share of questions kept for eval"
    ),
    seed: int = typer.Option(0, "--seed", help="seeds the question split and the answer draws"),
    answers: int = typer.Option(4, "--answers-per-question", help="SFT answers drawn per question"),
    margin: float = typer.Option(0.1, "--margin", help="DPO: smallest share difference that makes a pair"),
    max_pairs: int = typer.Option(
        3, "--max-pairs", help="DPO: most pairs per question (widest first); 0 = all"
    ),
    fmt: str = FormatOpt,
) -> None:
    """Survey answers as SFT examples and DPO pairs (CultureLLM/CultureSPA baseline), on a
    question split whose held-out side stays for `eval opinions`."""
    from culturalign.datasets.survey_export import export_survey

    loaded = _load(path, fmt)
    result = export_survey(
        loaded.records,
        country,
        out,
        heldout_fraction=heldout_fraction,
        seed=seed,
        k=answers,
        margin=margin,
        max_pairs=max_pairs or None,
        data_path=path,
    )
    for line in result.lines():
        print(line)
