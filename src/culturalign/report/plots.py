"""The report's own figures (the stages draw theirs: curves, PCA, histograms).

``care_bars``: grouped bars per category, one bar per run, one panel per culture,
with the 95% bootstrap intervals as error bars (CARE Fig. 1 / Table 1). A cell too small
to read (one item) gets no bar at all, only an "n=1" mark at its place: a bar would be
read as a result. The legend sits below the panels, where it covers no bar, and the
fonts are sized for the figure's width in the report (about 1100 px).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def care_bars(runs: Sequence[Any], out_png: Path) -> Path | None:
    """One panel per culture; x = categories (+ Average); bars = runs. ``runs`` are CareRuns."""
    from culturalign.records.question import Category

    cultures = sorted({c for r in runs for c in r.summary.cultures})
    if not cultures:
        return None
    plt = _plt()
    cats = [(c.value, c.label) for c in Category] + [("__avg__", "Average")]
    ncols = min(3, len(cultures))
    nrows = -(-len(cultures) // ncols)
    plt.rcParams.update({"font.size": 10, "axes.titlesize": 12, "xtick.labelsize": 9, "ytick.labelsize": 9})
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, 3.4 * nrows + 0.5), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax in flat[len(cultures) :]:
        ax.set_visible(False)
    width = 0.8 / max(1, len(runs))
    for ax, culture in zip(flat, cultures, strict=False):
        for k, run in enumerate(runs):
            cs = run.summary.cultures.get(culture)
            means, lo, hi, small = [], [], [], []
            for key, _ in cats:
                st = None if cs is None else (cs.average if key == "__avg__" else cs.categories.get(key))
                m = st.mean if st is not None and st.mean is not None else float("nan")
                too_small = st is not None and st.too_small
                means.append(float("nan") if too_small else m)
                # no interval (one item, or none): no error bar at all, not a zero-length one
                has_ci = st is not None and st.ci_low is not None and st.ci_high is not None
                lo.append(m - st.ci_low if has_ci else float("nan"))
                hi.append(st.ci_high - m if has_ci else float("nan"))
                small.append(st.n_rated if too_small else 0)
            xs = [i + (k - (len(runs) - 1) / 2) * width for i in range(len(cats))]
            bars = ax.bar(xs, means, width, yerr=[lo, hi], capsize=2, label=run.label)
            colour = bars.patches[0].get_facecolor() if bars.patches else None
            for x, n in zip(xs, small, strict=True):
                if n:  # too few items to conclude: no bar, a mark that says so
                    ax.annotate(
                        f"n={n}", (x, 0.2), ha="center", va="bottom", fontsize=8, rotation=90, color=colour
                    )
        ax.set_xticks(range(len(cats)), [lab for _, lab in cats], rotation=20)
        ax.set_ylim(0, 10.5)
        ax.set_title(culture)
        ax.set_ylabel("judge rating (1-10)")
        ax.grid(axis="y", alpha=0.3)
    handles, labels = flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(runs), 6), frameon=False, fontsize=10)
    fig.tight_layout(rect=(0, 0.5 / (3.4 * nrows + 0.5), 1, 1))
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
    return out_png


def metric_bars(
    labels: Sequence[str], values: Sequence[float], title: str, ylabel: str, out_png: Path
) -> Path:
    """A single bar chart (e.g. cultureSim per model)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(4, 1.2 * len(labels) + 2), 3.2))
    ax.bar(range(len(labels)), values, color="#4c72b0")
    ax.set_xticks(range(len(labels)), labels, rotation=15)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    for i, v in enumerate(values):
        ax.annotate(f"{v:.3f}", (i, v), ha="center", va="bottom", fontsize=8)
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return out_png
