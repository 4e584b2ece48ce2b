"""Training curves from the trainer's log history: one CSV and one PNG.

The CSV has one row per logged step and one column per logged quantity (loss,
learning rate, and for the preference trainers the reward margins and accuracies);
the PNG plots loss, reward margins and reward accuracies against the step, the
curves CARE-style alignment runs are judged by while they train.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from culturalign.io import atomic_write_text

PANELS = (
    ("loss", "loss"),
    ("rewards/margins", "reward margin (chosen - rejected)"),
    ("rewards/accuracies", "reward accuracy"),
    ("learning_rate", "learning rate"),
)
_SUMMARY_KEYS = (
    "train_runtime",
    "train_samples_per_second",
    "train_steps_per_second",
    "total_flos",
    "train_loss",
)


def step_rows(log_history: Sequence[dict[str, Any]]) -> list[dict[str, float]]:
    """Per-step numeric rows, without the end-of-training summary entry."""
    rows = []
    for entry in log_history:
        if any(k in entry for k in _SUMMARY_KEYS) or "step" not in entry:
            continue
        row = {
            k: float(v)
            for k, v in entry.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(float(v))
        }
        if len(row) > 2:  # more than step and epoch
            rows.append(row)
    return rows


def write_csv(rows: Sequence[dict[str, float]], path: Path) -> None:
    first = ["step", "epoch"]
    keys = first + sorted({k for r in rows for k in r} - set(first))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys, extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: (int(r[k]) if k == "step" and k in r else r.get(k, "")) for k in keys})
    atomic_write_text(path, buf.getvalue())


def write_png(rows: Sequence[dict[str, float]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    panels = [(k, label) for k, label in PANELS if any(k in r for r in rows)]
    if not panels:
        panels = [("loss", "loss")]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2), squeeze=False)
    for ax, (key, label) in zip(axes[0], panels, strict=True):
        pts = [(r["step"], r[key]) for r in rows if key in r]
        if pts:
            xs, ys = zip(*pts, strict=True)
            ax.plot(xs, ys, marker="o" if len(pts) < 30 else None, markersize=3)
        else:
            ax.text(0.5, 0.5, "not logged", ha="center", va="center", transform=ax.transAxes)
        ax.set_xlabel("step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole: no "1.5" ticks
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_curves(log_history: Sequence[dict[str, Any]], out_dir: Path, title: str) -> list[dict[str, float]]:
    """Write ``curves.csv`` and ``curves.png`` into ``out_dir``; returns the rows."""
    rows = step_rows(log_history)
    write_csv(rows, Path(out_dir) / "curves.csv")
    write_png(rows, Path(out_dir) / "curves.png", title)
    return rows
