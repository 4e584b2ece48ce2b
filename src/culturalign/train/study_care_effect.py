"""CARE's two training effects, over seeds (paper 000 §4, Fig. 4), without a judge.

1. DPO (with LoRA on a small model) on CARE-shaped preference pairs should raise, on
   questions *not trained on*, the held-out preference gap (``train/gap.py``) and the
   judge-free CARE reference choice (``evals/care/choice.py``).
2. More preference data should help more: training on 100% of the pairs should give a
   larger held-out gap than training on 25% of them (the direction of Fig. 4).

The pairs are split once by question (``split_seed``) into training pairs and held-out
pairs. The reference-choice questions are a separate question set, with any question
whose text is also a training prompt left out. Each seed shuffles the training pairs
(the 25% share is the seed's first quarter), seeds the LoRA initialisation and the data
order, and trains both shares. Every comparison is per item and per seed, so its
interval (``study_seeds.seeded_effect``) carries both kinds of noise.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError
from culturalign.io import write_records
from culturalign.records import CulturalQuestion, PreferencePair
from culturalign.train.presets import TrainConfig
from culturalign.train.study_seeds import (
    care_choice_scores,
    differences,
    gap_scores,
    seeded_effect,
    train_cell,
    write_effects,
)

EFFECT_GAP = "care_dpo_heldout_gap"
EFFECT_CHOICE = "care_dpo_reference_choice"
EFFECT_SCALING = "care_scaling_gap_100_vs_25"
EFFECT_SCALING_EQUAL_STEPS = "care_scaling_gap_100_vs_25_equal_steps"


def load_preference_pairs(path: str | Path, lang: str = "native") -> list[PreferencePair]:
    """Pairs from a pairs file, or built best-vs-worst from rated CARE responses."""
    from culturalign.datasets import load_any
    from culturalign.datasets.pairs import make_pairs

    records = load_any(path)[1]
    if records and all(isinstance(r, PreferencePair) for r in records):
        return list(records)
    questions = [r for r in records if isinstance(r, CulturalQuestion)]
    if not questions:
        raise ConfigError(f"{path}: neither preference pairs nor rated CARE responses")
    result = make_pairs(questions, lang=lang)
    result.require_records(str(path), "pairs")
    return result.records


def _prompt_text(p: PreferencePair) -> str:
    return " ".join(m.content for m in p.prompt if m.role == "user").strip()


def unseen_questions(
    questions: Sequence[Any], trained: Sequence[PreferencePair], limit: int | None = None
) -> tuple[list[CulturalQuestion], int]:
    """Questions with a reference answer whose id and text (either language) are not a
    training prompt; a seeded sample of ``limit`` of them. Returns (questions, how many
    were left out because training saw them)."""
    seen_ids = {p.question_id for p in trained}
    seen_text = {_prompt_text(p) for p in trained}
    qs = [q for q in questions if isinstance(q, CulturalQuestion)]
    keep = [
        q
        for q in qs
        if q.id not in seen_ids
        and (q.text or "").strip() not in seen_text
        and (q.text_en or "").strip() not in seen_text
    ]
    seen = len(qs) - len(keep)
    if limit is not None and len(keep) > limit:
        keep = sorted(random.Random(0).sample(keep, limit), key=lambda q: q.id)
    return keep, seen


def run_care_effect(
    model: str,
    pairs_data: str | Path,
    questions_data: str | Path,
    out: str | Path,
    cfg: TrainConfig,
    *,
    method: str = "dpo",
    seeds: Sequence[int] = (0, 1, 2),
    small_fraction: float = 0.25,
    heldout_fraction: float = 0.25,
    split_seed: int = 0,
    max_train_pairs: int | None = None,
    eval_limit: int | None = None,
    lang: str = "en",
    equal_steps: bool = False,
) -> dict[str, Any]:
    """Effects 1 and 2 (see the module docstring); writes ``OUT/fidelity.json``.

    At equal epochs (CARE's setting) the small share also gets fewer optimizer steps.
    ``equal_steps=True`` adds a control arm: the small share trained for proportionally
    more epochs, as many steps as 100%, so that comparison differs only in how many
    distinct pairs the model saw."""
    from culturalign.datasets import load_any
    from culturalign.train.data import split_heldout

    if not 0 < small_fraction < 1:
        raise ConfigError(f"--small-fraction must lie strictly between 0 and 1, not {small_fraction:g}")
    if not seeds:
        raise ConfigError("--seeds: at least one seed is needed")
    out = Path(out)
    pairs = load_preference_pairs(pairs_data)
    pool, held = split_heldout(pairs, fraction=heldout_fraction, min_n=2, max_n=10_000, seed=split_seed)
    if len(held) < 2 or len(pool) < 4:
        raise ConfigError(
            f"{pairs_data}: {len(pairs)} pairs give {len(pool)} to train on and {len(held)} held out; "
            "need at least 4 and 2"
        )
    if max_train_pairs is not None and len(pool) > max_train_pairs:
        pool = random.Random(split_seed).sample(pool, max_train_pairs)
    questions, left_out = unseen_questions(load_any(questions_data)[1], pool + held, eval_limit)
    if not questions:
        raise ConfigError(f"{questions_data}: no questions left that the pairs do not train on")
    data_dir = out / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    write_records(data_dir / "heldout.jsonl", held)
    n_small = max(1, round(small_fraction * len(pool)))

    vanilla = out / "cells" / "vanilla"
    base_gap = gap_scores(model, held, _mk(vanilla / "gap"))
    base_choice = care_choice_scores(model, questions, vanilla / "care-choice", lang=lang)
    gap_full, gap_small, gap_small_eq, choice_full = [], [], [], []
    small = f"{round(100 * small_fraction):03d}pct"
    for seed in seeds:
        order = list(pool)
        random.Random(seed).shuffle(order)
        arms = [("100pct", order, cfg), (small, order[:n_small], cfg)]
        if equal_steps:  # a control arm: the small share for as many optimizer steps as 100%
            longer = cfg.model_copy(update={"epochs": cfg.epochs * len(order) / n_small})
            arms.append((f"{small}-equal-steps", order[:n_small], longer))
        for name, part, cell_cfg in arms:
            data = data_dir / f"seed{seed}-{name}.jsonl"
            write_records(data, part)
            cell = out / "cells" / f"seed{seed}-{name}"
            spec = train_cell(method, model, data, cell / "model", cell_cfg, seed)
            gaps = gap_scores(spec, held, _mk(cell / "gap"))
            if name == "100pct":
                gap_full.append(gaps)
                choice_full.append(care_choice_scores(spec, questions, cell / "care-choice", lang=lang))
            else:
                (gap_small_eq if name.endswith("equal-steps") else gap_small).append(gaps)
    effects = {
        EFFECT_GAP: seeded_effect([differences(g, base_gap) for g in gap_full]),
        EFFECT_CHOICE: seeded_effect([differences(c, base_choice) for c in choice_full]),
        EFFECT_SCALING: seeded_effect([differences(a, b) for a, b in zip(gap_full, gap_small, strict=True)]),
    }
    if equal_steps:
        effects[EFFECT_SCALING_EQUAL_STEPS] = seeded_effect(
            [differences(a, b) for a, b in zip(gap_full, gap_small_eq, strict=True)]
        )
    effects[EFFECT_GAP]["vanilla"] = _mean(base_gap)
    effects[EFFECT_CHOICE]["vanilla"] = _mean(base_choice)
    effects[EFFECT_CHOICE]["chance"] = round(1 / (1 + 3), 4)
    notes = [
        f"{method.upper()} on {len(pool)} training pairs (25% arm: {n_small}); {len(held)} held-out pairs "
        f"from other questions (split seed {split_seed})",
        f"reference choice on {len(questions)} questions not trained on"
        + (f" (a seeded sample of {eval_limit})" if eval_limit else "")
        + f"; {left_out} left out because training saw them; lang {lang}",
        f"seeds {', '.join(map(str, seeds))}: each reshuffles the pairs and seeds LoRA init and data order",
        f"training: preset {cfg.preset}, lr {cfg.learning_rate:g}, epochs {cfg.epochs:g}, max_steps "
        f"{cfg.max_steps}, batch {cfg.effective_batch_size}, max_length {cfg.max_length}"
        + (", LoRA" if cfg.lora.enabled else ""),
    ]
    if equal_steps:
        notes.append(
            "equal-steps control: the small share also trained for proportionally more epochs, as many "
            "optimizer steps as 100%"
        )
    write_effects(out, f"CARE training effects over seeds ({model})", effects, notes)
    return {"effects": effects, "notes": notes}


def _mk(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _mean(scores: dict) -> float | None:
    return round(sum(scores.values()) / len(scores), 6) if scores else None
