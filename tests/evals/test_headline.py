"""Headline numbers picked out of real-shaped benchmark summaries."""

from __future__ import annotations

import pytest

from culturalign.evals.headline import headline_metrics


def test_each_benchmark_gives_its_paper_level_numbers():
    assert headline_metrics("opinions", {"culture_sim": 0.6, "country_std": 0.04, "per_country": {}}) == {
        "culture_sim": 0.6,
        "country_std": 0.04,
    }
    assert headline_metrics("culturalbench", {"easy": {"accuracy": 0.5}, "hard": {"accuracy": 0.25}}) == {
        "easy_accuracy": 0.5,
        "hard_accuracy": 0.25,
    }
    cali = {"per_culture": {"India": {"macro_f1": 0.3, "entailment_f1": 0.4}}, "tuned_threshold": False}
    assert headline_metrics("cali", cali) == {"India/macro_f1": 0.3, "India/entailment_f1": 0.4}
    blend = {"accuracy": 0.1, "per_language": {"en": 0.2, "local": 0.0}}
    assert headline_metrics("blend", blend) == {"accuracy": 0.1, "accuracy/en": 0.2, "accuracy/local": 0.0}
    assert headline_metrics("mcq", {"accuracy": 1, "mode": "letters", "questions": 4}) == {"accuracy": 1.0}
    with_intervals = {"accuracy": 0.1, "per_language": {"en": {"accuracy": 0.2, "n": 5, "ci_low": 0.04}}}
    assert headline_metrics("blend", with_intervals) == {"accuracy": 0.1, "accuracy/en": 0.2}


def test_missing_numbers_are_left_out_not_zero():
    assert headline_metrics("opinions", {"culture_sim": None}) == {}
    with pytest.raises(ValueError):
        headline_metrics("care", {})
