"""A study's one table and one plot: ``study.csv``, ``study.md`` and ``study.png``, and
``study.json`` (the ``StudyTable`` itself, changes included) for the report.

The layouts follow the papers: data scaling is a line of scores against the share of
pairs (CARE Fig. 4), culture mixing is grouped bars of native and foreign scores per
training mix (CARE Fig. 6), and the algorithm comparison lists each algorithm's
change over the vanilla model (CARE Table 2). Every change over the reference cell is
shown with its paired 95% interval and n (``study_changes``): in the algorithm table's
cells, and as a "change over ..." table under the scaling and mixing tables; the notes
name the changes whose interval includes 0.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from culturalign.io import atomic_write_text
from culturalign.train.study_changes import change_columns, change_sentences, change_text

StudyKind = Literal["scaling", "mixing", "algorithms", "lr", "sizes"]


class StudyTable(BaseModel):
    study: StudyKind
    title: str
    key: str  # the column naming the condition
    rows: list[dict[str, Any]]
    metrics: list[str]  # metric columns, the plotted one first
    evaluation: str
    notes: list[str] = Field(default_factory=list)
    reference: str | None = None  # the row label every change is measured from
    changes: dict[str, dict[str, dict[str, Any]]] = Field(
        default_factory=dict, description="row label -> metric -> paired change over the reference"
    )

    def change(self, row: dict[str, Any], metric: str) -> dict[str, Any] | None:
        return self.changes.get(str(row[self.key]), {}).get(metric)

    def plain_delta(self, row: dict[str, Any], metric: str) -> float | None:
        ref = next((r for r in self.rows if str(r[self.key]) == self.reference), None)
        a, b = row.get(metric), None if ref is None else ref.get(metric)
        return a - b if isinstance(a, float) and isinstance(b, float) else None

    @property
    def primary(self) -> str:
        return self.metrics[0] if self.metrics else "pairs"

    def columns(self) -> list[str]:
        seen = [self.key]
        for row in self.rows:
            seen.extend(k for k in row if k not in seen)
        return seen

    def change_rows(self) -> list[dict[str, Any]]:
        """Each non-reference row's CSV change columns (paired value, interval, n)."""
        out = []
        for row in self.rows:
            cols: dict[str, Any] = {}
            if self.reference is not None and str(row[self.key]) != self.reference:
                for m in self.metrics:
                    cols.update(change_columns(m, self.change(row, m), self.plain_delta(row, m)))
            out.append(cols)
        return out

    def change_markdown(self) -> str:
        """The change of every cell over the reference, one column per metric."""
        others = [r for r in self.rows if self.reference is not None and str(r[self.key]) != self.reference]
        if not others or not self.metrics:
            return ""
        lines = [f"| {self.key} | {' | '.join(self.metrics)} |", "|" + "---|" * (len(self.metrics) + 1)]
        for row in others:
            cells = [change_text(self.change(row, m), self.plain_delta(row, m)) for m in self.metrics]
            lines.append(f"| {row[self.key]} | {' | '.join(cells)} |")
        return "\n".join(lines)

    def change_notes(self) -> list[str]:
        if self.reference is None:
            return []
        return change_sentences(self.changes, self.reference)

    def markdown(self) -> str:
        cols = [c for c in self.columns() if not c.startswith("delta/")]
        metric_cols = set(self.metrics)
        lines = [f"| {' | '.join(cols)} |", "|" + "---|" * len(cols)]
        for row in self.rows:
            cells = []
            for c in cols:
                v = row.get(c)
                if self.study == "algorithms" and c in metric_cols and row.get("delta/" + c) is not None:
                    cells.append(change_text(self.change(row, c), row["delta/" + c]))
                elif isinstance(v, float) and c == self.key and self.study == "lr":
                    cells.append(f"{v:g}")  # 1e-07, not 0.000
                elif isinstance(v, float):
                    cells.append(f"{v:.3f}")
                else:
                    cells.append("" if v is None else str(v))
            lines.append(f"| {' | '.join(cells)} |")
        return "\n".join(lines)


def _write_csv(table: StudyTable, path: Path) -> None:
    changes = table.change_rows()
    cols = table.columns()
    for extra in changes:
        cols.extend(k for k in extra if k not in cols)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
    writer.writeheader()
    for row, extra in zip(table.rows, changes, strict=True):
        merged = {**row, **extra}
        writer.writerow({c: "" if merged.get(c) is None else merged[c] for c in cols})
    atomic_write_text(path, buf.getvalue())


def _write_md(table: StudyTable, path: Path) -> None:
    parts = [f"# {table.title}", "", f"Evaluation: `{table.evaluation}`.", ""]
    if table.study == "algorithms":
        parts += ["Rows other than vanilla show the change over the vanilla model (CARE Table 2 layout).", ""]
    parts.append(table.markdown())
    changes = table.change_markdown() if table.study != "algorithms" else ""
    if changes:
        parts += ["", f"Change over {table.key} = {table.reference} (paired 95% interval, n):", "", changes]
    notes = [*table.notes, *table.change_notes()]
    if notes:
        parts += ["", *[f"- {n}" for n in notes]]
    atomic_write_text(path, "\n".join(parts) + "\n")


def _plot(table: StudyTable, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    metric = table.primary
    if table.study == "scaling":
        pts = [(100 * r["fraction"], r.get(metric)) for r in table.rows if r.get(metric) is not None]
        if pts:
            xs, ys = zip(*pts, strict=True)
            ax.plot(xs, ys, marker="o")
        ax.set_xlabel("% of preference pairs used for alignment")
        ax.set_ylabel(metric)
        ax.set_xticks([x for x, _ in pts] if pts else [])
    elif table.study in ("lr", "sizes"):  # a score against a number: the learning rate or the top-k size
        pts = [(float(r[table.key]), r.get(metric)) for r in table.rows if isinstance(r.get(metric), float)]
        if pts:
            xs, ys = zip(*pts, strict=True)
            ax.plot(xs, ys, marker="o")
        if table.study == "lr":
            ax.set_xscale("log")
        ax.set_xlabel(table.key)
        ax.set_ylabel(metric)
    elif table.study == "mixing":
        groups = [str(r[table.key]) for r in table.rows]
        series = [m for m in table.metrics if m.endswith("/" + metric.split("/", 1)[-1])] or [metric]
        width = 0.8 / len(series)
        for k, name in enumerate(series):
            vals = [r.get(name) if r.get(name) is not None else 0.0 for r in table.rows]
            ax.bar([i + k * width for i in range(len(groups))], vals, width, label=f"evaluated on {name}")
        ax.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(groups))], groups)
        ax.set_xlabel("culture of the alignment data")
        ax.set_ylabel(metric.split("/", 1)[-1])
        ax.legend(fontsize=8)
    else:
        rows = [r for r in table.rows if r[table.key] != "vanilla"]
        shown = table.metrics[:6]
        width = 0.8 / max(len(rows), 1)
        for k, row in enumerate(rows):
            vals = [row.get("delta/" + m) or 0.0 for m in shown]
            err = [[0.0] * len(shown), [0.0] * len(shown)]
            for i, m in enumerate(shown):  # paired interval where there is one; none for tiny cells
                c = table.change(row, m)
                if c and c.get("ci_low") is not None and c.get("delta") is not None:
                    vals[i] = c["delta"]
                    err[0][i], err[1][i] = c["delta"] - c["ci_low"], c["ci_high"] - c["delta"]
            ax.bar(
                [i + k * width for i in range(len(shown))],
                vals,
                width,
                yerr=err if any(err[0]) or any(err[1]) else None,
                capsize=2,
                label=str(row[table.key]),
            )
        ax.set_xticks([i + width * (len(rows) - 1) / 2 for i in range(len(shown))], shown, rotation=20)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_ylabel("change over vanilla")
        ax.legend(fontsize=8)
    ax.set_title(table.title, fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_study(table: StudyTable, out_dir: Path) -> None:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_csv(table, out_dir / "study.csv")
    atomic_write_text(out_dir / "study.json", table.model_dump_json(indent=1))  # what the report reads
    _write_md(table, out_dir / "study.md")
    _plot(table, out_dir / "study.png")
