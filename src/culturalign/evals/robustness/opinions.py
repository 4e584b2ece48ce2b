"""Opinion distributions under option orders and wordings, and the two checks of
Khan et al. (2025) that need no extra calls: steerability and extrapolability.

* ``opinion_robustness``: cultureSim per variant (spread, argmax agreement), Kendall's
  tau between the country rankings of every two variants, and how stable the unsteered
  model's closest countries are (how often each country is in the top ``closest``).
* ``steerability``: per country, how much naming the country moves the model's answer
  toward that country's shares: similarity when steered minus similarity when not, per
  question, averaged with a bootstrap interval over questions.
* ``extrapolability``: questions split as the opinion study splits them (training and
  held-out halves); does the model's closeness to each country on one half predict it on
  the other (Spearman and Kendall correlation across countries)? If it does not, "the model is closest to X" is
  a fact about the questions asked, not about the model.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from culturalign.evals.choice.prompts import ChoicePrompts
from culturalign.evals.metrics import opinion_similarity
from culturalign.evals.robustness.core import AGREEMENT_MIN, Unit, block, score_variants
from culturalign.lm.cached import LM

STEERED_WORDINGS = ("opinion", "robust/opinion_2", "robust/opinion_3")
UNSTEERED_WORDINGS = ("opinion_unsteered", "robust/opinion_unsteered_2", "robust/opinion_unsteered_3")
TAU_MIN = 0.6  # mean Kendall tau of country ranks between variants below this: flagged


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _country_means(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    by_c: dict[str, list[float]] = {}
    for r in records:
        if r.get("similarity") is not None:
            by_c.setdefault(r["country"], []).append(r["similarity"])
    return {c: sum(v) / len(v) for c, v in by_c.items()}


def _taus(rankings: Sequence[Mapping[str, float]]) -> dict[str, Any]:
    """Kendall's tau between every two variants' per-country values (common countries)."""
    from scipy.stats import kendalltau

    taus = []
    for a, b in itertools.combinations(rankings, 2):
        common = sorted(set(a) & set(b))
        if len(common) < 3:
            continue
        tau = kendalltau([a[c] for c in common], [b[c] for c in common]).statistic
        if tau == tau:  # NaN when one side is constant
            taus.append(float(tau))
    return {"pairs": len(taus), "mean": _mean(taus), "min": min(taus) if taus else None}


def _by_variant(records: Sequence[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for r in records:
        out.setdefault(r["variant"], []).append(r)
    return dict(sorted(out.items()))


def _culture_sim(rs: Sequence[dict[str, Any]]) -> float | None:
    by_q: dict[str, list[float]] = {}
    for r in rs:
        if r.get("similarity") is not None:
            by_q.setdefault(r["id"], []).append(r["similarity"])
    return _mean([sum(v) / len(v) for v in by_q.values()])


def opinion_robustness(
    lm: LM,
    prompts: ChoicePrompts,
    units: Sequence[tuple[Any, str]],
    questions: Sequence[Any],
    k: int,
    *,
    unsteered: bool,
    countries: set[str] | None,
    closest: int,
    measure: str,
    interval: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The robustness block of an opinions run; ``units`` are its (question, country)."""
    steered_units = [
        Unit(f"{q.id}|{c}", q.id, list(q.options), {"country": c, "question": q.question}) for q, c in units
    ]
    targets = {(q.id, c): q.target_distributions[c] for q, c in units}
    records = score_variants(lm, prompts, steered_units, STEERED_WORDINGS, k, desc="robustness: opinions")
    for r in records:
        r["kind"], r["country"] = "steered", r["unit"].rsplit("|", 1)[1]
        t = targets[(r["id"], r["country"])]
        r["similarity"] = None if r["probs"] is None else opinion_similarity(r["probs"], t, measure)
    out = block(
        "culture_sim",
        records,
        _culture_sim,
        interval=interval,
        what="opinions cultureSim",
        k=k,
        wordings=STEERED_WORDINGS,
    )
    ranks = _taus([_country_means(rs) for rs in _by_variant(records).values()])
    out["country_rank_tau"] = ranks
    if ranks["mean"] is not None and ranks["mean"] < TAU_MIN:
        out["flags"].append(
            f"opinions: the ranking of countries by similarity changes between variants "
            f"(mean Kendall tau {ranks['mean']:.2f}, lowest {ranks['min']:.2f}; threshold {TAU_MIN})"
        )
    if unsteered:
        plain, closest_block = _unsteered(lm, prompts, questions, k, countries, closest, measure)
        records += plain
        out["unsteered"] = closest_block
        out["flags"] += closest_block.pop("flags")
    out["stable"] = not out["flags"]
    return out, records


def _unsteered(
    lm: LM,
    prompts: ChoicePrompts,
    questions: Sequence[Any],
    k: int,
    countries: set[str] | None,
    closest: int,
    measure: str,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    units = [Unit(q.id, q.id, list(q.options), {"question": q.question}) for q in questions]
    by_id = {q.id: q for q in questions}
    records = score_variants(lm, prompts, units, UNSTEERED_WORDINGS, k, desc="robustness: no country named")
    for r in records:
        r["kind"] = "unsteered"
        targets = {
            c: t
            for c, t in (by_id[r["id"]].target_distributions or {}).items()
            if countries is None or c in countries
        }
        r["similarity_by_country"] = (
            None
            if r["probs"] is None
            else {c: opinion_similarity(r["probs"], t, measure) for c, t in sorted(targets.items())}
        )
    closeness = []
    for rs in _by_variant(records).values():
        by_c: dict[str, list[float]] = {}
        for r in rs:
            for c, s in (r.get("similarity_by_country") or {}).items():
                by_c.setdefault(c, []).append(s)
        closeness.append({c: sum(v) / len(v) for c, v in by_c.items()})
    tops = [sorted(m, key=lambda c, m=m: -m[c])[:closest] for m in closeness if m]
    counts: dict[str, int] = {}
    for top in tops:
        for c in top:
            counts[c] = counts.get(c, 0) + 1
    first = tops[0] if tops else []
    top1 = _mean([1.0 if t[:1] == first[:1] else 0.0 for t in tops])
    out: dict[str, Any] = {
        "closest_by_variant": tops,
        "in_top_share": {c: n / len(tops) for c, n in sorted(counts.items(), key=lambda cn: -cn[1])},
        "same_top_set": _mean([1.0 if set(t) == set(first) else 0.0 for t in tops]),
        "same_closest": top1,
        "closeness_rank_tau": _taus(closeness),
        "flags": [],
    }
    if top1 is not None and top1 < AGREEMENT_MIN:
        out["flags"].append(
            f"opinions: the country the unsteered model is closest to changes between variants "
            f"({first[0] if first else '?'} in only {top1:.0%} of them)"
        )
    return records, out


def steerability(steered: Sequence[dict[str, Any]], unsteered: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per country, the mean over questions of similarity(named) − similarity(not named),
    with a bootstrap 95% interval; positive: naming the country moves the answer toward
    its shares. ``moved_closer`` is the share of questions where it did."""
    from culturalign.uncertainty import mean_interval

    plain = {r["id"]: r["similarity_by_country"] for r in unsteered if r.get("similarity_by_country")}
    deltas: dict[str, list[float]] = {}
    for r in steered:
        base = (plain.get(r["id"]) or {}).get(r["country"])
        if r.get("similarity") is not None and base is not None:
            deltas.setdefault(r["country"], []).append(r["similarity"] - base)
    per_country = {
        c: {**mean_interval(v), "moved_closer": sum(1 for d in v if d > 0) / len(v)}
        for c, v in sorted(deltas.items())
    }
    every = [d for v in deltas.values() for d in v]
    return {"per_country": per_country, "overall": mean_interval(every) if every else None}


def extrapolability(
    unsteered: Sequence[dict[str, Any]],
    questions: Sequence[Any],
    seed: int = 0,
    heldout_fraction: float = 0.5,
) -> dict[str, Any]:
    """Does closeness to each country on the training questions predict it on the held-out
    ones? The split is the opinion study's (``survey_export.split_questions``: ids sorted,
    shuffled by ``seed``, half held out). Spearman's rho and Kendall's tau across
    countries (None below 3 countries or 2 questions)."""
    from scipy.stats import kendalltau, spearmanr

    from culturalign.datasets.survey_export import split_questions

    out: dict[str, Any] = {"seed": seed, "heldout_fraction": heldout_fraction}
    if len({q.id for q in questions}) < 2:
        out.update(spearman=None, kendall=None, note="fewer than 2 questions: nothing to hold out")
        return out
    held = {q.id for q in split_questions(questions, heldout_fraction, seed)[1]}
    halves: dict[str, dict[str, list[float]]] = {"a": {}, "b": {}}
    counts = {"a": 0, "b": 0}
    for r in unsteered:
        sims = r.get("similarity_by_country")
        if not sims:
            continue
        h = "b" if r["id"] in held else "a"
        counts[h] += 1
        for c, s in sims.items():
            halves[h].setdefault(c, []).append(s)
    mean_a = {c: sum(v) / len(v) for c, v in halves["a"].items()}
    mean_b = {c: sum(v) / len(v) for c, v in halves["b"].items()}
    common = sorted(set(mean_a) & set(mean_b))
    out.update(questions={"training": counts["a"], "held_out": counts["b"]}, countries=len(common))
    if len(common) < 3:
        out.update(spearman=None, kendall=None, note="fewer than 3 countries scored on both halves")
        return out
    xa, xb = [mean_a[c] for c in common], [mean_b[c] for c in common]
    rho, tau = spearmanr(xa, xb), kendalltau(xa, xb)
    out.update(
        spearman=None if rho.statistic != rho.statistic else float(rho.statistic),
        spearman_p=None if rho.pvalue != rho.pvalue else float(rho.pvalue),
        kendall=None if tau.statistic != tau.statistic else float(tau.statistic),
        closest_training=max(common, key=lambda c: mean_a[c]),
        closest_held_out=max(common, key=lambda c: mean_b[c]),
    )
    return out


def attach_robustness(
    lm: LM,
    prompts: ChoicePrompts,
    units: Sequence[tuple[Any, str]],
    questions: Sequence[Any],
    k: int,
    summary: dict[str, Any],
    out_dir: str | Path,
    **options: Any,
) -> list[str]:
    """The robustness block (into the summary), its files, and its notes."""
    from culturalign.evals.robustness import headline_note, write_outputs

    rb, records = opinion_robustness(
        lm, prompts, units, questions, k, interval=summary["culture_sim_interval"], **options
    )
    write_outputs(out_dir, records, {"cultureSim": rb})
    summary["robustness"] = rb
    return [headline_note("cultureSim", rb), *rb["flags"]]


def check_lines(summary: dict[str, Any]) -> list[str]:
    """Steerability and extrapolability in words, under the table."""
    out = []
    st = (summary.get("steerability") or {}).get("overall")
    if st and st.get("mean") is not None:
        out.append(
            f"Steering gain: naming the country changes the similarity to its shares by "
            f"{st['mean']:+.4f} on average {_ci_plain(st)} over {st['n']} question × country pairs "
            "(per country in the last two columns)."
        )
    ex = summary.get("extrapolability") or {}
    if ex.get("spearman") is not None:
        q = ex["questions"]
        out.append(
            f"Extrapolability: closeness to each country on {q['training']} training questions against "
            f"{q['held_out']} held-out ones (the opinion study's split, seed {ex['seed']}): Spearman "
            f"{ex['spearman']:.2f}, Kendall {ex['kendall']:.2f} over {ex['countries']} countries; closest "
            f"country {ex['closest_training']} / {ex['closest_held_out']}."
        )
    return out


def _ci_plain(stats: dict[str, Any]) -> str:
    if stats.get("ci_low") is None:
        return "(no interval)"
    return f"[{stats['ci_low']:+.4f}, {stats['ci_high']:+.4f}]"
