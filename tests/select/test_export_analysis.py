"""Training rows from selected samples (paper 002 §3.4) and the figures of §5.3."""

from __future__ import annotations

import numpy as np

from culturalign.io import read_records
from culturalign.records import CulturalSample, PreferencePair, SFTExample
from culturalign.select import analysis
from culturalign.select.export import export, to_dpo, to_sft


def _sample(sid="s1", **kw) -> CulturalSample:
    base = dict(
        id=sid,
        question="How do you greet an elder?",
        target_culture="South Korea",
        response="With a bow and both hands when handing something over.",
        other_responses={
            "United Kingdom": "A handshake.",
            "India": "Namaste, touching feet sometimes.",
            "China": "",
        },
        topic="respect_for_elders",
    )
    base.update(kw)
    return CulturalSample(**base)


def test_sft_rows_are_prompt_completion_conversations():
    rows = to_sft([_sample()], system="You are from {culture}.")
    r = rows[0]
    assert [m.role for m in r.prompt] == ["system", "user"] and r.prompt[
        0
    ].content == "You are from South Korea."
    assert r.completion[0].role == "assistant" and r.completion[0].content.startswith("With a bow")
    assert to_sft([_sample()])[0].prompt[0].role == "user"  # no system turn by default


def test_dpo_pairs_reject_other_cultures_answers(tmp_path):
    pairs = to_dpo([_sample()])
    # empty answers are not used; cultures in order
    assert [p.source for p in pairs] == ["caredio:rejected=India", "caredio:rejected=United Kingdom"]
    assert all(p.chosen[0].content.startswith("With a bow") for p in pairs)
    assert pairs[1].rejected[0].content == "A handshake."
    human = _sample("h1", other_responses={}, rejected=["Wave from afar."], source="care")
    assert [p.rejected[0].content for p in to_dpo([human])] == ["Wave from afar."]
    one = to_dpo([_sample()], pairs_per_sample=1, seed=3)
    assert len(one) == 1 and one == to_dpo([_sample()], pairs_per_sample=1, seed=3)
    counts = export([_sample(), human], sft=tmp_path / "sft.jsonl", dpo=tmp_path / "dpo.jsonl")
    assert counts == {"sft": 2, "dpo": 3}
    assert len(read_records(tmp_path / "dpo.jsonl", PreferencePair)) == 3
    assert len(read_records(tmp_path / "sft.jsonl", SFTExample)) == 2


def test_top_phrases_find_each_cultures_own_words():
    texts = {
        "United Kingdom": [
            "Afternoon tea with scones is a weekend habit.",
            "We queue politely for afternoon tea.",
        ],
        "China": [
            "Filial piety guides how we care for parents.",
            "Spring festival reunions show filial piety.",
        ],
    }
    top = analysis.top_phrases(texts, top=5)
    assert "afternoon tea" in [p for p, _ in top["United Kingdom"]]
    assert "filial piety" in [p for p, _ in top["China"]]
    assert not {p for p, _ in top["China"]} & {"afternoon", "afternoon tea"}


def test_figures_are_written_as_png(tmp_path):
    rng = np.random.default_rng(0)
    vecs = np.vstack([rng.normal(0, 1, (10, 16)) + 3, rng.normal(0, 1, (10, 16)) - 3])
    cultures = ["A"] * 10 + ["B"] * 10
    pts, ratios = analysis.pca_2d(vecs)
    assert pts.shape == (20, 2) and ratios[0] > 0.5  # the two groups dominate PC1
    assert np.sign(pts[:10, 0]).tolist().count(np.sign(pts[0, 0])) == 10
    png = analysis.pca_scatter(vecs, cultures, tmp_path / "pca.png", "test")
    chart = analysis.phrases_chart(
        {"A": [("tea", 0.5), ("scones", 0.3)], "B": [("rice", 0.4)]}, tmp_path / "t.png"
    )
    for p in (png, chart):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
