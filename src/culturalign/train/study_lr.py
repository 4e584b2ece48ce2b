"""``study lr``: CARE's learning-rate search as the paper ran it (paper 000 appendix B).

CARE tunes the learning rate over {1e-7, 5e-7, 9e-7}. Each rate trains on the same
training pool and is scored on the same held-out pairs (the study's evaluation, by
default the chosen-vs-rejected gap on them); the best rate is then trained once more on
every pair, training pool and held-out pairs together, since the held-out share has done
its job once the rate is chosen. The held-out pairs come from ``--heldout FILE`` or are
split off up front, as in the other studies (``studies.Study``), and the notes say
which.

Cells are the other studies' cells (``OUT/cells/lr-RATE``), so a rerun skips finished
rates; the final model lives in ``OUT/final/model`` and resumes like any training.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError
from culturalign.io import write_json, write_records
from culturalign.train.presets import CARE_LEARNING_RATES
from culturalign.train.studies import BOOKKEEPING, Study, StudyConfig
from culturalign.train.study_report import StudyTable

# metrics where lower is better; every other metric is taken as higher-is-better
_LOWER_IS_BETTER = ("loss", "invalid", "refusal", "error")


def parse_rates(text: str) -> list[float]:
    """``1e-7,5e-7`` -> [1e-7, 5e-7]; a clear error for anything that is not a positive number."""
    try:
        rates = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"--rates {text!r}: write comma-separated numbers, e.g. 1e-7,5e-7,9e-7") from None
    if not rates or any(r <= 0 for r in rates):
        raise ConfigError(f"--rates {text!r}: learning rates must be positive numbers")
    return rates


def _better(metric: str) -> int:
    return -1 if any(word in metric for word in _LOWER_IS_BETTER) else 1


def choose_rate(rows: Sequence[dict[str, Any]], metric: str) -> dict[str, Any]:
    """The row with the best ``metric`` (ties: the smaller rate, the gentler change)."""
    scored = [r for r in rows if isinstance(r.get(metric), float)]
    if not scored:
        raise ConfigError(
            f"no learning rate was scored on {metric!r}; the evaluation gave no value to choose by"
        )
    sign = _better(metric)
    return max(scored, key=lambda r: (sign * r[metric], -r["learning rate"]))


def run_lr(
    model: str,
    data: str | Path,
    out: str | Path,
    cfg: StudyConfig,
    rates: Sequence[float] = CARE_LEARNING_RATES,
    heldout: str | Path | None = None,
    select_by: str | None = None,
) -> StudyTable:
    """Train at each rate, choose by ``select_by`` (default: the evaluation's main metric)
    on the held-out pairs, then train the chosen rate on all the pairs."""
    from culturalign.train.run import train

    if not rates:
        raise ConfigError("--rates: give at least one learning rate")
    study = Study("lr", model, Path(data), Path(out), cfg, Path(heldout) if heldout else None)
    base_cfg = study.cfg
    # the shared note names the config's rate, which no cell of this study uses
    study.notes[1] = study.notes[1].replace(f"lr {cfg.train.learning_rate:g}", "lr: each row's")
    rows, names = [], []
    for rate in sorted(set(rates)):
        name = f"lr-{rate:g}"
        train_cfg = base_cfg.train.model_copy(deep=True)
        train_cfg.learning_rate = rate
        study.cfg = base_cfg.model_copy(update={"train": train_cfg})
        rows.append({"learning rate": rate, **study.cell(name, study.pool)})
        names.append(name)
    study.cfg = base_cfg
    metrics = study.metric_names(rows, BOOKKEEPING | {"learning rate"})
    metric = select_by or (metrics[0] if metrics else "gap")
    if metric not in metrics:
        raise ConfigError(f"--select-by {metric!r}: the evaluation gave {', '.join(metrics) or 'no metric'}")
    best = choose_rate(rows, metric)
    for row in rows:
        row["chosen"] = "yes" if row is best else ""
    final = _train_final(study, train, best["learning rate"])
    study.notes += [
        f"chosen: learning rate {best['learning rate']:g} by {metric} "
        f"({'lower' if _better(metric) < 0 else 'higher'} is better) on {len(study.held)} held-out pairs",
        f"final model: {final['pairs']} pairs (training pool and held-out pairs) at lr "
        f"{best['learning rate']:g}, in {final['model']}",
    ]
    write_json(study.out / "final" / "lr.json", {"select_by": metric, "chosen": best, "final": final})
    title = (
        f"Learning rate: {cfg.method.upper()} at {', '.join(f'{r:g}' for r in sorted(set(rates)))} ({model})"
    )
    return study.finish(title, "learning rate", rows, metrics, cells=names, reference=None)


def _train_final(study: Study, train, rate: float) -> dict[str, Any]:
    """The chosen rate on every pair; no held-out gap is left to measure, and none is claimed."""
    everything = list(study.pool) + [p for p in study.held if p not in study.pool]
    path = study.out / "data" / "all.jsonl"
    write_records(path, everything)
    train_cfg = study.cfg.train.model_copy(deep=True)
    train_cfg.learning_rate = rate
    train_cfg.heldout.measure = False
    train_cfg.heldout.file = None
    folder = study.out / "final" / "model"
    result = train(study.cfg.method, study.model, path, folder, config=train_cfg, resume=True)
    return {"pairs": len(everything), "model": str(folder), "steps": result.steps, "learning_rate": rate}
