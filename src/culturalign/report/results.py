"""The report's sections for scores that change between runs: CARE (absolute and against
a baseline), training (the held-out gap before and after) and the training studies.

Every number here carries its n and, where there are at least two items, its 95%
interval; every change is paired over the items both runs scored
(``culturalign.uncertainty``), and a sentence under each table names the changes whose
interval includes 0. The numbers come from the same builders the stages print with
(``care_tables``, ``gap_change``, ``StudyTable``), so the report never recomputes them
another way.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from culturalign.io import read_json_model, read_json_object
from culturalign.report.document import Document, Heading, Image, Paragraph, Span, Table
from culturalign.report.runs import model_name

_INTERVAL = re.compile(r"^\[(-?[\d.]+(?:e-?\d+)?), (-?[\d.]+(?:e-?\d+)?)\]$")


def fmt_cell(text: str) -> str:
    """Long floats from CSV files shown with 3 decimals, intervals ``[lo, hi]`` too;
    everything else unchanged."""
    m = _INTERVAL.match(text.strip())
    if m:
        return f"[{float(m[1]):.3f}, {float(m[2]):.3f}]"
    try:
        value = float(text)
    except ValueError:
        return text
    return text if text.lstrip("-").isdigit() else f"{value:.3f}"


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return (rows[0], [[fmt_cell(c) for c in r] for r in rows[1:]]) if rows else ([], [])


# -- CARE ---------------------------------------------------------------------------------------


def load_care_runs(dirs: list[Path], label_of: Callable[[Path], str]) -> list[Any]:
    from culturalign.evals.care import tables as ct

    return [ct.load_run(d, label_of(d)) for d in dirs]


def care_section(
    doc: Document,
    runs: list[Any],
    baseline: str | None,
    figs: Path,
    view: Callable[..., str | None] | None = None,
) -> None:
    """``runs``: ``CareRun``s (``load_care_runs``), loaded once for the summary and here.
    ``view(run_dir, culture=..., category=..., scope=...)``: the viewer link for a cell's
    items (``view.link``), or None when no viewer is written."""
    from culturalign.evals.care import tables as ct
    from culturalign.report.plots import care_bars

    doc.add(Heading("CARE: judged answers to culture-specific questions"))
    doc.add(Paragraph(ct.SCALE + ". " + ct.INVALID_NOTE + " " + ct.CELL_NOTE))
    if view is not None:
        doc.add(
            Paragraph(
                "Each number links to the answers behind it in the viewer (view.html, beside this file)."
            )
        )
    by_setting: dict[tuple, list] = defaultdict(list)
    for r in runs:
        by_setting[(r.summary.mode, r.summary.lang)].append(r)
    for (mode, lang), group in sorted(by_setting.items(), key=lambda kv: (kv[0][0] != "vanilla", str(kv[0]))):
        paths = {r.label: r.path for r in group}
        table = ct.category_table(group, title=f"By category (mode {mode}, language {lang})")
        add_care_table(
            doc, table, notes=ct.averages_note(table.blocks), link=_linker(view, paths, "category")
        )
        if not any(r.summary.overall.n_rated for r in group):  # an empty chart and dashes say nothing
            doc.add(
                Paragraph(
                    f"Mode {mode}, language {lang}: no answer has a valid rating (see Invalid), so there is no "
                    "chart, no change and no scope table to show."
                )
            )
            continue
        png = care_bars(group, figs / f"care-{mode}-{lang}.png")
        if png:
            doc.add(
                Image(
                    png,
                    f"Mean judge rating by category and culture, mode {mode}, language {lang} (95% CI; "
                    "a cell too small to read (one item) has no bar, only an n=1 mark)",
                )
            )
        base = next(
            (r for r in group if baseline and (r.label == baseline or r.summary.model == baseline)), None
        )
        if base is not None and len(group) > 1:
            delta = ct.delta_table(
                [r for r in group if r is not base], base, title=f"Change against {base.label}"
            )
            add_care_table(
                doc,
                delta,
                notes=[n for n in delta.notes if _is_change_note(n)],
                link=_linker(view, paths, "category"),
            )
        add_care_table(
            doc,
            ct.scope_table(group, title=f"By geographic scope (mode {mode}, language {lang})"),
            link=_linker(view, paths, "scope"),
        )
    if len(by_setting) > 1:
        add_care_table(doc, ct.mode_table(runs, title="By prompting mode"))


CellLink = Callable[[str, str, str], str | None]  # (row label, block title = culture, column key)


def _linker(
    view: Callable[..., str | None] | None, paths: dict[str, Path | None], dim: str
) -> CellLink | None:
    """A cell's viewer link: its run (by folder: two modes of one model share a label),
    the block's culture and the column's category or scope (none for the averages)."""
    from culturalign.evals.care.stats import UNCATEGORISED
    from culturalign.evals.care.tables import AVERAGE, AVERAGE_OF_CATEGORIES

    if view is None:
        return None

    def link(label: str, culture: str, key: str) -> str | None:
        d = paths.get(label)
        if d is None or not any((Path(d) / f).is_file() for f in ("judgments.jsonl", "responses.jsonl")):
            return None  # a summary without its items: the viewer has nothing to show for it
        if key in (AVERAGE, AVERAGE_OF_CATEGORIES, UNCATEGORISED):
            return view(d, culture=culture)
        return view(d, culture=culture, **{dim: key})

    return link


def _is_change_note(note: str) -> bool:
    from culturalign.evals.care.tables import PAIRED_NOTE

    return note == PAIRED_NOTE or "includes 0" in note or "plain differences" in note


def add_care_table(
    doc: Document, table: Any, notes: Sequence[str] = (), link: CellLink | None = None
) -> None:
    """Each block as a table, then the notes that explain its numbers (which changes
    include 0, which average is which); with ``link``, each number links to its items."""
    from culturalign.evals.care import tables as ct

    for block in table.blocks:
        headers, rows = ct.block_rows(table, block)
        cells: list[list[Any]] = [list(r) for r in rows]
        if link is not None:
            for row, data in zip(cells, block.rows, strict=True):
                for k, key in enumerate(block.keys):
                    href = link(data.label, block.title, key)
                    if href and row[k + 1] not in ("–", ""):
                        row[k + 1] = Span(row[k + 1], href=href)
        doc.add(Table(headers, cells, caption=f"{table.title}: {block.title}"))
    for n in notes:
        doc.add(Paragraph(n))


# -- training -----------------------------------------------------------------------------------


def _gap_text(report: Any) -> str:
    if report is None:
        return "-"
    ci = report.interval or {}
    if ci.get("ci_low") is None:
        return f"{report.gap:.3f} (n={report.n})"
    return f"{report.gap:.3f} [{ci['ci_low']:.3f}, {ci['ci_high']:.3f}] (n={report.n})"


def _settings_text(cfg: dict[str, Any], method: str) -> str:
    """The settings a reader compares between training runs, in one line."""
    bits = [f"preset {cfg.get('preset') or 'none'}"]
    for key, name in (("learning_rate", "lr"), ("epochs", "epochs"), ("effective_batch_size", "batch")):
        if cfg.get(key) is not None:
            bits.append(f"{name} {cfg[key]}")
    own = cfg.get(method) or {}
    if isinstance(own, dict) and own.get("beta") is not None:
        bits.append(f"beta {own['beta']}")
    lora = cfg.get("lora") or {}
    if lora.get("enabled"):
        bits.append(f"LoRA r={lora.get('r')} alpha={lora.get('alpha')}")
    return ", ".join(bits)


def train_section(doc: Document, dirs: list[Path], anchors: dict[Path, str] | None = None) -> None:
    """The held-out gap of every run in one table, then one subsection per run (linked
    from the evaluations of the model it made): data, preset, curves, gap."""
    from culturalign.train.gap import GapReport, gap_change
    from culturalign.uncertainty import describe_delta

    anchors = anchors or {}
    doc.add(Heading("Training"))
    rows, sentences, details = [], [], []
    for d in dirs:
        m = read_json_object(d / "culturalign-train.json")
        r = m.get("result") or {}
        gb = GapReport.model_validate(r["gap_before"]) if r.get("gap_before") else None
        ga = GapReport.model_validate(r["gap_after"]) if r.get("gap_after") else None
        change = gap_change(gb, ga) if gb and ga else None
        if change is None and gb and ga:
            change_text = f"{ga.gap - gb.gap:+.3f} (no per-pair values: no interval)"
        else:
            change_text = describe_delta(change, digits=3) if change else "-"
        if change and change.get("includes_zero"):
            sentences.append(f"{d.name}: the change in the held-out gap has an interval that includes 0.")
        anchor = anchors.get(d)
        rows.append(
            [
                Span(d.name, title=str(d), href=f"#{anchor}" if anchor else None),
                m.get("method", "?"),
                Span(model_name(str(m.get("model_spec", "?"))), title=str(m.get("model_spec", "?"))),
                m.get("status", "?"),
                _gap_text(gb),
                _gap_text(ga),
                change_text,
                f"{ga.accuracy:.2f} (n={ga.n})" if ga is not None and ga.accuracy is not None else "-",
            ]
        )
        gap = f"{_gap_text(gb)} → {_gap_text(ga)}; change {change_text}" if gb or ga else "not measured"
        details.append((d, m, anchor, gap))
    headers = ["run", "method", "base", "status", "held-out gap before", "after"]
    doc.add(
        Table(
            [*headers, "change (paired 95% CI, n)", "pair accuracy after"],
            rows,
            caption="Held-out gap: mean log P(chosen) − log P(rejected) on pairs kept out of training; "
            "intervals: bootstrap over the held-out pairs; the change pairs each pair before and after",
        )
    )
    for s in sentences:
        doc.add(Paragraph(s))
    for d, m, anchor, gap in details:
        _train_run(doc, d, m, anchor, gap)


def _train_run(doc: Document, d: Path, m: dict[str, Any], anchor: str | None, gap: str) -> None:
    method = str(m.get("method", "?"))
    data = m.get("data") or {}
    doc.add(
        Heading(
            f"Training run {d.name}: {method.upper()} on {Path(str(data.get('path', '?'))).name}", 3, anchor
        )
    )
    sha = str(data.get("sha256") or "")
    r = m.get("result") or {}
    steps = f"{r.get('steps', '?')} steps" + (
        f" in {r['seconds']:.0f} s" if r.get("seconds") is not None else ""
    )
    rows: list[list[Any]] = [
        ["base model", Span(model_name(str(m.get("model_spec", "?"))), title=str(m.get("model_spec", "?")))],
        ["data", Span(f"{data.get('path', '?')} ({data.get('format', '?')})", title=sha or None)],
        ["settings", _settings_text(m.get("config") or {}, method)],
        ["ran", f"{m.get('status', '?')}, {steps}"],
        ["held-out gap", gap],
        ["output", str(d)],
    ]
    doc.add(Table(["", ""], rows, caption=f"{d.name}: what was trained, on what", kind="meta"))
    for n in (m.get("result") or {}).get("notes") or []:
        doc.add(Paragraph(f"{d.name}: {n}"))
    if (d / "curves.png").exists():
        doc.add(Image(d / "curves.png", f"{d.name}: training curves (loss, reward margins, accuracies)"))


# -- studies ------------------------------------------------------------------------------------


def studies_section(doc: Document, dirs: list[Path]) -> None:
    doc.add(Heading("Training studies"))
    for d in dirs:
        table = study_table(d)
        if table is None:  # a study written before study.json: its CSV as it is
            headers, rows = read_csv(d / "study.csv")
            doc.add(Table(headers, rows, caption=d.name))
        else:
            _study_tables(doc, table, d.name)
        for png in sorted(d.glob("*.png")):
            doc.add(Image(png, f"{d.name}: {png.stem}"))


def study_table(d: Path) -> Any:
    from culturalign.train.study_report import StudyTable

    f = d / "study.json"
    if not f.is_file():
        return None
    return read_json_model(f, StudyTable)


def _md_rows(markdown: str) -> tuple[list[str], list[list[str]]]:
    lines = [ln for ln in markdown.splitlines() if ln.startswith("|")]
    split = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines]
    return (split[0], split[2:]) if split else ([], [])


def _study_tables(doc: Document, table: Any, name: str) -> None:
    headers, rows = _md_rows(table.markdown())
    doc.add(Table(headers, rows, caption=f"{name}: {table.title}"))
    if table.study != "algorithms":
        headers, rows = _md_rows(table.change_markdown())
        if rows:
            doc.add(
                Table(
                    headers,
                    rows,
                    caption=f"{name}: change over {table.key} = {table.reference} (paired 95% CI, n)",
                )
            )
    for n in table.change_notes():
        doc.add(Paragraph(n))


# -- choice benchmarks --------------------------------------------------------------------------


def choice_changes(
    doc: Document, kind: str, dirs: list[Path], label_of: Callable[[Path], str], baseline: str | None
) -> None:
    """Each run's change from the baseline run on every headline metric, paired over the
    items both scored (accuracy flags, cultureSim per question, CALI pairs)."""
    from culturalign.evals.headline import headline_units
    from culturalign.train.study_changes import change_sentences, change_text, paired_changes

    name = kind.removeprefix("eval-")
    labelled = [(label_of(d), d) for d in dirs]
    base = next((d for lab, d in labelled if lab == baseline), None)
    if base is None or len(dirs) < 2:
        return
    base_units = headline_units(name, base)
    changes = {lab: paired_changes(base_units, headline_units(name, d)) for lab, d in labelled if d != base}
    metrics = [m for m in base_units if any(m in c for c in changes.values())]
    if not metrics:
        return
    rows = [[lab, *[change_text(c.get(m)) for m in metrics]] for lab, c in changes.items()]
    doc.add(
        Table(
            ["run", *metrics], rows, caption=f"Change against {baseline} (paired 95% CI over shared items, n)"
        )
    )
    for n in change_sentences(changes, baseline):
        doc.add(Paragraph(n))
    _ordering_verdicts(doc, labelled, base, baseline)


def _ordering_verdicts(doc: Document, labelled: list[tuple[str, Path]], base: Path, baseline: str) -> None:
    """Runs scored with --robustness: is each run's order against the baseline the same
    under every option order and wording? (``evals.robustness.compare``)"""
    from culturalign.evals.robustness.compare import ordering_verdicts

    if not (base / "robustness.md").exists():
        return
    base_summary = read_json_object(base / "summary.json", "a run summary")
    for lab, d in labelled:
        if d != base and (d / "robustness.md").exists():
            other = read_json_object(d / "summary.json", "a run summary")
            for line in ordering_verdicts(base_summary, other, baseline, lab):
                doc.add(Paragraph(line))
