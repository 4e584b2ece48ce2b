"""The CAReDiO selection stage (paper 002 §3.3): cluster, keep one centre per cluster,
score each centre by representativeness × distinctiveness, and take the best within a
budget. Each target culture is selected separately (its own clusters and budget), as
the paper trains one model per culture.

What is embedded:
* for clustering, the sample as a whole (question and answer; ``cluster_on`` changes it);
* for distinctiveness, the target culture's answer and the other answers, and only
  for cluster centres, since no other sample can be picked.
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
        if info["d_methods"].get("none"):
            fallback = (
                "d = 1, so they were ordered by r alone"
                if info["d_methods"].get("none") == info["picked"]
                else "they got the mean d of the others"
            )
            summary["notes"].append(
                f"{culture}: {info['d_methods']['none']} picked sample(s) had no other answers to compare "
                f"with; {fallback}"
            )
    summary["picked"] = len(picks)
    pv = np.concatenate(vectors) if vectors else np.zeros((0, 0), np.float32)
    return SelectionResult(picks, summary, pv)


def _select_one(group, culture, encode, config, count_tokens, incontext):
    texts = [cluster_text(s, config.cluster_on) for s in group]
    x = np.asarray(encode(texts), dtype=np.float32)
    clustering = threshold_clusters(
        x, config.theta, config.linkage, precision=config.precision, desc=f"clustering ({culture})"
    )
    labels = clustering.labels
    sizes = clustering.sizes
    centers = cluster_centers(x, labels)  # index = cluster id
    cand = centers
    if config.representativeness == "size":
        r = sizes.astype(np.float64)
    else:
        if config.incontext_candidates is not None:
            biggest = np.lexsort((np.arange(len(sizes)), -sizes))[: config.incontext_candidates]
            cand = centers[np.sort(biggest)]
        shot_groups = [_shots(x, labels, c, group, config.incontext_shots) for c in cand]
        r = np.asarray(incontext(shot_groups, culture), dtype=np.float64)
        r = _spread(r, len(centers), cand, centers)
    d, methods, compared = _distinctiveness([group[c] for c in centers], encode, config)
    keep = np.isin(centers, cand) if config.representativeness != "size" else np.ones(len(centers), bool)
    idx = np.flatnonzero(keep)
    s = scores.selection_scores(r[idx], d[idx])
    order = idx[scores.selection_order(s, r[idx], [group[centers[i]].id for i in idx])]
    tokens = np.array([count_tokens(f"{group[c].question}\n{group[c].response}") for c in centers])
    chosen = scores.within_budget(order, tokens, config.budget, config.budget_unit)
    picks = [
        SelectionPick(
            rank=rank,
            sample_id=group[centers[k]].id,
            culture=culture,
            r=float(r[k]),
            d=float(d[k]),
            s=float(r[k] * d[k]),
            cluster_id=int(k),
            cluster_size=int(sizes[k]),
            d_method=methods[k],
            d_compared=int(compared[k]),
            tokens=int(tokens[k]),
            sample=group[centers[k]],
        )
        for rank, k in enumerate(chosen, start=1)
    ]
    used = {m: sum(1 for k in chosen if methods[k] == m) for m in ("other_cultures", "rejected", "none")}
    info = {
        "samples": len(group),
        "clusters": len(sizes),
        "largest_cluster": int(sizes.max()) if len(sizes) else 0,
        "singletons": int((sizes == 1).sum()),
        "candidates": len(idx),
        "picked": len(picks),
        "tokens_picked": int(tokens[chosen].sum()) if len(chosen) else 0,
        "d_methods": {k: v for k, v in used.items() if v},
        "clustering": clustering.stats,
    }
    return picks, x[centers[chosen]] if len(chosen) else np.zeros((0, x.shape[1]), np.float32), info


def _spread(values: np.ndarray, k: int, cand: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Scores for the candidate centres placed at their cluster ids (NaN elsewhere)."""
    out = np.full(k, np.nan)
    pos = {int(c): i for i, c in enumerate(centers)}
    for v, c in zip(values, cand, strict=True):
        out[pos[int(c)]] = v
    return out


def _shots(x: np.ndarray, labels: np.ndarray, center: int, group, n: int) -> list[CulturalSample]:
    """The centre and the members most similar to it (up to ``n`` samples in all)."""
    members = np.flatnonzero(labels == labels[center])
    others = members[members != center]
    if len(others):
        sims = scores.cosine(x[others], x[center])
        others = others[np.lexsort((others, -sims))]
    return [group[i] for i in [center, *others[: max(0, n - 1)]]]


def _distinctiveness(centers: list[CulturalSample], encode: Encode, config: SelectionConfig):
    """d for each centre against up to k other cultures' answers (drawn per sample with
    the seed), or else its rejected answers. A centre with neither gets the mean d of the
    centres that have some (so it is neither favoured nor penalised), or d = 1 when no
    centre of the culture has any, which orders them by r alone."""
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
