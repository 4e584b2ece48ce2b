"""r, d and s exactly on hand-made embeddings (paper 002 §3.3, Eq. 1), and the budget."""

from __future__ import annotations

import math

import numpy as np
import pytest

from culturalign.errors import ConfigError
from culturalign.select import scores


def test_distinctiveness_is_mean_of_one_minus_cosine():
    e = np.array([1.0, 0.0, 0.0])
    others = np.array([[0.0, 1.0, 0.0], [1.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    # 1 - cos: 1, 1 - 1/sqrt(2), 2, 0 (lengths do not matter)
    expected = (1 + (1 - 1 / math.sqrt(2)) + 2 + 0) / 4
    assert scores.distinctiveness(e, others) == pytest.approx(expected, abs=1e-15)
    assert math.isnan(scores.distinctiveness(e, np.zeros((0, 3))))


def test_scores_and_order_break_ties_by_r_then_id():
    r = np.array([3.0, 2.0, 3.0, 6.0])
    d = np.array([0.5, 0.75, 0.5, 0.25])
    s = scores.selection_scores(r, d)
    assert s.tolist() == [1.5, 1.5, 1.5, 1.5]
    order = scores.selection_order(s, r, ["b", "z", "a", "c"])
    # all s equal: larger r first (6, then the two 3s by id a < b), then r = 2
    assert order.tolist() == [3, 2, 0, 1]


def test_budget_by_count_and_by_tokens():
    order = np.array([2, 0, 1, 3])
    tokens = np.array([10, 5, 7, 100])
    assert scores.within_budget(order, tokens, 2, "samples").tolist() == [2, 0]
    assert scores.within_budget(order, tokens, 0, "samples").tolist() == []
    # 7 + 10 = 17 fits 20; adding 5 would make 22: stop there (no skipping ahead)
    assert scores.within_budget(order, tokens, 20, "tokens").tolist() == [2, 0]
    assert scores.within_budget(order, tokens, 22, "tokens").tolist() == [2, 0, 1]
    with pytest.raises(ConfigError):
        scores.within_budget(order, tokens, 1, "hours")


def test_draw_others_is_seeded_per_sample_and_keeps_order():
    cands = ["China", "India", "Japan", "Korea", "Singapore", "United Kingdom"]
    a = scores.draw_others(cands, 4, "0:s1")
    assert len(a) == 4 and a == [c for c in cands if c in a]
    assert scores.draw_others(cands, 4, "0:s1") == a
    draws = {tuple(scores.draw_others(cands, 4, f"0:s{i}")) for i in range(20)}
    assert len(draws) > 1  # different samples draw differently
    assert scores.draw_others(cands[:3], 4, "x") == cands[:3]


def test_token_estimate_counts_utf8_bytes():
    assert scores.estimate_tokens("abcd" * 10) == 10
    assert scores.estimate_tokens("春节") == 2  # 6 bytes
    assert scores.estimate_tokens("") == 1
