"""Every pick says what its distinctiveness d was compared against (paper 002 Eq. 1 with
k = 4, rejected answers, or a fallback), how many answers, and whether fewer than k; the
summary counts them. Hand-made embeddings, so every d is known exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from culturalign.records.synth import CulturalSample, SelectionPick
from culturalign.select import scores
from culturalign.select.caredio import SelectionConfig, select_samples
from culturalign.select.stage import render_report, summary_line

E = np.eye(4)


class Table:
    def __init__(self):
        self.vectors: dict[str, np.ndarray] = {}

    def __call__(self, texts):
        return np.stack([self.vectors[t] for t in texts])


def _sample(table, sid, culture, cluster_vec, answer_vec, others=None, rejected=None):
    others = others or {}
    rejected = rejected or []
    s = CulturalSample(
        id=sid,
        question=f"question {sid}",
        target_culture=culture,
        response=f"answer {sid}",
        other_responses={c: f"{c} answer {sid}" for c in others},
        rejected=[f"rejected {i} {sid}" for i in range(len(rejected))],
    )
    table.vectors[f"question {sid}\n\nanswer {sid}"] = cluster_vec
    table.vectors[f"answer {sid}"] = answer_vec
    for c, v in others.items():
        table.vectors[f"{c} answer {sid}"] = v
    for i, v in enumerate(rejected):
        table.vectors[f"rejected {i} {sid}"] = v
    return s


@pytest.fixture()
def result():
    t = Table()
    samples = [
        # five other cultures, all orthogonal to the answer: any draw of 4 gives d = 1
        _sample(t, "full", "UK", E[0], E[0], {c: E[1] for c in "ABCDE"}),
        # two others, one identical, one orthogonal: d = (0 + 1) / 2 = 0.5 over 2 < k answers
        _sample(t, "short", "UK", E[1], E[0], {"A": E[0], "B": E[1]}),
        # nothing to compare with, beside measured centres: the mean d (1 + 0.5) / 2 = 0.75
        _sample(t, "bare", "UK", E[2], E[0]),
        # human data: one rejected answer at 60° → d = 1 − cos 60° = 0.5
        _sample(t, "pref", "Korean", E[0], E[0], rejected=[np.array([0.5, np.sqrt(0.75), 0, 0])]),
        # a culture where no sample has anything: d = 1, ordered by r alone
        _sample(t, "alone", "Arab", E[0], E[0]),
    ]
    return select_samples(samples, t, SelectionConfig(budget=10))


def test_each_pick_records_source_count_and_below_k(result):
    by_id = {p.sample_id: p for p in result.picks}
    full, short, bare = by_id["full"], by_id["short"], by_id["bare"]
    assert (full.d, full.d_source, full.d_compared, full.d_below_k) == (
        pytest.approx(1.0),
        "other-cultures",
        4,
        False,
    )
    assert (short.d, short.d_source, short.d_compared, short.d_below_k) == (
        pytest.approx(0.5),
        "other-cultures",
        2,
        True,
    )
    assert (bare.d, bare.d_source, bare.d_compared, bare.d_below_k) == (
        pytest.approx(0.75),
        "mean-d-fallback",
        0,
        True,
    )
    pref, alone = by_id["pref"], by_id["alone"]
    assert pref.d == pytest.approx(0.5) and pref.d_source == "rejected-answers" and pref.d_compared == 1
    assert alone.d == 1.0 and alone.d_source == "r-only-fallback" and alone.d_below_k
    # s = r · d with every cluster of size 1: full (1) before bare (0.75) before short (0.5)
    assert [p.sample_id for p in result.picks if p.culture == "UK"] == ["full", "bare", "short"]


def test_summary_counts_sources_and_picks_below_k(result):
    s = result.summary
    assert s["d_sources"] == {
        "other-cultures": 2,
        "rejected-answers": 1,
        "mean-d-fallback": 1,
        "r-only-fallback": 1,
    }
    assert s["d_below_k"] == 4  # all but "full"
    assert s["cultures"]["UK"]["d_sources"] == {"other-cultures": 2, "mean-d-fallback": 1}
    assert s["cultures"]["UK"]["d_below_k"] == 2
    notes = "\n".join(s["notes"])
    assert "UK: 1 picked sample(s) had no answers to compare with" in notes and "imputed" in notes
    assert "UK: 1 picked sample(s) had d averaged over fewer than k = 4 answers" in notes
    assert "Arab: no sample had answers to compare with; d = 1" in notes
    assert "Eq. 1" in s["d_rule"]
    line = summary_line(result)
    assert "d from other-cultures 2, rejected-answers 1, mean-d-fallback 1, r-only-fallback 1" in line
    assert "4 below k = 4" in line
    report = render_report(result, {}, {}, Path("picks.jsonl"))
    assert "| UK | 3 | 3 | 1 | 3 |" in report and "other-cultures 2, mean-d-fallback 1 | 2 |" in report


def test_k_is_the_configured_one():
    t = Table()
    s = [_sample(t, "x", "UK", E[0], E[0], {"A": E[1], "B": E[1]})]
    (p,) = select_samples(s, t, SelectionConfig(budget=1, k_others=2)).picks
    assert p.d_compared == 2 and p.d_below_k is False


def test_d_source_rule_and_older_picks():
    assert scores.d_source("other_cultures", False) == "other-cultures"
    assert scores.d_source("rejected", True) == "rejected-answers"
    assert scores.d_source("none", True) == "mean-d-fallback"
    assert scores.d_source("none", False) == "r-only-fallback"
    with pytest.raises(ValueError):
        scores.d_source("guess", True)
    old = {
        "rank": 1,
        "sample_id": "x",
        "culture": "UK",
        "r": 1.0,
        "d": 0.5,
        "s": 0.5,
        "cluster_id": 0,
        "cluster_size": 1,
        "sample": {"id": "x", "question": "Q?", "target_culture": "UK", "response": "A."},
    }
    pick = SelectionPick.model_validate(old)  # written before d_source existed: unknown, not guessed
    assert pick.d_source is None and pick.d_below_k is None
