"""Agreement with human ratings on a 1-5 rubric: the same statistics as scipy, histograms
over the rubric's own five bins, and a PNG of them."""

from __future__ import annotations

import pytest
from _care_scripted import scripted_lm
from scipy import stats as st

from culturalign.judge.agreement import agreement_of, histogram, plot_histograms
from culturalign.judge.core import JudgeConfig, JudgeItem, judge_items
from culturalign.judge.rubric import RubricSet, load_rubric
from culturalign.lm.cache import CallCache


def test_agreement_of_a_five_point_rubric_run(tmp_path):
    human = [1.0, 2.0, 4.0, 5.0, 3.0]
    given = {f"answer {i}": r for i, r in enumerate([1, 3, 4, 5, 3])}

    def script(req):
        text = req.messages[-1].content
        return next(f"Rating: [[{r}]]" for a, r in given.items() if a in text)

    judge = scripted_lm(script, CallCache(tmp_path / "c.sqlite"))
    items = [
        JudgeItem(f"q{i}", "How?", None, f"answer {i}", culture="Thai", human_rating=h)
        for i, h in enumerate(human)
    ]
    rubric = load_rubric("prism_awareness")
    judgments = judge_items(judge, items, RubricSet.single(rubric), JudgeConfig(retries=0))
    stats = agreement_of(judgments, rubric.scale)
    assert stats.n_pairs == 5
    assert stats.pearson == pytest.approx(st.pearsonr(human, [1, 3, 4, 5, 3]).statistic)
    assert stats.kendall_tau == pytest.approx(st.kendalltau(human, [1, 3, 4, 5, 3]).statistic)
    assert stats.judge_histogram == {1: 1, 2: 0, 3: 2, 4: 1, 5: 1}
    assert histogram([4.6, 0.2], (1, 5)) == {1: 1, 2: 0, 3: 0, 4: 0, 5: 1}
    png = plot_histograms(stats.human_histogram, stats.judge_histogram, tmp_path / "h.png", "scripted")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
