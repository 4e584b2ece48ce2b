"""A CARE table as plain data (``CareTable`` of blocks, rows and cells) and its
renderers: Markdown, CSV, rich, and ``block_rows`` for any other (the HTML report).

Kept apart from the builders in ``care_tables`` so that what a number is and how it is
printed can each be read on their own; ``care_tables`` re-exports everything here.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field


@dataclass
class Cell:
    value: float | None
    n: int = 0
    ci: tuple[float, float] | None = None
    too_small: bool = False
    includes_zero: bool | None = None  # change cells only: does the paired interval include 0
    unpaired: bool = False  # change cells only: no per-item scores, a plain difference of means


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
    keys: list[str] = field(default_factory=list)  # what each column is: category/scope value, AVERAGE...


@dataclass
class CareTable:
    title: str
    blocks: list[Block]
    notes: list[str] = field(default_factory=list)
    ci_column: str | None = "Average"  # whose interval gets its own column
    inline_ci: bool = False  # show every cell's interval next to it instead


# -- renderers ---------------------------------------------------------------------------------
def _fmt(cell: Cell, delta: bool, inline_ci: bool) -> str:
    """``5.50 (n=30)``; a change ``+0.80 [+0.20, +1.40] (n=30)``; ``(n=1, too small)``."""
    if cell.value is None:
        return "–" if not cell.n else f"– (n={cell.n})"
    text = f"{cell.value:+.2f}" if delta else f"{cell.value:.2f}"
    if cell.ci and (delta or inline_ci):
        lo, hi = cell.ci
        text += f" [{lo:+.2f}, {hi:+.2f}]" if delta else f" [{lo:.2f}, {hi:.2f}]"
    if cell.too_small:
        return f"{text} (n={cell.n}, too small)"
    if delta and cell.unpaired:
        return f"{text} (unpaired, no interval)"
    if delta and cell.includes_zero:
        return f"{text} (n={cell.n}; includes 0)"
    return f"{text} (n={cell.n})"


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
    columns: list[str] = []
    for block in table.blocks:
        columns.extend(c for c in block.columns if c not in columns)
    header = ["block", "run", *columns]
    for c in columns:
        header += [f"{c} n", f"{c} CI low", f"{c} CI high"]
    has_delta = any(r.delta for b in table.blocks for r in b.rows)
    if has_delta:
        header += [f"{c} includes 0" for c in columns]
    w.writerow([*header, "delta", "rated", "invalid", "skipped", "judge"])

    def num(x: float | None) -> str:
        return "" if x is None else f"{x:.4f}"

    for block in table.blocks:
        for row in block.rows:
            vals = {c: cell for c, cell in zip(block.columns, row.cells, strict=True)}
            line = [block.title, row.label, *[num(vals[c].value) if c in vals else "" for c in columns]]
            for c in columns:
                ci = vals[c].ci if c in vals else None
                line += [
                    str(vals[c].n) if c in vals else "",
                    num(ci[0]) if ci else "",
                    num(ci[1]) if ci else "",
                ]
            if has_delta:
                flags = [vals[c].includes_zero if c in vals and row.delta else None for c in columns]
                line += ["" if f is None else int(f) for f in flags]
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
