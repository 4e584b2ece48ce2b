"""The few numbers that summarise a choice-benchmark run, for study tables and run logs.

Pure: a benchmark's ``summary.json`` dict in, ``{metric: value}`` out. Per-country and
per-topic breakdowns stay in the run directory; these are the paper-level figures
(cultureSim and its spread, CulturalBench-Easy/Hard accuracy, CALI macro-F1 and
entailment F1 per culture, BLEnD accuracy per language, MCQ accuracy).
"""

from __future__ import annotations

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
            put(f"accuracy/{lang}", acc)
    elif kind == "mcq":
        put("accuracy", summary.get("accuracy"))
        put("accuracy_norm", summary.get("accuracy_norm"))
    else:
        raise ValueError(f"no headline metrics for {kind!r}")
    return out
