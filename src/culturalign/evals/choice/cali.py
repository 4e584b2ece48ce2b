"""Culturally aware NLI (CALI; paper 003 §5.2.3): does the model's judgement of a
premise/hypothesis pair follow the annotators of the culture it is asked to speak for?

For each pair and culture (United States, India) the model is given a persona of that
culture and three lettered relations; the next-token probabilities of ``E``, ``N``,
``C`` are renormalised. The gold label is the majority of that culture's annotators;
pairs without a strict majority (a 2-2-1 split) are dropped and counted.

Reported per culture: macro-F1 over E/N/C and the F1 of entailment (sklearn), plus
accuracy, each with a 95% interval: a percentile bootstrap over the scored pairs for the
two F1s (``statistic_interval``), a Wilson interval for accuracy. Predictions are the
most probable label. With ``tune_threshold`` an
entailment threshold (predict E when P(E) ≥ t, else the likelier of N and C) is chosen
on a deterministic dev split (a hash of each pair id) and every reported number comes
from the remaining test split only; the dev items are never scored into the results.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError
from culturalign.evals.choice.prompts import ChoicePrompts, culture_phrase
from culturalign.evals.choice.run import (
    INTERVAL_HEADERS,
    INTERVAL_NOTE,
    ChoiceRun,
    interval_cells,
    interval_fields,
    method_notes,
)
from culturalign.evals.choice.scoring import score_labels
from culturalign.evals.metrics import accuracy, argmax, f1_scores
from culturalign.lm.cached import LM
from culturalign.records import NLIItem
from culturalign.sampling import sample_limit
from culturalign.uncertainty import proportion_interval, statistic_interval

NLI_LABELS = ("E", "N", "C")
DEFAULT_CULTURES = ("United States", "India")


def split_of(item_id: str, dev_fraction: float, seed: int = 0) -> str:
    """``dev`` or ``test``, from a hash of the id: stable across runs and machines."""
    digest = hashlib.sha256(f"{seed}:{item_id}".encode()).digest()
    return "dev" if int.from_bytes(digest[:8], "big") / 2**64 < dev_fraction else "test"


def predict(probs: Sequence[float], threshold: float | None = None) -> str:
    """The label for E/N/C probabilities: argmax, or E when P(E) ≥ threshold and
    otherwise the likelier of N and C."""
    if threshold is None:
        return NLI_LABELS[argmax(probs)]
    if probs[0] >= threshold:
        return "E"
    return "N" if probs[1] >= probs[2] else "C"


def tune_threshold(p_entail: Sequence[float], probs: Sequence[Sequence[float]], gold: Sequence[str]) -> float:
    """The entailment threshold with the best entailment F1 on these (dev) items; ties go
    to the threshold closest to 0.5."""
    candidates = sorted({0.5, *p_entail})
    best_t, best_f1 = 0.5, -1.0
    for t in candidates:
        f1 = f1_scores(gold, [predict(p, t) for p in probs], NLI_LABELS)["E"]
        if f1 > best_f1 + 1e-12 or (abs(f1 - best_f1) <= 1e-12 and abs(t - 0.5) < abs(best_t - 0.5)):
            best_t, best_f1 = t, f1
    return best_t


def f1_of_codes(codes: Sequence[int], label: int | None) -> float:
    """F1 of one label (None: the macro mean over E/N/C) from pairs coded ``3 * gold +
    pred``; equal to ``f1_scores`` (sklearn, zero_division=0) and fast enough to run on
    every bootstrap resample."""
    import numpy as np

    m = np.bincount(np.asarray(codes, dtype=int), minlength=9).reshape(3, 3)
    tp = np.diag(m)
    denom = m.sum(axis=0) + m.sum(axis=1)  # 2 tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros(3), where=denom > 0)
    return float(f1.mean() if label is None else f1[label])


def f1_intervals(gold: Sequence[str], pred: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Bootstrap intervals over pairs for macro-F1 and entailment F1."""
    codes = [3 * NLI_LABELS.index(g) + NLI_LABELS.index(p) for g, p in zip(gold, pred, strict=True)]
    return {
        "macro_f1": interval_fields(statistic_interval(codes, lambda u: f1_of_codes(u, None))),
        "entailment_f1": interval_fields(statistic_interval(codes, lambda u: f1_of_codes(u, 0))),
    }


def metrics_for(records: Sequence[dict[str, Any]], key: str = "pred") -> dict[str, Any]:
    scored = [r for r in records if r.get("gold") is not None and r.get(key) is not None]
    gold = [r["gold"] for r in scored]
    pred = [r[key] for r in scored]
    f1 = f1_scores(gold, pred, NLI_LABELS)
    hits = [g == p for g, p in zip(gold, pred, strict=True)]
    return {
        "n": len(scored),
        "accuracy": accuracy(hits),
        "macro_f1": f1["macro"],
        "entailment_f1": f1["E"],
        "f1": {lab: f1[lab] for lab in NLI_LABELS},
        "intervals": {
            **f1_intervals(gold, pred),
            "accuracy": interval_fields(proportion_interval(sum(hits), len(hits))),
        },
    }


def summarise_cali(
    records: Sequence[dict[str, Any]], cultures: Sequence[str], tuned: dict[str, float] | None
) -> dict[str, Any]:
    per: dict[str, Any] = {}
    for c in cultures:
        mine = [r for r in records if r["culture"] == c]
        block: dict[str, Any] = {
            "pairs": len(mine),
            "ties_dropped": sum(1 for r in mine if r["gold"] is None),
            "failed": sum(1 for r in mine if r["gold"] is not None and r.get("pred") is None),
        }
        if tuned is None:
            block.update(metrics_for(mine))
        else:
            test = [r for r in mine if r["split"] == "test"]
            block["threshold"] = tuned.get(c)
            block["dev_pairs"] = sum(1 for r in mine if r["split"] == "dev")
            block.update(metrics_for(test, "pred_threshold"))
            block["argmax_on_test"] = metrics_for(test)
        per[c] = block
    return {"per_culture": per, "tuned_threshold": tuned is not None}


def run_cali(
    lm: LM,
    items: Sequence[Any],
    out_dir: str | Path,
    *,
    cultures: Sequence[str] = DEFAULT_CULTURES,
    tune: bool = False,
    dev_fraction: float = 0.3,
    seed: int = 0,
    chat: bool = True,
    template_dir: str | Path | None = None,
    limit: int | None = None,
    data_path: str | Path | None = None,
    limit_order: str = "stratified",
    robustness: int = 0,
) -> dict[str, Any]:
    """Macro-F1 and entailment F1 per culture on CALI pairs. ``robustness`` K > 0 also
    scores every pair under K orders of the three relations × three lettered wordings
    (``evals.robustness``)."""
    if robustness < 0:
        raise ConfigError(f"--robustness must be 0 or more, not {robustness}")
    pairs = [i for i in items if isinstance(i, NLIItem)]
    pairs = sample_limit(pairs, limit, order=limit_order)  # stratified unless limit_order="file"
    labelled = {c for p in pairs for c in p.labels}
    if unknown := sorted(set(cultures) - labelled):  # else a row of zeros for that culture
        raise ConfigError(
            f"--culture {', '.join(unknown)}: no annotator labels for it in the data; "
            f"labelled cultures: {', '.join(sorted(labelled))}"
        )
    prompts = ChoicePrompts(template_dir, chat)
    config = {
        "pairs": len(pairs),
        "cultures": list(cultures),
        "tune_threshold": tune,
        "chat": chat,
        "limit": limit,
        "limit_order": limit_order if limit is not None else None,
    }
    if tune:
        config.update(dev_fraction=dev_fraction, seed=seed)
    if robustness:
        config["robustness"] = robustness
    run = ChoiceRun(out_dir, "eval-cali", lm, config)
    run.add_data(data_path)
    try:
        units = [(p, c) for p in pairs for c in cultures if c in p.labels]
        scored = score_labels(
            lm,
            [
                prompts.prompt("cali", premise=p.premise, hypothesis=p.hypothesis, culture=culture_phrase(c))
                for p, c in units
            ],
            [list(NLI_LABELS)] * len(units),
            prefix=prompts.prefix(),
            desc="CALI (pair × culture)",
        )
        records = []
        for (p, c), s in zip(units, scored, strict=True):
            rec: dict[str, Any] = {
                "id": p.id,
                "culture": c,
                "premise": p.premise,
                "hypothesis": p.hypothesis,
                "votes": p.labels[c],
                "gold": p.gold(c),
                **s.as_record(),
                "pred": None if s.choice is None else NLI_LABELS[s.choice],
            }
            if tune:
                rec["split"] = split_of(p.id, dev_fraction, seed)
            records.append(rec)
        tuned = _tune(records, cultures) if tune else None
        for rec in records:
            if tuned is not None and rec["probs"] is not None and rec["culture"] in tuned:
                rec["pred_threshold"] = predict(rec["probs"], tuned[rec["culture"]])
            run.write_item(rec)
        summary = summarise_cali(records, cultures, tuned)
        robust_notes = (
            _robustness(lm, prompts, pairs, cultures, robustness, summary, out_dir) if robustness else []
        )
    except BaseException:
        run.abort()
        raise
    methods: dict[str, int] = {}
    for r in records:
        methods[r["method"]] = methods.get(r["method"], 0) + 1
    summary.update(benchmark="cali", methods=methods)
    notes = method_notes(methods) + robust_notes
    if tune:
        notes.append(
            f"Entailment thresholds were tuned on a dev split ({dev_fraction:.0%} of pairs by id hash); "
            "every reported number is on the remaining test pairs."
        )
    headers = ["culture", "pairs scored", "ties dropped"]
    for name in ("macro-F1", "entailment F1", "accuracy"):
        headers += [name, *(f"{name} {h}" for h in INTERVAL_HEADERS)]
    if tune:
        headers.append("threshold")
    rows = []
    for c, b in summary["per_culture"].items():
        ci = b["intervals"]
        row = [c, b["n"], b["ties_dropped"]]
        for key in ("macro_f1", "entailment_f1", "accuracy"):
            row += [b[key], *interval_cells(ci[key])]
        rows.append([*row, b["threshold"]] if tune else row)
    return run.finish(
        summary,
        headers,
        rows,
        prompts=prompts.shas,
        notes=notes,
        title="CALI (culturally aware NLI)" + _stability(summary),
        footnotes=[INTERVAL_NOTE],
    )


def _tune(records: list[dict[str, Any]], cultures: Sequence[str]) -> dict[str, float]:
    out = {}
    for c in cultures:
        dev = [r for r in records if r["culture"] == c and r["split"] == "dev" and r["gold"] and r["probs"]]
        if dev:
            out[c] = tune_threshold(
                [r["probs"][0] for r in dev], [r["probs"] for r in dev], [r["gold"] for r in dev]
            )
    return out


def _robustness(
    lm: LM,
    prompts: ChoicePrompts,
    pairs: Sequence[NLIItem],
    cultures: Sequence[str],
    k: int,
    summary: dict[str, Any],
    out_dir: str | Path,
) -> list[str]:
    """Macro-F1 per culture under K relation orders × three wordings; into the summary."""
    from culturalign.evals.robustness import headline_note, write_outputs
    from culturalign.evals.robustness.benchmarks import cali_robustness

    intervals = {c: (b.get("intervals") or {}).get("macro_f1") for c, b in summary["per_culture"].items()}
    rb, records = cali_robustness(lm, prompts, pairs, cultures, k, intervals=intervals)
    write_outputs(out_dir, records, {f"CALI {c} macro-F1": b for c, b in rb["per_culture"].items()})
    summary["robustness"] = rb
    notes = [
        "Robustness: the variants list the three relations with letters A–C in K orders (argmax, "
        "all pairs with a majority label); the headline prompt uses E/N/C and is not one of them."
    ]
    notes += [headline_note(f"{c} macro-F1", b) for c, b in rb["per_culture"].items()]
    return notes + rb["flags"]


def _stability(summary: dict[str, Any]) -> str:
    rb = summary.get("robustness")
    if not rb:
        return ""
    return ": " + ("stable" if rb["stable"] else "NOT STABLE") + " under option order and wording"
