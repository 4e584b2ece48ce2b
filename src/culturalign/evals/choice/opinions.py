"""Opinion distributions: GlobalOpinionQA and the WVS shares (paper 002 §4.1, paper 003
§5.2.2).

For every question and every country with survey shares, the model is asked how a
person from that country would answer; the option letters' next-token probabilities,
renormalised over the options, are its distribution ``P_m(q|c)``. The score is one
minus a Jensen–Shannon quantity between ``P_m`` and the survey's ``P_c``, base 2, in
[0, 1]; ``similarity`` chooses which (``metrics.SIMILARITY_MEASURES``):

* ``"distance"`` (default): 1 − JS distance, as CAReDiO (paper 002 §4.1, Table 1) and
  GlobalOpinionQA score this benchmark, and as every earlier culturalign number was made;
* ``"divergence"``: 1 − JS divergence, the letter of paper 003 §5.2.2's cultureSim.

The divergence is the square of the distance, so the second gives higher numbers; the
two must never be compared with each other. ``summary.json`` (``similarity_measure``,
``similarity_label``), every item, the table title and ``run.json`` name the one used.

Reported (``summary.json``):

* ``per_country``: mean similarity and count per country, with a bootstrap 95% interval
  over that country's questions (``uncertainty.mean_interval``);
* ``culture_sim``: paper 003's cultureSim, the mean over questions of the mean over
  that question's countries; ``culture_sim_interval`` is its bootstrap interval with
  questions as the units (cultureSim is a plain mean of per-question values);
* ``country_std``: the population standard deviation of the per-country means, paper
  003's balance figure (lower is more even); ``country_std_interval`` resamples
  questions and recomputes it (``uncertainty.statistic_interval``);
* ``unsteered``: the same question asked with no country named; its similarity to each
  country's shares, averaged per country, ranks the countries the model's own answers
  sit closest to (``closest``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError
from culturalign.evals.choice.prompts import ChoicePrompts, letters_for, option_block
from culturalign.evals.choice.run import ChoiceRun, method_notes
from culturalign.evals.choice.scoring import OptionScores, score_labels
from culturalign.evals.metrics import (
    SIMILARITY_LABELS,
    check_similarity_measure,
    culture_sim,
    mean,
    opinion_similarity,
    std,
)
from culturalign.lm.cached import LM
from culturalign.records import ChoiceItem
from culturalign.sampling import sample_limit
from culturalign.uncertainty import mean_interval, statistic_interval


def opinion_items(items: Sequence[Any]) -> list[ChoiceItem]:
    return [i for i in items if isinstance(i, ChoiceItem) and i.target_distributions]


def _with_interval(values: Sequence[float]) -> dict[str, Any]:
    """``{mean, n}`` (the mean unrounded, as before) plus the bootstrap interval fields."""
    return {**mean_interval(values), "mean": mean(values), "n": len(values)}


def _country_std_interval(by_q: dict[str, dict[str, float]]) -> dict[str, Any]:
    """The spread across countries, with questions resampled: the countries asked about
    a question move together, so the question is the unit, as for cultureSim."""
    import numpy as np

    countries = sorted({c for v in by_q.values() for c in v})
    grid = np.full((len(by_q), len(countries)), np.nan)
    col = {c: j for j, c in enumerate(countries)}
    for i, sims in enumerate(by_q.values()):
        for c, v in sims.items():
            grid[i, col[c]] = v

    def spread(rows: Sequence[int]) -> float | None:
        sub = grid[list(rows)]
        seen = ~np.isnan(sub).all(axis=0)
        if not seen.any():
            return None
        return float(np.nanmean(sub[:, seen], axis=0).std())

    return statistic_interval(list(range(len(by_q))), spread)


def summarise_opinions(
    steered: Sequence[dict[str, Any]],
    unsteered: Sequence[dict[str, Any]],
    closest: int = 5,
    measure: str = "distance",
) -> dict[str, Any]:
    """The headline numbers from item records (pure). Records with an error are counted
    under ``failed`` and left out of every mean. ``measure`` only labels the output: the
    records' similarities were already computed with it."""
    by_q: dict[str, dict[str, float]] = {}
    by_c: dict[str, list[float]] = {}
    failed = 0
    for r in steered:
        if r.get("similarity") is None:
            failed += 1
            continue
        by_q.setdefault(r["id"], {})[r["country"]] = r["similarity"]
        by_c.setdefault(r["country"], []).append(r["similarity"])
    per_country = {c: _with_interval(v) for c, v in sorted(by_c.items())}
    per_question = [sum(c.values()) / len(c) for c in by_q.values() if c]
    out: dict[str, Any] = {
        "similarity_measure": check_similarity_measure(measure),
        "similarity_label": SIMILARITY_LABELS[measure],
        "questions": len(by_q),
        "pairs": sum(len(v) for v in by_c.values()),
        "failed": failed,
        "culture_sim": culture_sim(by_q),
        "culture_sim_interval": {**mean_interval(per_question), "units": "questions"},
        "pair_mean": mean(s for v in by_c.values() for s in v),
        "country_std": std(c["mean"] for c in per_country.values()),
        "country_std_interval": {**_country_std_interval(by_q), "units": "questions"},
        "per_country": per_country,
    }
    un_c: dict[str, list[float]] = {}
    un_failed = 0
    for r in unsteered:
        sims = r.get("similarity_by_country")
        if not sims:
            un_failed += 1
            continue
        for country, s in sims.items():
            un_c.setdefault(country, []).append(s)
    if unsteered:
        ranking = sorted(((c, mean(v)) for c, v in un_c.items()), key=lambda cv: -(cv[1] or 0.0))
        out["unsteered"] = {
            "questions": len(unsteered) - un_failed,
            "failed": un_failed,
            "per_country": {c: _with_interval(un_c[c]) for c, _ in ranking},
            "closest": [c for c, _ in ranking[:closest]],
        }
    return out


def _record(
    item: ChoiceItem, country: str | None, scores: OptionScores, measure: str = "distance"
) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "id": item.id,
        "kind": "steered" if country else "unsteered",
        "country": country,
        "question": item.question,
        "options": item.options,
        "source": item.source,
        **scores.as_record(),
        "similarity_measure": measure,
    }
    if scores.probs is None:
        rec["similarity"] = None
        if country is None:
            rec["similarity_by_country"] = None
        return rec
    targets = item.target_distributions or {}
    if country is not None:
        rec["target"] = targets[country]
        rec["similarity"] = opinion_similarity(scores.probs, targets[country], measure)
    else:
        rec["similarity_by_country"] = {
            c: opinion_similarity(scores.probs, t, measure) for c, t in sorted(targets.items())
        }
    return rec


def run_opinions(
    lm: LM,
    items: Sequence[Any],
    out_dir: str | Path,
    *,
    countries: Sequence[str] | None = None,
    unsteered: bool = True,
    closest: int = 5,
    chat: bool = True,
    template_dir: str | Path | None = None,
    limit: int | None = None,
    data_path: str | Path | None = None,
    limit_order: str = "stratified",
    similarity: str = "distance",
    robustness: int = 0,
) -> dict[str, Any]:
    """Score the model's opinion distributions against every country's survey shares.

    ``similarity``: ``"distance"`` (1 − JS distance, paper 002 / GlobalOpinionQA, the
    default) or ``"divergence"`` (1 − JS divergence, paper 003's cultureSim).
    ``robustness`` K > 0 also scores every unit under K option orders × three wordings
    (``evals.robustness.opinions``). With ``unsteered`` the summary also carries
    ``steerability`` and ``extrapolability``, computed from the same calls."""
    check_similarity_measure(similarity)
    if robustness < 0:
        raise ConfigError(f"--robustness must be 0 or more, not {robustness}")
    questions = opinion_items(items)
    questions = sample_limit(questions, limit, order=limit_order)  # by topic unless limit_order="file"
    wanted = set(countries) if countries else None
    surveyed = {c for q in questions for c in q.target_distributions or {}}
    if wanted and (unknown := sorted(wanted - surveyed)):
        raise ConfigError(
            f"--country {', '.join(unknown)}: not in the survey data; its countries are "
            f"{', '.join(sorted(surveyed))}"
        )
    prompts = ChoicePrompts(template_dir, chat)
    run = ChoiceRun(
        out_dir,
        "eval-opinions",
        lm,
        {
            "questions": len(questions),
            "countries": sorted(wanted) if wanted else "all",
            "unsteered": unsteered,
            "similarity_measure": similarity,
            "chat": chat,
            "limit": limit,
            "limit_order": limit_order if limit is not None else None,
            "template_dir": str(template_dir) if template_dir else None,
            **({"robustness": robustness} if robustness else {}),
        },
    )
    run.add_data(data_path)
    prefix = prompts.prefix()
    try:
        units = [
            (q, c)
            for q in questions
            for c in sorted(q.target_distributions or {})
            if wanted is None or c in wanted
        ]
        scored = score_labels(
            lm,
            [
                prompts.prompt("opinion", country=c, question=q.question, options=option_block(q.options))
                for q, c in units
            ],
            [letters_for(len(q.options)) for q, _ in units],
            prefix=prefix,
            desc="opinions by country",
        )
        steered = []
        for (q, c), s in zip(units, scored, strict=True):
            rec = _record(q, c, s, similarity)
            run.write_item(rec)
            steered.append(rec)
        plain: list[dict[str, Any]] = []
        if unsteered:
            scored = score_labels(
                lm,
                [
                    prompts.prompt("opinion_unsteered", question=q.question, options=option_block(q.options))
                    for q in questions
                ],
                [letters_for(len(q.options)) for q in questions],
                prefix=prefix,
                desc="opinions, no country named",
            )
            for q, s in zip(questions, scored, strict=True):
                rec = _record(q, None, s, similarity)
                if wanted is not None and rec.get("similarity_by_country"):
                    rec["similarity_by_country"] = {
                        c: v for c, v in rec["similarity_by_country"].items() if c in wanted
                    }
                run.write_item(rec)
                plain.append(rec)
        summary = summarise_opinions(steered, plain, closest, similarity)
        robust_notes: list[str] = []
        if robustness:
            from culturalign.evals.robustness.opinions import attach_robustness

            robust_notes = attach_robustness(
                lm,
                prompts,
                units,
                questions,
                robustness,
                summary,
                out_dir,
                unsteered=unsteered,
                countries=wanted,
                closest=closest,
                measure=similarity,
            )
    except BaseException:
        run.abort()
        raise
    from culturalign.evals.robustness.opinions import check_lines

    if plain:
        from culturalign.evals.robustness.opinions import extrapolability, steerability

        summary["steerability"] = steerability(steered, plain)
        summary["extrapolability"] = extrapolability(plain, questions)
    methods: dict[str, int] = {}
    for r in [*steered, *plain]:
        methods[r["method"]] = methods.get(r["method"], 0) + 1
    summary["methods"] = methods
    summary["benchmark"] = "opinions"
    return run.finish(
        summary,
        *_table(summary),
        prompts=prompts.shas,
        notes=method_notes(methods) + robust_notes,
        footnotes=check_lines(summary),
        title=(
            f"Opinion distributions: cultureSim as {summary['similarity_label']}: "
            f"{_pct(summary['culture_sim'])} {_ci(summary['culture_sim_interval'])}, "
            f"std across countries {_pct(summary['country_std'])}"
            + (
                ""
                if "robustness" not in summary
                else "; "
                + ("stable" if summary["robustness"]["stable"] else "NOT STABLE")
                + " under option order and wording"
            )
        ),
    )


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.2f}"


def _ci(stats: dict[str, Any]) -> str:
    """``[lo, hi] (n=…)`` in percent, or a plain ``(n=…)`` when too few units for one."""
    if stats.get("ci_low") is None:
        return f"(n={stats.get('n', 0)}, no interval)"
    return f"[{_pct(stats['ci_low'])}, {_pct(stats['ci_high'])}] (n={stats['n']})"


def _table(summary: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    un = (summary.get("unsteered") or {}).get("per_country", {})
    rank = {c: k + 1 for k, c in enumerate(un)}
    headers = [
        "country",
        "n",
        "similarity (named)",
        "95% CI",
        "similarity (no country named)",
        "closeness rank",
        "steering gain (named − not)",
        "gain 95% CI",
    ]
    steer = (summary.get("steerability") or {}).get("per_country", {})
    rows: list[list[Any]] = [
        [
            c,
            v["n"],
            v["mean"],
            _bounds(v),
            (un.get(c) or {}).get("mean"),
            rank.get(c),
            (steer.get(c) or {}).get("mean"),
            _bounds(steer.get(c) or {}),
        ]
        for c, v in summary["per_country"].items()
    ]
    sim = summary["culture_sim_interval"]
    rows.append(
        [
            "cultureSim (all; n = questions)",
            sim["n"],
            summary["culture_sim"],
            _bounds(sim),
            None,
            None,
            None,
            None,
        ]
    )
    spread = summary["country_std_interval"]
    rows.append(
        [
            "std across countries",
            len(summary["per_country"]),
            summary["country_std"],
            _bounds(spread),
            None,
            None,
            None,
            None,
        ]
    )
    return headers, rows


def _bounds(stats: dict[str, Any]) -> str:
    if stats.get("ci_low") is None:
        return "–"
    return f"[{stats['ci_low']:.4f}, {stats['ci_high']:.4f}]"
