"""Every change a study reports, with a paired interval over the same evaluation items.

A study's cells are evaluated on the same items (the shared held-out pairs, or the same
benchmark file), so the change of a cell over the reference cell (vanilla, or 0% of the
pairs) is measured item by item: the per-item values are resampled together
(``culturalign.uncertainty.paired_delta``; ``paired_statistic_delta`` for F1s, which are
not means of per-item scores). Item difficulty then cancels, and the interval says
whether the change is distinguishable from 0 on this many items.

Pure: per-item units in, ``{metric: paired result}`` out; the studies read the units
from each cell's evaluation folder (``study_evals.metric_units``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from culturalign import uncertainty


def paired_changes(reference: Mapping[str, Any], other: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{metric: paired result}`` for every metric both cells have per-item units for
    (``MetricUnits`` from ``culturalign.evals.headline``)."""
    out: dict[str, dict[str, Any]] = {}
    for metric, units in other.items():
        base = reference.get(metric)
        if base is None:
            continue
        if units.statistic is None:
            out[metric] = uncertainty.paired_delta(base.units, units.units)
        else:
            out[metric] = uncertainty.paired_statistic_delta(base.units, units.units, units.statistic)
    return out


def change_text(change: Mapping[str, Any] | None, plain: float | None = None) -> str:
    """A table cell: ``+0.800 [+0.200, +1.400] (n=30)``; without per-item values, the
    plain difference of the two cells' numbers, marked as having no interval."""
    if change is None:
        return "" if plain is None else f"{plain:+.3f} (no per-item values: no interval)"
    return uncertainty.describe_delta(change, digits=3)


def change_sentences(changes: Mapping[str, Mapping[str, Mapping[str, Any]]], reference: str) -> list[str]:
    """One sentence per kind of verdict, naming the changes whose interval includes 0 and
    those with too few items to tell."""
    zero, small, shown = [], [], 0
    for label, per_metric in changes.items():
        for metric, c in per_metric.items():
            shown += 1
            if c.get("ci_low") is None:
                small.append(f"{label} {metric}")
            elif c.get("includes_zero"):
                zero.append(f"{label} {metric}")
    out = []
    if shown:
        out.append(
            f"Changes over the {reference} cell are paired: the same evaluation items, resampled together "
            "(95% percentile bootstrap); n is the number of items scored in both cells."
        )
    if zero:
        out.append(f"Interval includes 0 (no measurable change): {', '.join(zero)}.")
    if small:
        out.append(f"Too few items to tell: {', '.join(small)}.")
    return out


def change_columns(metric: str, change: Mapping[str, Any] | None, plain: float | None) -> dict[str, Any]:
    """The CSV columns of one change: value, interval, n and whether it includes 0."""
    if change is None:
        return {f"delta/{metric}": plain} if plain is not None else {}
    return {
        f"delta/{metric}": change.get("delta"),
        f"delta/{metric} CI low": change.get("ci_low"),
        f"delta/{metric} CI high": change.get("ci_high"),
        f"delta/{metric} n": change.get("n"),
        f"delta/{metric} includes 0": change.get("includes_zero"),
    }
