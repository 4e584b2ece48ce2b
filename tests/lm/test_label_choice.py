"""Label choice: most probable known label, and the generate-and-parse reading of a reply."""

from __future__ import annotations

from culturalign.lm.labels import best_label, parse_label


def test_best_label_ignores_unknown_probabilities():
    assert best_label({"A": -2.0, "B": None, "C": -0.5}) == "C"
    assert best_label({"A": None}) is None


def test_parse_label_takes_the_first_whole_word_label():
    labels = ["A", "B", "C", "D"]
    assert parse_label("The answer is B, not A.", labels) == "B"
    assert parse_label("(C)", labels) == "C"
    assert parse_label("Because of Dates, A", labels) == "A"  # "D" inside "Dates" is not a label
    assert parse_label("no idea", labels) is None
    assert parse_label("yes, it is", ["Yes", "No"]) == "Yes"  # case-insensitive as a second pass
    assert parse_label("No.", ["N", "No"]) == "No"
