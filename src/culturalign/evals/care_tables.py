"""CARE's result tables from one or more runs (paper 000 Tables 1, 2, 3, 4 and 8).

* ``category_table``  rows are runs; columns the five categories and the average; one
  block per culture (Tables 1 and 4);
* ``delta_table``     the same, each run shown as its difference from a baseline run
  (Table 2);
* ``scope_table``     columns are geographic scopes (Table 8);
* ``mode_table``      one block per prompting mode, columns are cultures (Table 3).

Every row says how many items were rated and how many were invalid (judged, but no
usable rating after retries) or skipped (nothing to judge). Builders return plain data
(``CareTable``); ``to_markdown``, ``to_csv``, ``to_rich`` and ``block_rows`` render it,
so the HTML report reuses the same numbers. Building is pure; ``load_run`` is the only
function that reads files.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from culturalign.errors import ConfigError
from culturalign.evals.care_stats import UNCATEGORISED, CareSummary, CellStats, CultureSummary
from culturalign.records.question import Category, GeographicScope

SCALE = "mean judge rating (1: poor → 10: excellent)"
INVALID_NOTE = (
    "Rated: items with a valid rating. Invalid: the judge gave no usable rating after all retries. "
    "Skipped: nothing to judge (no response or no reference). Unrated items are left out of the means."
)


@dataclass(frozen=True)
class CareRun:
    label: str
    summary: CareSummary
    path: Path | None = None


@dataclass
class Cell:
    value: float | None
    n: int = 0
    ci: tuple[float, float] | None = None


@dataclass
class Row:
    label: str
    cells: list[Cell]
    rated: int = 0
    invalid: int = 0
    skipped: int = 0
    delta: bool = False  # cells are differences from the baseline
    judge: str | None = None


@dataclass
class Block:
    title: str
    columns: list[str]
    rows: list[Row] = field(default_factory=list)


@dataclass
class CareTable:
    title: str
    blocks: list[Block]
    notes: list[str] = field(default_factory=list)
    ci_column: str | None = "Average"  # whose interval gets its own column
    inline_ci: bool = False  # show every cell's interval next to it instead


# -- loading -------------------------------------------------------------------------------
def load_run(path: str | Path, label: str | None = None) -> CareRun:
    """A run directory (its ``summary.json``) or a ``judgments.jsonl`` file."""
    p = Path(path)
    if p.is_dir():
        f = p / "summary.json"
        if not f.is_file():
            raise ConfigError(f"{p}: not a CARE run directory (no summary.json)")
        summary = CareSummary.model_validate(json.loads(f.read_text(encoding="utf-8")))
        return CareRun(label or p.name, summary, p)
    if p.is_file():
        stem = p.with_suffix("")
        beside = stem.with_name(stem.name + ".summary.json")  # written by `culturalign judge`
        if beside.is_file():
            summary = CareSummary.model_validate(json.loads(beside.read_text(encoding="utf-8")))
            return CareRun(label or p.stem, summary, p)
        from culturalign.evals.care_stats import summarize
        from culturalign.io import read_records
        from culturalign.records.judgment import Judgment

        judgments = read_records(p, Judgment)
        summary = summarize(judgments, label=label or p.stem, judge=judgments[0].judge if judgments else None)
        return CareRun(label or p.stem, summary, p)
    raise ConfigError(f"{p}: no such run directory or judgments file")


# -- builders --------------------------------------------------------------------------------
CATEGORY_COLUMNS = [(c.value, c.label) for c in Category]
SCOPE_COLUMNS = [(s.value, s.label) for s in GeographicScope]


def judge_label(summary: CareSummary) -> str | None:
    """The judge's spec, marked when it is the embedded stand-in (CSV rows carry it)."""
    if summary.judge is None:
        return None
    weak = summary.judge.split("+")[0].split(":")[0] == "embedded"
    return f"{summary.judge} (weak stand-in judge)" if weak else summary.judge


def _cell(stats: CellStats | None) -> Cell:
    if stats is None:
        return Cell(None)
    ci = (stats.ci_low, stats.ci_high) if stats.ci_low is not None and stats.ci_high is not None else None
    return Cell(stats.mean, stats.n_rated, ci)


def _cultures(runs: Sequence[CareRun]) -> list[str]:
    seen: list[str] = []
    for r in runs:
        seen.extend(c for c in r.summary.cultures if c not in seen)
    return seen


def _notes(runs: Sequence[CareRun]) -> list[str]:
    notes = [INVALID_NOTE]
    judges = sorted({r.summary.judge for r in runs if r.summary.judge})
    if judges:
        notes.insert(0, f"Judge: {', '.join(judges)}.")
    for r in runs:
        if r.summary.aggregate == "max":
            notes.append(
                f"{r.label}: an item's score is the best of its responses (as CARE scores web pages)."
            )
        notes.extend(n for n in r.summary.notes if n not in notes)
    return notes


def _counts(stats: CellStats | None) -> dict[str, int]:
    if stats is None:
        return {"rated": 0, "invalid": 0, "skipped": 0}
    return {"rated": stats.n_rated, "invalid": stats.n_invalid, "skipped": stats.n_skipped}


def _culture_blocks(
    runs: Sequence[CareRun],
    cols: list[tuple[str, str]],
    cells_of: Callable[[CultureSummary], dict[str, CellStats]],
) -> list[Block]:
    """One block per culture, one row per run: the chosen columns, then the average."""
    blocks = []
    for culture in _cultures(runs):
        block = Block(culture, [label for _, label in cols] + ["Average"])
        for r in runs:
            cs = r.summary.cultures.get(culture)
            if cs is None:
                continue
            cells = [_cell(cells_of(cs).get(key)) for key, _ in cols] + [_cell(cs.average)]
            block.rows.append(Row(r.label, cells, **_counts(cs.average), judge=judge_label(r.summary)))
        blocks.append(block)
    return blocks


def category_table(runs: Sequence[CareRun], title: str | None = None) -> CareTable:
    """Tables 1 and 4: culture blocks, category columns and the average."""
    has_uncat = any(UNCATEGORISED in cs.categories for r in runs for cs in r.summary.cultures.values())
    cols = CATEGORY_COLUMNS + ([(UNCATEGORISED, "Uncat.")] if has_uncat else [])
    blocks = _culture_blocks(runs, cols, lambda cs: cs.categories)
    return CareTable(title or f"CARE: {SCALE}", blocks, _notes(runs))


def delta_table(runs: Sequence[CareRun], baseline: CareRun, title: str | None = None) -> CareTable:
    """Table 2: the baseline's scores, then every other run as a difference from them."""
    absolute = category_table([baseline, *runs])
    for block in absolute.blocks:
        base = block.rows[0] if block.rows and block.rows[0].label == baseline.label else None
        if base is None:
            absolute.notes.append(
                f"{block.title}: {baseline.label} has no results here; absolute scores shown."
            )
        for row in block.rows[1:] if base else []:
            row.delta = True
            row.cells = [
                Cell(None if c.value is None or b.value is None else c.value - b.value, c.n)
                for c, b in zip(row.cells, base.cells, strict=True)
            ]
    absolute.title = title or f"CARE: difference from {baseline.label} ({SCALE})"
    absolute.ci_column = None
    absolute.notes.insert(0, f"First row: {baseline.label}, absolute; other rows: difference from it.")
    return absolute


def scope_table(runs: Sequence[CareRun], title: str | None = None) -> CareTable:
    """Table 8: culture blocks, geographic-scope columns."""
    present = {s for r in runs for cs in r.summary.cultures.values() for s in cs.scopes}
    cols = [(key, label) for key, label in SCOPE_COLUMNS if key in present]
    cols += [(s, s) for s in sorted(present - {k for k, _ in SCOPE_COLUMNS})]
    blocks = _culture_blocks(runs, cols, lambda cs: cs.scopes)
    return CareTable(title or f"CARE by geographic scope: {SCALE}", blocks, _notes(runs))


def mode_table(runs: Sequence[CareRun], title: str | None = None) -> CareTable:
    """Table 3: one block per prompting mode; columns are each culture's average."""
    cultures = _cultures(runs)
    modes: list[str] = []
    for r in runs:
        m = r.summary.mode or "vanilla"
        if m not in modes:
            modes.append(m)
    blocks = []
    for mode in modes:
        block = Block(f"{mode} prompting", list(cultures))
        for r in runs:
            if (r.summary.mode or "vanilla") != mode:
                continue
            stats = [r.summary.cultures.get(c) for c in cultures]
            totals = [_counts(s.average if s else None) for s in stats]
            block.rows.append(
                Row(
                    r.label,
                    [_cell(s.average if s else None) for s in stats],
                    rated=sum(t["rated"] for t in totals),
                    invalid=sum(t["invalid"] for t in totals),
                    skipped=sum(t["skipped"] for t in totals),
                    judge=judge_label(r.summary),
                )
            )
        blocks.append(block)
    table = CareTable(title or f"CARE by prompting mode: {SCALE}", blocks, _notes(runs))
    table.ci_column, table.inline_ci = None, True
    return table


# -- renderers ---------------------------------------------------------------------------------
def _fmt(cell: Cell, delta: bool, inline_ci: bool) -> str:
    if cell.value is None:
        return "–"
    text = f"{cell.value:+.2f}" if delta else f"{cell.value:.2f}"
    if inline_ci and cell.ci and not delta:
        text += f" [{cell.ci[0]:.2f}, {cell.ci[1]:.2f}]"
    return text


def _show_skipped(table: CareTable) -> bool:
    return any(r.skipped for b in table.blocks for r in b.rows)


def block_rows(table: CareTable, block: Block) -> tuple[list[str], list[list[str]]]:
    """Headers and formatted rows of one block, for any renderer (Markdown, HTML, rich)."""
    headers = [block.title, *block.columns]
    ci_at = block.columns.index(table.ci_column) if table.ci_column in block.columns else None
    if ci_at is not None:
        headers.append("95% CI")
    headers += ["Rated", "Invalid"] + (["Skipped"] if _show_skipped(table) else [])
    rows = []
    for row in block.rows:
        cells = [_fmt(c, row.delta, table.inline_ci) for c in row.cells]
        if ci_at is not None:
            ci = row.cells[ci_at].ci
            cells.append(f"{ci[0]:.2f}–{ci[1]:.2f}" if ci and not row.delta else "")
        cells += [str(row.rated), str(row.invalid)] + ([str(row.skipped)] if _show_skipped(table) else [])
        rows.append([row.label, *cells])
    return headers, rows


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(table: CareTable) -> str:
    out = [f"## {table.title}", ""]
    for block in table.blocks:
        headers, rows = block_rows(table, block)
        out.append("| " + " | ".join(_md_escape(h) for h in headers) + " |")
        out.append("|" + "|".join(["---"] + ["---:"] * (len(headers) - 1)) + "|")
        out += ["| " + " | ".join(_md_escape(c) for c in r) + " |" for r in rows]
        out.append("")
    out += [f"- {_md_escape(n)}" for n in table.notes]
    return "\n".join(out) + "\n"


def to_csv(table: CareTable) -> str:
    """One line per (block, row); numbers unformatted, intervals as low/high columns."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    columns = table.blocks[0].columns if table.blocks else []
    header = ["block", "run", *columns]
    ci_cols = columns if table.inline_ci else ([table.ci_column] if table.ci_column in columns else [])
    for c in ci_cols:
        header += [f"{c} CI low", f"{c} CI high"]
    w.writerow([*header, "delta", "rated", "invalid", "skipped", "judge"])

    def num(x: float | None) -> str:
        return "" if x is None else f"{x:.4f}"

    for block in table.blocks:
        for row in block.rows:
            vals = {c: cell for c, cell in zip(block.columns, row.cells, strict=True)}
            line = [block.title, row.label, *[num(vals[c].value) if c in vals else "" for c in columns]]
            for c in ci_cols:
                ci = vals[c].ci if c in vals and not row.delta else None
                line += [num(ci[0]) if ci else "", num(ci[1]) if ci else ""]
            w.writerow([*line, int(row.delta), row.rated, row.invalid, row.skipped, row.judge or ""])
    return buf.getvalue()


def to_rich(table: CareTable):
    """A rich renderable (one table per block, then the notes) for the terminal."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts = []
    for block in table.blocks:
        headers, rows = block_rows(table, block)
        t = Table(title=f"{table.title} — {block.title}" if block is table.blocks[0] else block.title)
        for i, h in enumerate(headers):
            t.add_column(h, justify="left" if i == 0 else "right")
        for r in rows:
            t.add_row(*r)
        parts.append(t)
    parts += [Text(n, style="dim") for n in table.notes]
    return Group(*parts)
