"""What the fidelity studies share: seeded training cells, per-item scores, and an effect
with an interval over seeds *and* items, read as reproduced / not reproduced / inconclusive.

A paper's effect on a small model is a difference between two arms (after training vs
before, 100% vs 25% of the data, target vs control country, s = r·d picks vs random
picks). Two sources of noise move it: which items were evaluated and how training went
(LoRA initialisation, data order). Each seed trains every arm afresh with that seed, and
each arm's score is kept per evaluation item, so an effect is a matrix of per-seed,
per-item differences. Its interval comes from a two-level bootstrap: seeds are resampled,
then items (the same items for every seed, since all seeds are scored on the same items),
and the mean difference recomputed. With three seeds the seed level is coarse, but it
keeps an effect that one lucky seed produced from looking certain.

Verdicts, for an effect the papers report as positive:

* ``reproduced``: the 95% interval lies above 0;
* ``not reproduced``: the interval lies below 0 (the opposite of the paper's direction
  is what was measured);
* ``inconclusive``: the interval includes 0, or there are too few items for one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from culturalign.train.presets import TrainConfig

log = logging.getLogger(__name__)

RESAMPLES = 2000
LEVEL = 0.95
VERDICTS = ("reproduced", "not reproduced", "inconclusive")


def seeded_effect(
    per_seed: Sequence[Mapping[Hashable, float]],
    *,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
    rng_seed: int = 0,
) -> dict[str, Any]:
    """The mean of per-seed, per-item differences with a seeds-then-items bootstrap
    interval. Only items present for every seed are used (the rest are counted)."""
    if not per_seed:
        raise ValueError("no seeds to estimate an effect from")
    shared = sorted(set.intersection(*(set(d) for d in per_seed)), key=str)
    every = set().union(*(set(d) for d in per_seed))
    out: dict[str, Any] = {
        "n_seeds": len(per_seed),
        "n_items": len(shared),
        "left_out_items": len(every) - len(shared),
        "per_seed": [round(float(np.mean([d[k] for k in shared])), 6) if shared else None for d in per_seed],
    }
    if not shared:
        return {**out, "value": None, "ci_low": None, "ci_high": None, "verdict": "inconclusive"}
    grid = np.array([[float(d[k]) for k in shared] for d in per_seed])  # seeds x items
    out["value"] = round(float(grid.mean()), 6)
    if len(shared) < 2:
        return {**out, "ci_low": None, "ci_high": None, "verdict": "inconclusive"}
    rng = np.random.default_rng(rng_seed)
    s_idx = rng.integers(0, grid.shape[0], size=(resamples, grid.shape[0]))
    i_idx = rng.integers(0, grid.shape[1], size=(resamples, grid.shape[1]))
    # the mean of grid[s*, i*] is the mean over resampled seeds of each seed's item-resampled mean
    item_means = np.stack([grid[:, idx].mean(axis=1) for idx in i_idx])  # resamples x seeds
    stats = np.take_along_axis(item_means, s_idx, axis=1).mean(axis=1)
    lo, hi = np.percentile(stats, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    out.update(ci_low=round(float(lo), 6), ci_high=round(float(hi), 6), level=level)
    out["verdict"] = fidelity_verdict(out)
    return out


def fidelity_verdict(effect: Mapping[str, Any]) -> str:
    """reproduced (interval above 0), not reproduced (below 0), inconclusive (otherwise)."""
    lo, hi = effect.get("ci_low"), effect.get("ci_high")
    if lo is None or hi is None:
        return "inconclusive"
    if lo > 0:
        return "reproduced"
    if hi < 0:
        return "not reproduced"
    return "inconclusive"


def differences(a: Mapping[Hashable, float], b: Mapping[Hashable, float]) -> dict[Hashable, float]:
    """``a - b`` per item scored in both."""
    return {k: float(a[k]) - float(b[k]) for k in a if k in b}


def effect_line(name: str, effect: Mapping[str, Any], digits: int = 4) -> str:
    """``name: +0.0123 [−0.0040, +0.0290] (3 seeds x 40 items) inconclusive``."""
    value = effect.get("value")
    if value is None:
        return f"{name}: – (no items) inconclusive"
    if effect.get("ci_low") is None:
        ci = "[no interval]"
    else:
        ci = f"[{effect['ci_low']:+.{digits}f}, {effect['ci_high']:+.{digits}f}]"
    return (
        f"{name}: {value:+.{digits}f} {ci} ({effect['n_seeds']} seeds x {effect['n_items']} items) "
        f"{effect['verdict']}"
    )


# -- training and scoring one cell -----------------------------------------------------------


def train_cell(method: str, model: str, data: Path, out_dir: Path, cfg: TrainConfig, seed: int) -> str:
    """Train ``model`` on ``data`` with ``seed`` (LoRA init and data order), or reuse a
    finished folder; returns the trained model's spec. The studies measure held-out
    items themselves, so training holds nothing out."""
    from transformers import set_seed

    from culturalign.train.run import train

    cell_cfg = cfg.model_copy(deep=True)
    cell_cfg.seed = seed
    cell_cfg.heldout.measure = False
    cell_cfg.heldout.file = None
    set_seed(seed)  # TRL seeds again before adding the adapter; this covers the steps before it
    result = train(method, model, data, out_dir, config=cell_cfg, resume=True)
    log.info("trained %s in %.0f s (%d steps)", out_dir.name, result.seconds, result.steps)
    return f"hf:{out_dir}"


def gap_scores(spec: str, pairs: Sequence[Any], out_dir: Path) -> dict[Hashable, float]:
    """Per held-out pair log P(chosen) − log P(rejected), keyed by position; cached."""
    from culturalign.io import write_json
    from culturalign.train.gap import gap_report

    f = out_dir / "gap.json"
    if not f.is_file():
        report = gap_report(spec, list(pairs))
        write_json(f, report.model_dump(mode="json"))
    diffs = json.loads(f.read_text(encoding="utf-8"))["diffs"]
    return {i: float(d) for i, d in enumerate(diffs)}


def _items(out_dir: Path) -> list[dict[str, Any]]:
    f = out_dir / "items.jsonl"
    if not f.is_file():
        return []
    return [json.loads(line) for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]


def care_choice_scores(spec: str, questions: Sequence[Any], out_dir: Path, *, lang: str = "en") -> dict:
    """Per question 1/0: was its own reference answer the likeliest (length-normalised)?"""
    from culturalign.evals.care.choice import item_scores, run_care_choice
    from culturalign.lm import load_lm

    if not (out_dir / "summary.json").is_file():
        lm = load_lm(spec, cache=None)
        try:
            run_care_choice(lm, list(questions), out_dir, lang=lang)
        finally:
            _close(lm)
    return item_scores(_items(out_dir))


def opinion_scores(
    spec: str, items: Sequence[Any], countries: Sequence[str], out_dir: Path
) -> dict[str, dict[Hashable, float]]:
    """``{country: {question id: similarity}}`` on ``items`` (eval opinions, country named)."""
    from culturalign.evals.choice.opinions import run_opinions
    from culturalign.lm import load_lm

    if not (out_dir / "summary.json").is_file():
        lm = load_lm(spec, cache=None)
        try:
            run_opinions(lm, list(items), out_dir, countries=list(countries), unsteered=False)
        finally:
            _close(lm)
    out: dict[str, dict[Hashable, float]] = {c: {} for c in countries}
    for r in _items(out_dir):
        if r.get("similarity") is not None and r.get("country") in out:
            out[r["country"]][r["id"]] = float(r["similarity"])
    return out


def _close(lm: Any) -> None:
    close = getattr(lm, "close", None)
    if close is not None:
        close()


def write_effects(
    out: Path, title: str, effects: Mapping[str, Mapping[str, Any]], notes: Sequence[str]
) -> Path:
    """``fidelity.json`` (every number) and ``fidelity.md`` (one line per effect)."""
    from culturalign.io import atomic_write_text, write_json

    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "fidelity.json", {"title": title, "effects": dict(effects), "notes": list(notes)})
    lines = [f"# {title}", ""] + [f"- {effect_line(n, e)}" for n, e in effects.items()]
    lines += ["", *[f"- {n}" for n in notes]]
    atomic_write_text(out / "fidelity.md", "\n".join(lines) + "\n")
    return out / "fidelity.json"
