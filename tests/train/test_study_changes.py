"""Per-item units behind study metrics, read back from evaluation folders, and the paired
changes and sentences built from them (hand-worked cases, no model)."""

from __future__ import annotations

import json

import pytest

from culturalign.evals.care.stats import summarize
from culturalign.records.judgment import Judgment
from culturalign.train.study_changes import change_sentences, paired_changes
from culturalign.train.study_evals import metric_units


def _care_dir(path, ratings):
    js = [
        Judgment(
            item_id=k,
            question="q",
            reference="a",
            response="r",
            category=cat,
            culture="Chinese",
            judge="j",
            rating=v,
            valid=True,
            status="ok",
        )
        for k, (cat, v) in ratings.items()
    ]
    path.mkdir(parents=True)
    (path / "summary.json").write_text(summarize(js, label="x").model_dump_json())
    return path


def test_care_units_pair_the_average_and_each_category(tmp_path):
    base = _care_dir(tmp_path / "a", {"1": ("opinion", 4), "2": ("opinion", 6), "3": ("literacy", 5)})
    after = _care_dir(tmp_path / "b", {"1": ("opinion", 5), "2": ("opinion", 7), "3": ("literacy", 5)})
    changes = paired_changes(metric_units("care", base), metric_units("care", after))
    assert changes["average"]["delta"] == pytest.approx(2 / 3) and changes["average"]["n"] == 3
    assert (changes["Opinion"]["delta"], changes["Opinion"]["ci_low"]) == (1.0, 1.0)
    assert changes["Literacy"]["n"] == 1 and changes["Literacy"]["ci_low"] is None
    text = change_sentences({"dpo": changes}, "vanilla")
    assert "Interval includes 0 (no measurable change): dpo average." in text
    assert "Too few items to tell: dpo Literacy." in text


def test_gap_units_come_from_the_per_pair_differences(tmp_path):
    for name, diffs in (("a", [1.0, -1.0, 2.0]), ("b", [2.0, 1.0, 3.0])):
        (tmp_path / name).mkdir()
        (tmp_path / name / "gap.json").write_text(json.dumps({"diffs": diffs, "per_token_diffs": diffs}))
    changes = paired_changes(metric_units("gap", tmp_path / "a"), metric_units("gap", tmp_path / "b"))
    # differences 1, 2, 1: mean 4/3; pair accuracy 2/3 -> 1
    assert changes["gap"]["delta"] == pytest.approx(4 / 3) and changes["gap"]["n"] == 3
    assert changes["accuracy"]["delta"] == pytest.approx(1 / 3)
    assert metric_units("gap", tmp_path / "missing") == {}
