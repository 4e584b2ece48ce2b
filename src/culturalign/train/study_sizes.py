"""``study sizes``: training-set size in selection-rank order (paper 002 Fig. 2).

CAReDiO grows the training set from 100 to 1,000 samples per culture by taking the top
k of its selection, not random shares: the question is whether the best-ranked samples
already carry the gain. The input is pairs in rank order, as ``synth export --dpo``
writes them from ``select``'s picks (each culture's picks in rank order); a cell of size
k trains on the pairs of the first k samples (question ids) of every culture, so every
larger cell contains every smaller one. Size 0 is the vanilla model and the reference
of the paired changes.

SFT trains on each sample's chosen answer once, however many rejected answers the
export paired with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from culturalign.errors import ConfigError
from culturalign.records import PreferencePair
from culturalign.train.studies import Study, StudyConfig
from culturalign.train.study_report import StudyTable

DEFAULT_SIZES = (0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000)


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"--sizes {text!r}: write comma-separated counts, e.g. 0,100,500,1000") from None
    if not sizes or any(k < 0 for k in sizes):
        raise ConfigError(f"--sizes {text!r}: sizes are counts of samples per culture, 0 or more")
    return sizes


def ranked_ids(pairs: Sequence[PreferencePair]) -> dict[str, list[str]]:
    """Each culture's sample ids in the order the file gives them (the selection rank)."""
    out: dict[str, list[str]] = {}
    for p in pairs:
        ids = out.setdefault(p.culture or "", [])
        if p.question_id not in ids:
            ids.append(p.question_id)
    return out


def top_k(pairs: Sequence[PreferencePair], k: int, *, one_per_sample: bool = False) -> list[PreferencePair]:
    """The pairs of each culture's first ``k`` samples, in file order."""
    keep = {(c, q) for c, ids in ranked_ids(pairs).items() for q in ids[:k]}
    out, seen = [], set()
    for p in pairs:
        key = (p.culture or "", p.question_id)
        if key in keep and not (one_per_sample and key in seen):
            out.append(p)
            seen.add(key)
    return out


def run_sizes(
    model: str,
    data: str | Path,
    out: str | Path,
    sizes: Sequence[int],
    cfg: StudyConfig,
    heldout: str | Path | None = None,
) -> StudyTable:
    """Train on the top k samples per culture for every k in ``sizes`` and evaluate each."""
    if not sizes or any(k < 0 for k in sizes):
        raise ConfigError("--sizes: give counts of samples per culture, 0 or more")
    study = Study("sizes", model, Path(data), Path(out), cfg, Path(heldout) if heldout else None)
    ranks = ranked_ids(study.pool)
    most = max(len(ids) for ids in ranks.values())
    sft = cfg.method == "sft"
    rows, names = [], []
    for k in sorted(set(sizes)):
        name = f"top{k:05d}"
        picked = top_k(study.pool, k, one_per_sample=sft) if k else None
        row = study.cell(name, picked)
        rows.append({"samples per culture": k, **row})
        names.append(name)
    short = {c or "(no culture)": len(ids) for c, ids in ranks.items() if len(ids) < max(sizes)}
    if short:
        study.notes.append(
            "fewer samples than the largest size, so the larger cells use all of them: "
            + ", ".join(f"{c} {n}" for c, n in sorted(short.items()))
        )
    study.notes.append(
        f"{len(ranks)} culture(s), up to {most} ranked samples each; cells take each culture's top k in file order"
    )
    title = f"Training-set size in selection-rank order: {cfg.method.upper()} ({model})"
    return study.finish(
        title, "samples per culture", rows, cells=names, reference=names[0] if 0 in sizes else None
    )
