"""The shared interval module on cases worked out by hand."""

from __future__ import annotations

import math

import pytest

from culturalign.uncertainty import (
    describe_delta,
    mean_interval,
    paired_delta,
    paired_statistic_delta,
    proportion_interval,
    statistic_interval,
    verdict,
)


def test_wilson_interval_for_7_of_10_by_hand():
    # z = 1.96: centre (0.7 + z²/20) / (1 + z²/10) = 0.6445, half-width
    # z sqrt(0.021 + z²/400) / (1 + z²/10) = 0.2477
    s = proportion_interval(7, 10)
    assert s["accuracy"] == 0.7 and s["n"] == 10 and not s["too_small"]
    assert s["ci_low"] == pytest.approx(0.3968, abs=1e-4)
    assert s["ci_high"] == pytest.approx(0.8922, abs=1e-4)
    assert s["stderr"] == pytest.approx(math.sqrt(0.7 * 0.3 / 10), abs=1e-6)  # stored to 6 places


def test_wilson_stays_inside_0_and_1_at_the_edges():
    s = proportion_interval(10, 10)
    assert s["ci_high"] == 1.0 and 0.69 < s["ci_low"] < 0.73  # 10/(10 + z²) = 0.7225
    assert proportion_interval(0, 5)["ci_low"] == 0.0


def test_one_item_gets_no_interval_and_is_too_small():
    for s in (mean_interval([7.0]), proportion_interval(1, 1), statistic_interval([3.0], lambda u: u[0])):
        assert s["too_small"] and s["ci_low"] is None and s["ci_high"] is None and s["stderr"] is None
    assert mean_interval([7.0])["mean"] == 7.0
    assert mean_interval([])["mean"] is None


def test_paired_delta_on_three_items_by_hand():
    before = {"a": 1.0, "b": 2.0, "c": 3.0, "only-before": 5.0}
    after = {"a": 2.0, "b": 4.0, "c": 3.0, "only-after": 1.0}
    d = paired_delta(before, after)
    # differences 1, 2, 0: mean 1, sd 1, standard error 1/sqrt(3)
    assert d["delta"] == 1.0 and d["n"] == 3 and d["before"] == 2.0 and d["after"] == 3.0
    assert d["stderr"] == pytest.approx(1 / math.sqrt(3), abs=1e-6)
    # a resample of three 0s (or three 2s) has probability 1/27 > 2.5%: the interval is [0, 2]
    assert (d["ci_low"], d["ci_high"]) == (0.0, 2.0) and d["includes_zero"]
    assert d["only_before"] == 1 and d["only_after"] == 1
    assert verdict(d) == "no measurable change"
    assert describe_delta(d) == "+1.00 [+0.00, +2.00] (n=3); interval includes 0"


def test_a_constant_improvement_excludes_zero():
    d = paired_delta({i: 5.0 for i in range(4)}, {i: 6.0 for i in range(4)})
    assert (d["delta"], d["ci_low"], d["ci_high"], d["includes_zero"]) == (1.0, 1.0, 1.0, False)
    assert verdict(d) == "improved"
    assert verdict(paired_delta({0: 2.0, 1: 2.0}, {0: 1.0, 1: 1.0})) == "worsened"


def test_one_shared_item_is_too_few_to_tell():
    d = paired_delta({"a": 1.0, "b": 2.0}, {"a": 3.0})
    assert d["delta"] == 2.0 and d["n"] == 1 and d["ci_low"] is None and d["includes_zero"] is None
    assert verdict(d) == "too few items to tell"
    assert describe_delta(d) == "+2.00 (n=1; too few items to tell)"
    assert describe_delta(paired_delta({"a": 1.0}, {"b": 1.0})) == "no shared items (n=0)"


def test_intervals_are_deterministic():
    xs = [float(i % 7) for i in range(40)]
    assert mean_interval(xs) == mean_interval(xs)
    s = mean_interval(xs)
    assert s["ci_low"] < s["mean"] < s["ci_high"]


def test_paired_statistic_delta_of_a_max():
    before, after = {i: float(i) for i in range(5)}, {i: float(i) + 1 for i in range(5)}
    d = paired_statistic_delta(before, after, max)
    # every resample's max rises by exactly 1
    assert (d["delta"], d["ci_low"], d["ci_high"], d["includes_zero"]) == (1.0, 1.0, 1.0, False)


def test_verdict_for_a_score_where_lower_is_better():
    d = paired_delta({0: 2.0, 1: 2.0, 2: 2.0}, {0: 1.0, 1: 1.5, 2: 1.0})
    assert verdict(d) == "worsened"
    assert verdict(d, higher_is_better=False) == "improved"
