"""The pure scoring functions, checked against numbers worked out by hand."""

from __future__ import annotations

import math

import pytest

from culturalign.evals.metrics import (
    accuracy,
    argmax,
    culture_sim,
    f1_scores,
    jsd_similarity,
    renormalise,
    std,
)


def test_jsd_similarity_matches_a_hand_computation():
    # p = (1, 0), q = (1/2, 1/2); midpoint m = (3/4, 1/4)
    # KL(p‖m) = 1·log2(1 / 0.75)                   = 0.4150375
    # KL(q‖m) = 0.5·log2(0.5/0.75) + 0.5·log2(0.5/0.25)
    #         = 0.5·(−0.5849625) + 0.5·1            = 0.2075187
    # JSD     = (0.4150375 + 0.2075187) / 2         = 0.3112781   (divergence, bits)
    # distance = sqrt(0.3112781)                    = 0.5579230
    # similarity = 1 − 0.5579230                    = 0.4420770
    assert jsd_similarity([1.0, 0.0], [0.5, 0.5]) == pytest.approx(0.4420770, abs=1e-6)


def test_jsd_similarity_second_hand_example_three_options():
    # p = (0.5, 0.5, 0), q = (0, 0.5, 0.5); m = (0.25, 0.5, 0.25)
    # KL(p‖m) = 0.5·log2(2) + 0.5·log2(1) = 0.5 ; KL(q‖m) = 0.5 by symmetry
    # JSD = 0.5 bits, distance = sqrt(0.5) = 0.7071068, similarity = 0.2928932
    assert jsd_similarity([0.5, 0.5, 0.0], [0.0, 0.5, 0.5]) == pytest.approx(1 - math.sqrt(0.5), abs=1e-9)


def test_jsd_similarity_bounds_and_the_natural_log_mistake():
    assert jsd_similarity([0.2, 0.8], [0.2, 0.8]) == pytest.approx(1.0)
    assert jsd_similarity([1.0, 0.0], [0.0, 1.0]) == pytest.approx(0.0, abs=1e-12)
    # with natural logs the distance of disjoint distributions would be sqrt(ln 2) = 0.83,
    # i.e. a "similarity" of 0.17 where base 2 gives 0
    from scipy.spatial.distance import jensenshannon

    assert float(jensenshannon([1, 0], [0, 1])) == pytest.approx(math.sqrt(math.log(2)))


def test_jsd_similarity_normalises_and_rejects_bad_input():
    assert jsd_similarity([2, 2], [1, 1]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="length"):
        jsd_similarity([0.5, 0.5], [1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="sums to 0"):
        jsd_similarity([0.0, 0.0], [0.5, 0.5])
    with pytest.raises(ValueError, match="negative"):
        jsd_similarity([-0.1, 1.1], [0.5, 0.5])


def test_culture_sim_averages_countries_within_a_question_first():
    # q1: (0.9 + 0.7)/2 = 0.8 ; q2: 0.5 (one country) → (0.8 + 0.5)/2 = 0.65
    # (the mean over all pairs would be (0.9+0.7+0.5)/3 = 0.7)
    scores = {"q1": {"Japan": 0.9, "Mexico": 0.7}, "q2": {"Japan": 0.5}}
    assert culture_sim(scores) == pytest.approx(0.65)
    assert culture_sim({}) is None


def test_std_is_the_population_spread():
    # values 0.8, 0.6 → mean 0.7, deviations ±0.1 → std 0.1
    assert std([0.8, 0.6]) == pytest.approx(0.1)
    assert std([]) is None


def test_renormalise_over_the_options_only():
    # log-probs log(0.2), log(0.1), unseen → 2/3, 1/3, 0
    out = renormalise([math.log(0.2), math.log(0.1), None])
    assert out == pytest.approx([2 / 3, 1 / 3, 0.0])
    with pytest.raises(ValueError):
        renormalise([None, None])


def test_accuracy_argmax_and_f1():
    assert accuracy([True, False, True, True]) == 0.75
    assert accuracy([]) is None
    assert argmax([0.2, 0.5, 0.5]) == 1
    # gold E E N C ; pred E N N N
    # E: tp=1 fp=0 fn=1 → P=1, R=0.5, F1=2/3 ; N: tp=1 fp=2 fn=0 → P=1/3, R=1, F1=0.5 ; C: 0
    f1 = f1_scores(["E", "E", "N", "C"], ["E", "N", "N", "N"], ["E", "N", "C"])
    assert f1["E"] == pytest.approx(2 / 3)
    assert f1["N"] == pytest.approx(0.5)
    assert f1["C"] == 0.0
    assert f1["macro"] == pytest.approx((2 / 3 + 0.5 + 0) / 3)
