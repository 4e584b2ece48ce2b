"""Judge-human agreement (CARE appendix C.2): numbers equal scipy's, histograms, PNG."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _care_scripted import scripted_lm
from scipy import stats as st

from culturalign.datasets import load_any
from culturalign.io import read_records
from culturalign.judge.agreement import (
    agreement,
    histogram,
    items_from_preferences,
    run_judge_agreement,
)
from culturalign.lm.cache import CallCache
from culturalign.records.judgment import Judgment

FIXTURES = Path(__file__).parent / "fixtures"
PREFS = FIXTURES / "care_prefs_sample.jsonl"

HUMAN = [9, 8, 2, 4, 10, 9, 1, 5, 9, 8, 1, 6, 7, 3]
JUDGE = [10, 7, 1, 5, 9, 9, 2, 4, 8, 8, 1, 7, 6.5, 5]


def test_agreement_equals_scipy():
    got = agreement(HUMAN, JUDGE)
    assert got.n_pairs == len(HUMAN)
    assert got.pearson == pytest.approx(st.pearsonr(HUMAN, JUDGE).statistic, abs=1e-12)
    assert got.spearman == pytest.approx(st.spearmanr(HUMAN, JUDGE).statistic, abs=1e-12)
    assert got.kendall_tau == pytest.approx(st.kendalltau(HUMAN, JUDGE).statistic, abs=1e-12)
    assert got.pearson_p == pytest.approx(st.pearsonr(HUMAN, JUDGE).pvalue)
    assert 0.8 < got.pearson < 1  # the fixture was built to agree well, not perfectly


def test_histograms_bin_to_whole_ratings():
    h = histogram([1, 1, 6.5, 6.4, 10])
    assert h == {1: 2, 2: 0, 3: 0, 4: 0, 5: 0, 6: 1, 7: 1, 8: 0, 9: 0, 10: 1}
    assert sum(agreement(HUMAN, JUDGE).judge_histogram.values()) == len(JUDGE)


def test_undefined_correlations_are_none_not_numbers():
    flat = agreement([5, 5, 5], [4, 6, 8])
    assert flat.pearson is None and flat.spearman is None and flat.kendall_tau is None and flat.note
    assert agreement([7], [7]).pearson is None


def test_reference_rows_are_not_judged_against_themselves():
    _, questions = load_any(PREFS)
    items, self_ref = items_from_preferences(questions)
    assert self_ref == 3  # the three human-written rows double as reference answers
    assert len(items) == 9  # the unrated "not an answer" row is left out too
    assert all(it.human_rating is not None and it.reference for it in items)


def _judge_script(replies: dict[str, str]):
    def script(req):
        text = req.messages[-1].content
        for needle, reply in replies.items():
            if text.rstrip().endswith(needle):
                return reply
        return "Rating: [[5]]"

    return script


def test_run_judge_agreement_writes_numbers_equal_to_scipy_and_a_png(tmp_path):
    replies = {
        "less strict.": "Close to the reference.\nRating: [[9]]",
        "no custom about it.": "Wrong.\nRating: [[1]]",
        "depends on the restaurant.": "Vague.\nRating: [[3]]",
        "small surroundings.": "Right.\nRating: [[8]]",
        "bring wealth.": "Wrong.\nRating: [[2]]",
        "stuck, probably.": "I cannot decide.",  # invalid on every attempt
        "long life.": "Good.\nRating: [[8.5]]",
        "cranberry sauce.": "Wrong culture.\nRating: [[1]]",
        "some kind.": "Thin.\nRating: [[4]]",
    }
    lm = scripted_lm(_judge_script(replies), CallCache(tmp_path / "c.sqlite"))
    _, questions = load_any(PREFS)
    report = run_judge_agreement(lm, questions, tmp_path / "agree", judge_retries=1, data_path=PREFS)
    assert report.n_responses == 9 and report.n_invalid == 1 and report.stats.n_pairs == 8
    js = read_records(tmp_path / "agree" / "judgments.jsonl", Judgment)
    pairs = [(j.human_rating, j.rating) for j in js if j.valid]
    h, r = zip(*pairs, strict=True)
    assert report.stats.pearson == pytest.approx(st.pearsonr(h, r).statistic, abs=1e-12)
    assert report.stats.spearman == pytest.approx(st.spearmanr(h, r).statistic, abs=1e-12)
    assert report.stats.kendall_tau == pytest.approx(st.kendalltau(h, r).statistic, abs=1e-12)
    png = tmp_path / "agree" / "histograms.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    saved = json.loads((tmp_path / "agree" / "agreement.json").read_text())
    assert saved["stats"]["n_pairs"] == 8 and saved["stats"]["human_histogram"]["8"] == 2
    run = json.loads((tmp_path / "agree" / "run.json").read_text())
    assert run["kind"] == "judge-agreement" and str(PREFS) in run["data"]
