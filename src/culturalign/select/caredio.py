"""The CAReDiO selection stage (paper 002 §3.3): cluster, keep one centre per cluster,
score each centre by representativeness × distinctiveness, and take the best within a
budget. Each target culture is selected separately (its own clusters and budget), as
the paper trains one model per culture.

What is embedded:
* for clustering, the sample as a whole (question and answer; ``cluster_on`` changes it);
* for distinctiveness, the target culture's answer and the other answers, and only
  for cluster centres, since no other sample can be picked.

Every pick records what its ``d`` was compared against (``d_source``, ``d_compared``,
``d_below_k``; the rule is in ``culturalign.select.scores``), and the summary counts the
picks by source and below k per culture and overall, so that a selection whose scores
mix measured and imputed ``d`` says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from culturalign.errors import ConfigError
from culturalign.records.synth import CulturalSample, SelectionPick
from culturalign.select import scores
from culturalign.select.cluster import LINKAGES, cluster_centers, threshold_clusters

Encode = Callable[[Sequence[str]], np.ndarray]
CLUSTER_ON = ("sample", "question", "response")
CHAINING_WARNING = 0.2  # a cluster holding this share of a culture's samples is reported


@dataclass
class SelectionConfig:
    theta: float = 0.7
    linkage: str = "single"
    representativeness: str = "size"  # or "in-context"
    k_others: int = scores.K_OTHERS
    budget: float = 100
    budget_unit: str = "samples"  # or "tokens"
    seed: int = 0
    cluster_on: str = "sample"
    precision: str = "auto"
    incontext_shots: int = 3
    incontext_candidates: int | None = None  # score only the centres of the M largest clusters

    def check(self) -> None:
        if self.linkage not in LINKAGES:
            raise ConfigError(f"unknown linkage {self.linkage!r}; choose {', '.join(LINKAGES)}")
        if self.representativeness not in ("size", "in-context"):
            raise ConfigError("representativeness must be 'size' or 'in-context'")
        if self.cluster_on not in CLUSTER_ON:
            raise ConfigError(f"cluster_on must be one of {', '.join(CLUSTER_ON)}")
        if self.budget_unit not in ("samples", "tokens"):
            raise ConfigError("budget unit must be 'samples' or 'tokens'")
        if self.budget < 0:
            raise ConfigError("the budget must not be negative")
        if not 0 < self.theta <= 1:
            raise ConfigError(f"θ must be in (0, 1], got {self.theta}")


@dataclass
class SelectionResult:
    picks: list[SelectionPick]
    summary: dict[str, Any]
    # for the analysis figures: cluster-text embeddings of the picks, row-aligned with picks
    pick_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))


def cluster_text(s: CulturalSample, on: str) -> str:
    if on == "question":
        return s.question
    if on == "response":
        return s.response or ""
    return f"{s.question}\n\n{s.response or ''}"


def select_samples(
    samples: Sequence[CulturalSample],
    encode: Encode,
    config: SelectionConfig | None = None,
    *,
    count_tokens: Callable[[str], int] = scores.estimate_tokens,
    incontext: Callable[[Sequence[Sequence[CulturalSample]], str], np.ndarray] | None = None,
) -> SelectionResult:
    """Pick samples per target culture. ``incontext(shot_groups, culture)`` returns one
    representativeness score per group (see ``incontext.incontext_scores``); it is required
    when ``config.representativeness == "in-context"``."""
    config = config or SelectionConfig()
    config.check()
    if config.representativeness == "in-context" and incontext is None:
        raise ConfigError("in-context representativeness needs a model and a validation set")
    usable = [s for s in samples if s.ok]
    counts: dict[str, int] = {}
    for s in usable:
        counts[s.id] = counts.get(s.id, 0) + 1
    dupes = sorted(i for i, c in counts.items() if c > 1)
    if dupes:
        raise ConfigError(f"sample ids must be unique; repeated: {', '.join(dupes[:5])}")
    summary: dict[str, Any] = {
        "config": config.__dict__.copy(),
        "input_samples": len(samples),
        "skipped_unusable": len(samples) - len(usable),
        "cultures": {},
        "notes": [],
    }
    by_culture: dict[str, list[CulturalSample]] = {}
    for s in usable:
        by_culture.setdefault(s.target_culture, []).append(s)
    picks: list[SelectionPick] = []
    vectors: list[np.ndarray] = []
    for culture in sorted(by_culture):
        # sorted by id: clusters, centres and ties never depend on the order of the file
        group = sorted(by_culture[culture], key=lambda s: s.id)
        p, v, info = _select_one(group, culture, encode, config, count_tokens, incontext)
        picks.extend(p)
        vectors.append(v)
        summary["cultures"][culture] = info
        if info["largest_cluster"] > max(20, CHAINING_WARNING * len(group)):
            summary["notes"].append(
                f"{culture}: one cluster holds {info['largest_cluster']} of {len(group)} samples "
                f"({config.linkage} linkage at θ={config.theta}); samples may be chaining together: "
                "consider --linkage complete or a higher θ"
            )
        summary["notes"].extend(_d_notes(culture, info, config.k_others))
    summary["picked"] = len(picks)
    summary["d_sources"] = {
        src: n for src in scores.D_SOURCES if (n := sum(p.d_source == src for p in picks))
    }
    summary["d_below_k"] = sum(bool(p.d_below_k) for p in picks)
    summary["d_rule"] = (
        f"d = mean (1 − cos) to up to k = {config.k_others} other cultures' answers (paper 002 Eq. 1); "
        "else to the sample's rejected answers; else the culture's mean d (imputed, not measured); "
        "else d = 1 (order by r alone). d_below_k: fewer than k answers compared."
    )
    pv = np.concatenate(vectors) if vectors else np.zeros((0, 0), np.float32)
    return SelectionResult(picks, summary, pv)


@dataclass
class Ranking:
    """Per cluster (index = cluster id): its centre, r, d and how d was measured; and the
    clusters chosen within the budget, in rank order."""

    labels: np.ndarray
    sizes: np.ndarray
    centers: np.ndarray
    r: np.ndarray
    d: np.ndarray
    methods: list[str]
    compared: list[int]
    tokens: np.ndarray
    candidates: np.ndarray  # cluster ids that could be picked
    chosen: np.ndarray  # cluster ids picked, in rank order
    stats: dict


def rank_clusters(
    x: np.ndarray,
    ids: Sequence[str],
    config: SelectionConfig,
    *,
    d_for: Callable[[np.ndarray], tuple[np.ndarray, list[str], list[int]]],
    tokens_for: Callable[[np.ndarray], np.ndarray],
    r_for: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    desc: str = "clustering",
) -> Ranking:
    """The selection itself, on embeddings: cluster, centres, r, d (via ``d_for(centres)``),
    s, order and budget. ``r_for(candidate_centres, labels)`` gives in-context scores."""
    clustering = threshold_clusters(x, config.theta, config.linkage, precision=config.precision, desc=desc)
    labels, sizes = clustering.labels, clustering.sizes
    centers = cluster_centers(x, labels)  # index = cluster id
    candidates = np.arange(len(centers))
    if config.representativeness == "size":
        r = sizes.astype(np.float64)
    else:
        if r_for is None:
            raise ConfigError("in-context representativeness needs a model and a validation set")
        if config.incontext_candidates is not None:
            candidates = np.sort(np.lexsort((candidates, -sizes))[: config.incontext_candidates])
        r = np.full(len(centers), np.nan)
        r[candidates] = np.asarray(r_for(centers[candidates], labels), dtype=np.float64)
    d, methods, compared = d_for(centers)
    s = scores.selection_scores(r[candidates], d[candidates])
    order = candidates[scores.selection_order(s, r[candidates], [ids[c] for c in centers[candidates]])]
    tokens = np.asarray(tokens_for(centers), dtype=np.int64)
    chosen = scores.within_budget(order, tokens, config.budget, config.budget_unit)
    return Ranking(
        labels, sizes, centers, r, d, methods, compared, tokens, candidates, chosen, clustering.stats
    )


def _select_one(group, culture, encode, config, count_tokens, incontext):
    x = np.asarray(encode([cluster_text(s, config.cluster_on) for s in group]), dtype=np.float32)

    def r_for(cands: np.ndarray, labels: np.ndarray) -> np.ndarray:
        members = _members_by_cluster(labels)
        groups = [_shots(x, members[labels[c]], c, group, config.incontext_shots) for c in cands]
        return incontext(groups, culture)

    rk = rank_clusters(
        x,
        [s.id for s in group],
        config,
        d_for=lambda centers: _distinctiveness([group[c] for c in centers], encode, config),
        tokens_for=lambda centers: np.array(
            [count_tokens(f"{group[c].question}\n{group[c].response}") for c in centers]
        ),
        r_for=r_for if incontext is not None else None,
        desc=f"clustering ({culture})",
    )
    sources = _sources(rk.methods)
    picks = [
        SelectionPick(
            rank=rank,
            sample_id=group[rk.centers[k]].id,
            culture=culture,
            r=float(rk.r[k]),
            d=float(rk.d[k]),
            s=float(rk.r[k] * rk.d[k]),
            cluster_id=int(k),
            cluster_size=int(rk.sizes[k]),
            d_method=rk.methods[k],
            d_compared=int(rk.compared[k]),
            d_source=sources[k],
            d_below_k=int(rk.compared[k]) < config.k_others,
            tokens=int(rk.tokens[k]),
            sample=group[rk.centers[k]],
        )
        for rank, k in enumerate(rk.chosen, start=1)
    ]
    used = {src: sum(1 for k in rk.chosen if sources[k] == src) for src in scores.D_SOURCES}
    info = {
        "samples": len(group),
        "clusters": len(rk.sizes),
        "largest_cluster": int(rk.sizes.max()) if len(rk.sizes) else 0,
        "singletons": int((rk.sizes == 1).sum()),
        "candidates": len(rk.candidates),
        "picked": len(picks),
        "tokens_picked": int(rk.tokens[rk.chosen].sum()) if len(rk.chosen) else 0,
        "d_sources": {k: v for k, v in used.items() if v},
        "d_below_k": sum(1 for k in rk.chosen if int(rk.compared[k]) < config.k_others),
        "clustering": rk.stats,
    }
    vecs = x[rk.centers[rk.chosen]] if len(rk.chosen) else np.zeros((0, x.shape[1]), np.float32)
    return picks, vecs, info


def _sources(methods: Sequence[str]) -> list[str]:
    """Each centre's ``d_source``; a fallback depends on whether any centre has a measured d."""
    measured = any(m != "none" for m in methods)
    return [scores.d_source(m, measured) for m in methods]


def _d_notes(culture: str, info: dict[str, Any], k: int) -> list[str]:
    """Say when a culture's picks were not all scored by Eq. 1 over k other cultures."""
    notes = []
    used = info["d_sources"]
    if n := used.get("mean-d-fallback"):
        notes.append(
            f"{culture}: {n} picked sample(s) had no answers to compare with; they got the culture's mean d "
            "(imputed, so their d and s say nothing about their distinctiveness)"
        )
    if n := used.get("r-only-fallback"):
        notes.append(
            f"{culture}: no sample had answers to compare with; d = 1, so {n} picks are ordered by r alone"
        )
    if used.get("rejected-answers") and used.get("other-cultures"):
        notes.append(
            f"{culture}: some d were measured against other cultures' answers and some against rejected "
            "answers; the two are different quantities"
        )
    short = info["d_below_k"] - used.get("mean-d-fallback", 0) - used.get("r-only-fallback", 0)
    if short > 0:
        notes.append(f"{culture}: {short} picked sample(s) had d averaged over fewer than k = {k} answers")
    return notes


def _members_by_cluster(labels: np.ndarray) -> list[np.ndarray]:
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(int(labels.max()) + 2))
    return [order[bounds[k] : bounds[k + 1]] for k in range(len(bounds) - 1)]


def _shots(x: np.ndarray, members: np.ndarray, center: int, group, n: int) -> list[CulturalSample]:
    """The centre and the members most similar to it (up to ``n`` samples in all)."""
    others = members[members != center]
    if len(others):
        sims = scores.cosine(x[others], x[center])
        others = others[np.lexsort((others, -sims))]
    return [group[i] for i in [center, *others[: max(0, n - 1)]]]


def _distinctiveness(centers: list[CulturalSample], encode: Encode, config: SelectionConfig):
    """d for each centre against up to k other cultures' answers (drawn per sample with
    the seed), or else its rejected answers. A centre with neither gets the mean d of the
    centres that have some (an imputation, flagged ``mean-d-fallback`` on the pick), or
    d = 1 when no centre of the culture has any, which orders them by r alone."""
    plans: list[tuple[str, list[str]]] = []
    for s in centers:
        if s.other_responses:
            chosen = scores.draw_others(sorted(s.other_responses), config.k_others, f"{config.seed}:{s.id}")
            plans.append(("other_cultures", [s.other_responses[c] for c in chosen]))
        elif s.rejected:
            idx = scores.draw_others(
                [str(i) for i in range(len(s.rejected))], config.k_others, f"{config.seed}:{s.id}"
            )
            plans.append(("rejected", [s.rejected[int(i)] for i in idx]))
        else:
            plans.append(("none", []))
    texts = [s.response or "" for i, s in enumerate(centers) if plans[i][1]]
    texts += [t for _, others in plans for t in others]
    vecs = encode(texts) if texts else np.zeros((0, 0))
    n = len(centers)
    d = np.full(n, np.nan)
    own = 0
    pos = len([1 for _, o in plans if o])
    for i, (_, others) in enumerate(plans):
        if others:
            d[i] = scores.distinctiveness(vecs[own], vecs[pos : pos + len(others)])
            own += 1
            pos += len(others)
    known = d[~np.isnan(d)]
    d[np.isnan(d)] = float(known.mean()) if len(known) else 1.0
    return d, [m for m, _ in plans], [len(o) for _, o in plans]
