"""Agreement figures against hand computations and published worked examples."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from culturalign.annotate.agreement import (
    Judgment,
    alpha_ordinal,
    cohen_kappa,
    compute_agreement,
    fleiss_kappa,
    pairwise_agreement,
)


def test_cohen_kappa_matches_hand_computation():
    a = list("yynynnyyny")
    b = list("ynnynyyyny")
    # observed agreement 8/10; both annotators say yes 6 times in 10: chance 0.6^2 + 0.4^2 = 0.52
    assert cohen_kappa(a, b) == pytest.approx((0.8 - 0.52) / (1 - 0.52))


def test_cohen_kappa_undefined_without_variation():
    assert cohen_kappa(["x", "x"], ["x", "x"]) is None


def test_fleiss_kappa_worked_example():
    # Fleiss (1971)-style example as commonly worked: 10 subjects, 14 raters, 5 categories → 0.210
    counts = np.array(
        [
            [0, 0, 0, 0, 14],
            [0, 2, 6, 4, 2],
            [0, 0, 3, 5, 6],
            [0, 3, 9, 2, 0],
            [2, 2, 8, 1, 1],
            [7, 7, 0, 0, 0],
            [3, 2, 6, 3, 0],
            [2, 5, 3, 2, 2],
            [6, 5, 2, 1, 0],
            [0, 2, 2, 3, 7],
        ]
    )
    assert fleiss_kappa(counts) == pytest.approx(0.2099, abs=1e-4)


def test_fleiss_kappa_small_hand_example_and_varying_raters():
    # 3 items, 3 raters, 2 categories: P_i = 1, 1/3, 1 → P̄ = 7/9; shares 5/9, 4/9 → P_e = 41/81
    counts = np.array([[3, 0], [2, 1], [0, 3]])
    p_bar = (1 + 1 / 3 + 1) / 3
    p_e = (5 / 9) ** 2 + (4 / 9) ** 2
    assert fleiss_kappa(counts) == pytest.approx((p_bar - p_e) / (1 - p_e))
    # an item with one label carries no pair and is ignored
    assert fleiss_kappa(np.vstack([counts, [[1, 0]]])) == pytest.approx(fleiss_kappa(counts))


def test_pairwise_agreement():
    assert pairwise_agreement(["a", "a", "b"]) == pytest.approx(1 / 3)
    assert pairwise_agreement(["a"]) is None


def test_alpha_ordinal_hand_example():
    # coders x units; by hand (coincidence matrix): n = (2, 1, 3), D_o = 8/6, D_e = 6 → alpha = 7/9
    data = np.array([[1, 2, 3], [1, 3, 3]], dtype=float)
    assert alpha_ordinal(data, [1, 2, 3]) == pytest.approx(7 / 9)


def _alpha_by_coincidences(data: np.ndarray, domain: list[int]) -> float:
    """An independent ordinal alpha: coincidence matrix, rank-based distances."""
    index = {v: i for i, v in enumerate(domain)}
    o = np.zeros((len(domain), len(domain)))
    for unit in data.T:
        vals = [v for v in unit if not np.isnan(v)]
        m = len(vals)
        if m < 2:
            continue
        for i, j in itertools.permutations(range(m), 2):
            o[index[int(vals[i])], index[int(vals[j])]] += 1 / (m - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    delta = np.zeros_like(o)
    for c, k in itertools.product(range(len(domain)), repeat=2):
        lo, hi = min(c, k), max(c, k)
        delta[c, k] = (n_c[lo : hi + 1].sum() - (n_c[c] + n_c[k]) / 2) ** 2
    d_o = (o * delta).sum() / n
    d_e = (np.outer(n_c, n_c) * delta).sum() / (n * (n - 1))
    return 1 - d_o / d_e


def test_alpha_ordinal_matches_independent_computation_with_missing_values():
    rng = np.random.default_rng(7)
    for _ in range(5):
        truth = rng.integers(1, 11, size=30)
        data = np.clip(truth + rng.integers(-2, 3, size=(4, 30)), 1, 10).astype(float)
        data[rng.random(data.shape) < 0.25] = np.nan
        domain = list(range(1, 11))
        assert alpha_ordinal(data, domain) == pytest.approx(_alpha_by_coincidences(data, domain), abs=1e-9)


def test_alpha_undefined_cases():
    assert alpha_ordinal(np.array([[5.0, 5.0], [5.0, 5.0]]), range(1, 11)) is None
    assert alpha_ordinal(np.array([[1.0, np.nan], [np.nan, 2.0]]), range(1, 11)) is None


def _rank(item, who, ratings):
    entries = [
        {"rid": rid, "rank": i + 1, "rating": r, "not_an_answer": r is None}
        for i, (rid, r) in enumerate(ratings)
    ]
    return Judgment(item, 1, who, "rank", {"responses": entries})


def _classify(item, who, category, related=True):
    payload = {
        "culture_related": related,
        "associated_culture": "native" if related else None,
        "category": category if related else None,
        "geographic_scope": "national" if related else None,
        "moral_sensitive": False if related else None,
        "temporal_sensitive": False if related else None,
    }
    return Judgment(item, 1, who, "classify", payload)


def test_compute_agreement_two_annotators_uses_cohen():
    js = [
        _classify("q1", "a", "opinion"),
        _classify("q1", "b", "opinion"),
        _classify("q2", "a", "literacy"),
        _classify("q2", "b", "opinion"),
        _classify("q3", "a", "literacy"),
        _classify("q3", "b", "literacy"),
        _rank("q1", "a", [("r1", 9), ("r2", 4), ("r3", None)]),
        _rank("q1", "b", [("r1", 8), ("r2", 5), ("r3", None)]),
    ]
    report = compute_agreement(js)
    fig = {f.name: f for f in report.overall}
    assert fig["category"].method == "Cohen's kappa"
    assert fig["category"].value == pytest.approx(
        cohen_kappa(["opinion", "literacy", "literacy"], ["opinion", "opinion", "literacy"])
    )
    assert fig["category"].n_units == 3
    # no variation in scope or flags: reported as undefined, not as a number
    assert fig["geographic_scope"].value is None and "undefined" in fig["geographic_scope"].note
    # the non-answers are missing values, so 2 responses are compared
    assert fig["rating"].n_units == 2
    expected = alpha_ordinal(np.array([[9, 4], [8, 5]], dtype=float), range(1, 11))
    assert fig["rating"].value == pytest.approx(expected)
    assert report.per_item[("q2", 1)]["category"] == 0.0
    assert report.per_item[("q1", 1)]["category"] == 1.0
    assert report.per_item[("q1", 1)]["rating"] == pytest.approx(expected)


def test_compute_agreement_three_annotators_uses_fleiss_and_skips_unrelated():
    js = [
        _classify("q1", "a", "opinion"),
        _classify("q1", "b", "opinion"),
        _classify("q1", "c", "literacy"),
        _classify("q2", "a", "literacy"),
        _classify("q2", "b", "literacy"),
        _classify("q2", "c", None, related=False),
    ]
    fig = {f.name: f for f in compute_agreement(js).overall}
    assert fig["category"].method == "Fleiss' kappa"
    # q2's third annotator gave no category (not culture-related): q2 has 2 labels, q1 has 3
    counts = np.array([[1, 2], [2, 0]])  # columns: literacy, opinion
    assert fig["category"].value == pytest.approx(fleiss_kappa(counts))
    assert fig["culture_related"].n_units == 2


def test_bootstrap_alpha_from_summed_coincidences_equals_krippendorff():
    """The bootstrap sums per-item coincidence matrices; on the full data that must be
    the library's alpha exactly, missing values included."""
    from culturalign.annotate.agreement import alpha_from_coincidences, alpha_ordinal, coincidences

    rng = np.random.default_rng(7)
    domain = list(range(1, 11))
    for _ in range(25):
        data = rng.integers(1, 11, size=(3, 30)).astype(float)
        data[rng.random(data.shape) < 0.25] = np.nan
        per_item = [coincidences(data[:, i : i + 3], domain) for i in range(0, 30, 3)]
        assert alpha_from_coincidences(np.sum(per_item, axis=0)) == pytest.approx(
            alpha_ordinal(data, domain), abs=1e-9
        )
