"""CAReDiO's selection scores as pure functions (paper 002 §3.3).

* representativeness ``r``: the size of the sample's cluster (or an in-context score,
  see ``incontext.py``);
* distinctiveness ``d = (1/k) Σ_i (1 − cos(e, e_i))`` between the embedding ``e`` of the
  target culture's answer and the embeddings ``e_i`` of k other cultures' answers to
  the same question (k = 4 in the paper, drawn at random when more exist);
* ``s = r · d``; samples are taken in decreasing ``s`` until the budget is spent.

What ``d`` is compared against, in order of preference, and how each pick records it
(``SelectionPick.d_source``, ``d_compared``, ``d_below_k``):

1. ``other-cultures``: Eq. 1 itself, over ``k`` other cultures' answers to the same
   question (all of them when there are fewer than ``k``). With fewer than ``k`` the mean
   is the same estimator over fewer terms: its expectation is the mean distance to the
   cultures present, but it is noisier and the set of cultures it contrasts with is
   smaller, so such picks are flagged ``d_below_k``.
2. ``rejected-answers``: human preference data has no other cultures' answers, only the
   dispreferred answers of the same culture. ``d`` is then the distance from those,
   which is *not* Eq. 1's quantity (it rewards differing from worse answers, not from
   other cultures). It is kept because it is the only contrast such data offers, and
   named so it is never compared with an ``other-cultures`` d.
3. ``mean-d-fallback``: nothing to compare with, but other centres of the culture have a
   measured ``d``: the sample gets their mean. This is an imputation, not a measurement
   (``d_compared`` is 0): it keeps the sample eligible on its ``r`` without favouring or
   penalising it, but its ``d`` and ``s`` say nothing about its distinctiveness, and they
   move when other samples are added. Kept because dropping such samples would turn a
   missing answer into a penalty; always flagged and counted in the summary's notes.
4. ``r-only-fallback``: no centre of the culture has anything to compare with: ``d = 1``
   for all, so ``s = r`` and the culture is ranked by representativeness alone.

``d_below_k`` is true whenever ``d_compared < k`` (always for the two fallbacks).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import numpy as np

K_OTHERS = 4

D_SOURCES = ("other-cultures", "rejected-answers", "mean-d-fallback", "r-only-fallback")
_BY_METHOD = {"other_cultures": "other-cultures", "rejected": "rejected-answers"}


def d_source(method: str, culture_has_measured_d: bool) -> str:
    """The ``d_source`` of one centre from what it was compared with (``other_cultures``,
    ``rejected`` or ``none``) and whether any centre of its culture got a measured d."""
    if method in _BY_METHOD:
        return _BY_METHOD[method]
    if method != "none":
        raise ValueError(f"unknown distinctiveness method {method!r}")
    return "mean-d-fallback" if culture_has_measured_d else "r-only-fallback"


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of ``a`` (m, dim) with ``b`` (m, dim) or (dim,), float64."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    na = np.linalg.norm(a, axis=-1)
    nb = np.linalg.norm(b, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a * b).sum(axis=-1) / (na * nb)


def distinctiveness(target: np.ndarray, others: np.ndarray) -> float:
    """Mean of 1 − cos(target, other) over the rows of ``others`` (Eq. 1); NaN without any."""
    others = np.atleast_2d(np.asarray(others, dtype=np.float64))
    if others.size == 0:
        return math.nan
    return float(np.mean(1.0 - cosine(others, np.asarray(target, dtype=np.float64))))


def draw_others(candidates: Sequence[str], k: int, seed: int | str) -> list[str]:
    """Which ``k`` of the ``candidates`` to compare with: all of them when there are at most
    ``k``, else a draw from a generator seeded by ``seed`` (so one sample's draw does not
    depend on which other samples are in the file). Returned in the candidates' order."""
    cands = list(dict.fromkeys(candidates))
    if k <= 0 or len(cands) <= k:
        return cands
    chosen = set(random.Random(str(seed)).sample(cands, k))
    return [c for c in cands if c in chosen]


def selection_scores(r: np.ndarray, d: np.ndarray) -> np.ndarray:
    """s = r · d."""
    return np.asarray(r, dtype=np.float64) * np.asarray(d, dtype=np.float64)


def selection_order(s: np.ndarray, r: np.ndarray, ids: Sequence[str]) -> np.ndarray:
    """Indices by decreasing s; ties by decreasing r, then by id, so the order never depends
    on the input order."""
    s = np.asarray(s, dtype=np.float64)
    r = np.asarray(r, dtype=np.float64)
    id_rank = np.argsort(np.argsort(np.asarray(list(ids), dtype=object), kind="stable"), kind="stable")
    return np.lexsort((id_rank, -r, -s))


def within_budget(order: np.ndarray, tokens: np.ndarray, budget: float, unit: str) -> np.ndarray:
    """The leading part of ``order`` that fits the budget: ``budget`` samples, or as many
    samples as fit in ``budget`` tokens in total (selection stops at the first sample
    that would exceed it, as the paper selects "one by one until" the budget is reached)."""
    if unit == "samples":
        return order[: max(0, int(budget))]
    if unit != "tokens":
        from culturalign.errors import ConfigError

        raise ConfigError(f"unknown budget unit {unit!r}; use samples or tokens")
    spent = np.cumsum(np.asarray(tokens, dtype=np.int64)[order])
    return order[: int(np.searchsorted(spent, budget, side="right"))]


def estimate_tokens(text: str) -> int:
    """A tokenizer-free length: UTF-8 bytes / 4, rounded up. About right for English with
    common BPE vocabularies, and closer than characters / 4 for CJK scripts (3 bytes per
    character, often one token each or more)."""
    return max(1, math.ceil(len(text.encode("utf-8")) / 4))
