"""Opinion alignment over seeds: train toward one country's survey answers, and check that
held-out similarity rises for *that* country more than for a control country.

Papers 002 (§4.1) and 003 (§5.2) score models by how close their answer distributions
sit to each country's survey shares, and compare against CultureLLM-style baselines
trained on the survey answers themselves. The claim tested here is the baseline's
premise: training on country T's answers (SFT on answers drawn by T's shares, or DPO on
more- over less-chosen options, ``datasets/survey_export.py``) moves the model toward T
on questions it never saw.

A plain "T's similarity rose" is not enough: any training on opinion prompts also
changes how sharp the model's distributions are, which moves similarity for every
country (our one-seed pilot: −0.022 for the target, −0.040 for the control). The effect
is therefore a difference in differences per held-out question,

    (after_T − before_T) − (after_C − before_C),

over seeds, with the seeds-then-questions interval of ``study_seeds``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError
from culturalign.train.presets import TrainConfig
from culturalign.train.study_seeds import (
    differences,
    opinion_scores,
    seeded_effect,
    train_cell,
    write_effects,
)

EFFECT = "opinion_target_minus_control"
DATA_FILES = {"sft": "sft.jsonl", "dpo": "dpo.jsonl"}


def heldout_sample(items: Sequence[Any], limit: int | None, seed: int) -> list[Any]:
    """The seeded first ``limit`` held-out items (all of them without a limit), in id order."""
    items = list(items)
    if limit is not None and len(items) > limit:
        items = random.Random(seed).sample(items, limit)
    return sorted(items, key=lambda it: it.id)


def did_scores(
    before: dict[str, dict], after: dict[str, dict], target: str, control: str
) -> dict[Any, float]:
    """Per question: the target's change minus the control's change."""
    t = differences(after[target], before[target])
    c = differences(after[control], before[control])
    return differences(t, c)


def run_opinion_effect(
    model: str,
    survey_data: str | Path,
    out: str | Path,
    cfg: TrainConfig,
    *,
    target: str = "NGA",
    control: str = "USA",
    method: str = "sft",
    seeds: Sequence[int] = (0, 1, 2),
    heldout_fraction: float = 0.5,
    split_seed: int = 0,
    answers_per_question: int = 4,
    margin: float = 0.1,
    max_pairs: int | None = 3,
    max_train_questions: int | None = None,
    eval_limit: int | None = None,
) -> dict[str, Any]:
    """Effect 3 (see the module docstring); writes ``OUT/fidelity.json``."""
    from culturalign.datasets import load_any
    from culturalign.datasets.survey_export import export_survey, resolve_country

    if method not in DATA_FILES:
        raise ConfigError(f"--method: the opinion study trains with sft or dpo, not {method!r}")
    if not seeds:
        raise ConfigError("--seeds: at least one seed is needed")
    out = Path(out)
    items = load_any(survey_data)[1]
    exported = export_survey(
        items,
        target,
        out / "data",
        heldout_fraction=heldout_fraction,
        seed=split_seed,
        k=answers_per_question,
        margin=margin,
        max_pairs=max_pairs,
        max_train_questions=max_train_questions,
        data_path=survey_data,
    )
    t_name = exported.country
    c_name = resolve_country([it for it in items if getattr(it, "target_distributions", None)], control)
    if c_name == t_name:
        raise ConfigError("--control must name another country than --target")
    held_all = load_any(out / "data" / "heldout.jsonl")[1]
    held = [it for it in held_all if c_name in (it.target_distributions or {})]
    held = heldout_sample(held, eval_limit, split_seed)
    if len(held) < 2:
        raise ConfigError(
            f"{survey_data}: fewer than 2 held-out questions with shares for {t_name} and {c_name}"
        )
    data = out / "data" / DATA_FILES[method]
    countries = [t_name, c_name]
    before = opinion_scores(model, held, countries, out / "cells" / "vanilla" / "opinions")
    per_seed, target_change, control_change = [], [], []
    for seed in seeds:
        cell = out / "cells" / f"seed{seed}"
        spec = train_cell(method, model, data, cell / "model", cfg, seed)
        after = opinion_scores(spec, held, countries, cell / "opinions")
        per_seed.append(did_scores(before, after, t_name, c_name))
        target_change.append(differences(after[t_name], before[t_name]))
        control_change.append(differences(after[c_name], before[c_name]))
    effects = {
        EFFECT: seeded_effect(per_seed),
        "opinion_target_change": seeded_effect(target_change),
        "opinion_control_change": seeded_effect(control_change),
    }
    for name, country in (("opinion_target_change", t_name), ("opinion_control_change", c_name)):
        vals = before[country]
        effects[name]["vanilla"] = round(sum(vals.values()) / len(vals), 6) if vals else None
    n_train = exported.sft if method == "sft" else exported.dpo
    notes = [
        f"target {t_name}, control {c_name}; similarity = 1 - JS distance (eval opinions' default)",
        f"{method.upper()} on {n_train} examples from {len(exported.train_ids)} training questions; "
        f"scored on {len(held)} held-out questions (split seed {split_seed}, held-out fraction "
        f"{heldout_fraction:g})",
        f"seeds {', '.join(map(str, seeds))}: LoRA init and data order; the data and split stay fixed",
        f"training: preset {cfg.preset}, lr {cfg.learning_rate:g}, epochs {cfg.epochs:g}, max_steps "
        f"{cfg.max_steps}, batch {cfg.effective_batch_size}" + (", LoRA" if cfg.lora.enabled else ""),
    ]
    write_effects(out, f"Opinion alignment toward {t_name} over seeds ({model})", effects, notes)
    return {"effects": effects, "notes": notes}
