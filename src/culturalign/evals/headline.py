"""The few numbers that summarise a choice-benchmark run, for study tables and run logs.

``headline_metrics`` is pure: a benchmark's ``summary.json`` dict in, ``{metric: value}``
out. Per-country and per-topic breakdowns stay in the run directory; these are the
paper-level figures (cultureSim and its spread, CulturalBench-Easy/Hard accuracy, CALI
macro-F1 and entailment F1 per culture, BLEnD accuracy per language, MCQ accuracy).

``headline_units`` reads the same metrics back per item from a run's ``items.jsonl``, so
that two runs on the same items can be compared with a paired interval
(``culturalign.uncertainty``): for a metric that is a mean of per-item scores (accuracy,
cultureSim per question) the units are those scores; for CALI's F1s they are the pairs'
(gold, predicted) codes, with the statistic that turns them into an F1.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def headline_metrics(kind: str, summary: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}

    def put(name: str, value: Any) -> None:
        v = _num(value)
        if v is not None:
            out[name] = v

    if kind == "opinions":
        put("culture_sim", summary.get("culture_sim"))
        put("country_std", summary.get("country_std"))
    elif kind == "culturalbench":
        for variant in ("easy", "hard"):
            block = summary.get(variant) or {}
            put(f"{variant}_accuracy", block.get("accuracy"))
    elif kind == "cali":
        for culture, block in (summary.get("per_culture") or {}).items():
            put(f"{culture}/macro_f1", block.get("macro_f1"))
            put(f"{culture}/entailment_f1", block.get("entailment_f1"))
    elif kind == "blend":
        put("accuracy", summary.get("accuracy"))
        for lang, acc in (summary.get("per_language") or {}).items():
            # a bare accuracy, or a block with its interval ({accuracy, n, ci_low, ...})
            put(f"accuracy/{lang}", acc.get("accuracy") if isinstance(acc, dict) else acc)
    elif kind == "mcq":
        put("accuracy", summary.get("accuracy"))
        put("accuracy_norm", summary.get("accuracy_norm"))
    elif kind == "care-choice":
        put("accuracy_norm", (summary.get("overall") or {}).get("accuracy"))
    else:
        raise ValueError(f"no headline metrics for {kind!r}")
    return out


@dataclass
class MetricUnits:
    """One metric's per-item units: ``statistic`` is None when the metric is their mean."""

    units: dict[Hashable, Any]
    statistic: Callable[[Sequence[Any]], float | None] | None = None


def _items(run_dir: Path) -> list[dict[str, Any]]:
    f = Path(run_dir) / "items.jsonl"
    if not f.is_file():
        return []
    with f.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _flags(
    records: list[dict[str, Any]], field: str, key: Callable[[dict[str, Any]], Hashable]
) -> MetricUnits:
    return MetricUnits({key(r): float(bool(r[field])) for r in records if r.get(field) is not None})


def headline_units(kind: str, run_dir: str | Path) -> dict[str, MetricUnits]:
    """Per-item units behind each headline metric of one run directory ({} without
    ``items.jsonl``); keys identify the same item across runs."""
    records = _items(Path(run_dir))
    if not records:
        return {}
    out: dict[str, MetricUnits] = {}
    if kind == "opinions":
        by_q: dict[Hashable, list[float]] = {}
        for r in records:
            if r.get("similarity") is not None:
                by_q.setdefault(r["id"], []).append(float(r["similarity"]))
        out["culture_sim"] = MetricUnits({q: sum(v) / len(v) for q, v in by_q.items()})
    elif kind == "culturalbench":
        for variant in ("easy", "hard"):
            mine = [r for r in records if r.get("variant") == variant]
            if mine:
                out[f"{variant}_accuracy"] = _flags(mine, "correct", lambda r: r["id"])
    elif kind == "cali":
        out.update(_cali_units(records, Path(run_dir)))
    elif kind == "blend":
        out["accuracy"] = _flags(records, "correct", lambda r: (r["id"], r.get("language")))
        for lang in sorted({r.get("language") for r in records if r.get("language")}):
            mine = [r for r in records if r.get("language") == lang]
            out[f"accuracy/{lang}"] = _flags(mine, "correct", lambda r: r["id"])
    elif kind == "mcq":
        out["accuracy"] = _flags(records, "correct", lambda r: r["id"])
        if any("correct_norm" in r for r in records):
            out["accuracy_norm"] = _flags(records, "correct_norm", lambda r: r["id"])
    elif kind == "care-choice":
        out["accuracy_norm"] = _flags(records, "correct_norm", lambda r: r["id"])
    return out


def _cali_units(records: list[dict[str, Any]], run_dir: Path) -> dict[str, MetricUnits]:
    from culturalign.evals.choice.cali import NLI_LABELS, f1_of_codes

    summary_file = run_dir / "summary.json"
    tuned = False
    if summary_file.is_file():
        tuned = bool(json.loads(summary_file.read_text(encoding="utf-8")).get("tuned_threshold"))
    key = "pred_threshold" if tuned else "pred"
    out: dict[str, MetricUnits] = {}
    for culture in dict.fromkeys(r["culture"] for r in records):
        codes = {
            r["id"]: 3 * NLI_LABELS.index(r["gold"]) + NLI_LABELS.index(r[key])
            for r in records
            if r["culture"] == culture
            and r.get("gold") is not None
            and r.get(key) is not None
            and (not tuned or r.get("split") == "test")
        }
        out[f"{culture}/macro_f1"] = MetricUnits(codes, lambda u: f1_of_codes(u, None))
        out[f"{culture}/entailment_f1"] = MetricUnits(codes, lambda u: f1_of_codes(u, 0))
    return out
