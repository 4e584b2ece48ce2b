"""Intervals on choice-benchmark scores and the per-item units behind headline metrics."""

from __future__ import annotations

import json
import random

import pytest

from culturalign.evals.choice.cali import NLI_LABELS, f1_intervals, f1_of_codes, metrics_for
from culturalign.evals.choice.mcq import accuracy_block, summarise_mcq
from culturalign.evals.choice.run import interval_text
from culturalign.evals.headline import headline_units
from culturalign.evals.metrics import f1_scores
from culturalign.train.study_changes import change_text, paired_changes


def test_fast_f1_matches_sklearn():
    rng = random.Random(3)
    for _ in range(20):
        gold = [rng.choice(NLI_LABELS) for _ in range(rng.randint(1, 30))]
        pred = [rng.choice(NLI_LABELS[:2]) for _ in gold]  # C never predicted: zero_division case
        codes = [3 * NLI_LABELS.index(g) + NLI_LABELS.index(p) for g, p in zip(gold, pred, strict=True)]
        ref = f1_scores(gold, pred, NLI_LABELS)
        assert f1_of_codes(codes, None) == pytest.approx(ref["macro"])
        assert f1_of_codes(codes, 0) == pytest.approx(ref["E"])


def test_cali_metrics_carry_intervals():
    recs = [{"gold": g, "pred": p} for g, p in [("E", "E")] * 6 + [("N", "C")] * 2 + [("C", "C")] * 2]
    m = metrics_for(recs)
    ci = m["intervals"]
    assert (
        ci["macro_f1"]["n"] == 10 and ci["macro_f1"]["ci_low"] <= m["macro_f1"] <= ci["macro_f1"]["ci_high"]
    )
    assert ci["entailment_f1"]["ci_high"] == 1.0  # every E pair is right in every resample
    assert ci["accuracy"]["ci_low"] == pytest.approx(0.4902, abs=1e-3)  # Wilson for 8/10
    one = f1_intervals(["E"], ["E"])
    assert one["macro_f1"]["too_small"] and one["macro_f1"]["ci_low"] is None


def test_mcq_accuracy_blocks_have_wilson_intervals():
    block = accuracy_block([True] * 7 + [False] * 3)
    assert block["accuracy"] == 0.7 and block["n"] == 10
    assert (block["ci_low"], block["ci_high"]) == (
        pytest.approx(0.3968, abs=1e-4),
        pytest.approx(0.8922, abs=1e-4),
    )
    recs = [
        {"id": "1", "correct": True, "culture": "Japan"},
        {"id": "2", "correct": False, "culture": "Japan"},
        {"id": "3", "correct": True, "culture": "Peru"},
    ]
    s = summarise_mcq(recs, "letters")
    assert s["accuracy_interval"]["n"] == 3 and s["accuracy_interval"]["ci_low"] is not None
    peru = s["per_culture"]["Peru"]
    assert peru["n"] == 1 and peru["too_small"] and peru["ci_low"] is None
    assert interval_text(peru) == "too small (n=1)"
    assert interval_text(s["per_culture"]["Japan"]) == "0.095–0.905"  # Wilson for 1/2


def _items(path, records):
    path.mkdir(parents=True, exist_ok=True)
    (path / "items.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_paired_change_of_mcq_accuracy_between_two_runs(tmp_path):
    before = _items(tmp_path / "a", [{"id": str(i), "correct": i < 2} for i in range(6)])
    after = _items(tmp_path / "b", [{"id": str(i), "correct": i < 5} for i in range(6)])
    changes = paired_changes(headline_units("mcq", before), headline_units("mcq", after))
    acc = changes["accuracy"]
    # 2/6 -> 5/6 on the same six questions: three questions flip from wrong to right
    assert acc["delta"] == pytest.approx(0.5) and acc["n"] == 6 and acc["includes_zero"] is False
    assert change_text(acc).startswith("+0.500 [")


def test_opinion_units_are_per_question_means_over_countries(tmp_path):
    d = _items(
        tmp_path / "o",
        [
            {"id": "q1", "country": "A", "similarity": 0.4},
            {"id": "q1", "country": "B", "similarity": 0.6},
            {"id": "q2", "country": "A", "similarity": 0.9},
            {"id": "q3", "country": "A", "similarity": None},
        ],
    )
    units = headline_units("opinions", d)["culture_sim"].units
    assert units == {"q1": pytest.approx(0.5), "q2": 0.9}
    assert headline_units("opinions", tmp_path / "missing") == {}


def test_cali_units_pair_f1_item_by_item(tmp_path):
    base = [{"id": str(i), "culture": "India", "gold": "E", "pred": "N"} for i in range(4)]
    better = [{**r, "pred": "E"} for r in base]
    d = paired_changes(
        headline_units("cali", _items(tmp_path / "a", base)),
        headline_units("cali", _items(tmp_path / "b", better)),
    )
    # entailment F1 0 -> 1 in every resample
    assert (d["India/entailment_f1"]["delta"], d["India/entailment_f1"]["ci_low"]) == (1.0, 1.0)
