"""A study's one table and one plot: ``study.csv``, ``study.md`` and ``study.png``.

The layouts follow the papers: data scaling is a line of scores against the share of
pairs (CARE Fig. 4), culture mixing is grouped bars of native and foreign scores per
training mix (CARE Fig. 6), and the algorithm comparison lists each algorithm's
change over the vanilla model (CARE Table 2).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from culturalign.io import atomic_write_text

StudyKind = Literal["scaling", "mixing", "algorithms"]


class StudyTable(BaseModel):
    study: StudyKind
    title: str
    key: str  # the column naming the condition
    rows: list[dict[str, Any]]
    metrics: list[str]  # metric columns, the plotted one first
    evaluation: str
    notes: list[str] = Field(default_factory=list)

    @property
    def primary(self) -> str:
        return self.metrics[0] if self.metrics else "pairs"

    def columns(self) -> list[str]:
        seen = [self.key]
        for row in self.rows:
            seen.extend(k for k in row if k not in seen)
        return seen

    def markdown(self) -> str:
        cols = [c for c in self.columns() if not c.startswith("delta/")]
        metric_cols = set(self.metrics)
        lines = [f"| {' | '.join(cols)} |", "|" + "---|" * len(cols)]
        for row in self.rows:
            cells = []
            for c in cols:
                v = row.get(c)
                if self.study == "algorithms" and c in metric_cols and row.get("delta/" + c) is not None:
                    cells.append(f"{row['delta/' + c]:+.3f}")
                elif isinstance(v, float):
                    cells.append(f"{v:.3f}")
                else:
                    cells.append("" if v is None else str(v))
            lines.append(f"| {' | '.join(cells)} |")
        return "\n".join(lines)


def _write_csv(table: StudyTable, path: Path) -> None:
    cols = table.columns()
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
    writer.writeheader()
    for row in table.rows:
        writer.writerow({c: row.get(c, "") for c in cols})
    atomic_write_text(path, buf.getvalue())


def _write_md(table: StudyTable, path: Path) -> None:
    parts = [f"# {table.title}", "", f"Evaluation: `{table.evaluation}`.", ""]
    if table.study == "algorithms":
        parts += ["Rows other than vanilla show the change over the vanilla model (CARE Table 2 layout).", ""]
    parts.append(table.markdown())
    if table.notes:
        parts += ["", *[f"- {n}" for n in table.notes]]
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
            ax.bar([i + k * width for i in range(len(shown))], vals, width, label=str(row[table.key]))
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
    _write_md(table, out_dir / "study.md")
    _plot(table, out_dir / "study.png")
