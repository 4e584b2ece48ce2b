"""The selection stage on hand-made embeddings: exact r, d, s and cluster sizes, budgets,
determinism for a seed, human data (paper 002 §3.3 and §7)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from culturalign.errors import ConfigError
from culturalign.records import ChatMessage, PreferencePair
from culturalign.records.synth import CulturalSample
from culturalign.select.caredio import SelectionConfig, select_samples
from culturalign.select.data import from_pairs


def unit(*v: float) -> np.ndarray:
    a = np.array(v, dtype=np.float64)
    return a / np.linalg.norm(a)


class Table:
    """An 'embedder' that looks texts up in a table, so every vector is known exactly."""

    def __init__(self):
        self.vectors: dict[str, np.ndarray] = {}

    def __call__(self, texts):
        return np.stack([self.vectors[t] for t in texts])


def sample(
    table: Table, sid: str, vec, answer_vec, others: dict[str, np.ndarray], culture="UK"
) -> CulturalSample:
    s = CulturalSample(
        id=sid,
        question=f"question {sid}",
        target_culture=culture,
        response=f"answer {sid}",
        other_responses={c: f"{c} answer {sid}" for c in others},
    )
    table.vectors[f"question {sid}\n\nanswer {sid}"] = vec
    table.vectors[f"answer {sid}"] = answer_vec
    for c, v in others.items():
        table.vectors[f"{c} answer {sid}"] = v
    return s


@pytest.fixture()
def world():
    t = Table()
    e1, e2, e3 = unit(1, 0, 0, 0), unit(0, 1, 0, 0), unit(0, 0, 1, 0)
    near = lambda a, b: unit(*(a + 0.2 * b))  # cos(near, a) ≈ 0.98  # noqa: E731
    samples = [
        # cluster A: three near-paraphrases along e1
        sample(t, "a1", e1, e1, {"China": e2, "India": e1}),
        sample(t, "a2", near(e1, e2), e1, {"China": e2, "India": e1}),
        sample(t, "a3", near(e1, e3), e1, {"China": e3, "India": e2}),
        # cluster B: two along e2
        sample(t, "b1", e2, e2, {"China": -e2, "India": e2}),
        sample(t, "b2", near(e2, e3), e2, {"China": -e2, "India": e2}),
        # a singleton along e3
        sample(t, "c1", e3, e3, {"China": e1, "India": e2}),
    ]
    return t, samples


def test_r_d_s_and_cluster_sizes_exactly(world):
    table, samples = world
    res = select_samples(samples, table, SelectionConfig(budget=10))
    got = {p.sample_id: p for p in res.picks}
    # centres: a1 is the most similar to both other A members; b1 and b2 tie → earliest
    assert set(got) == {"a1", "b1", "c1"}
    assert (got["a1"].r, got["a1"].cluster_size) == (3.0, 3)
    assert (got["b1"].r, got["b1"].cluster_size) == (2.0, 2)
    assert (got["c1"].r, got["c1"].cluster_size) == (1.0, 1)
    # d = mean(1 - cos): a1 vs (e2, e1) = (1 + 0)/2; b1 vs (-e2, e2) = (2 + 0)/2; c1 vs (e1, e2) = 1
    assert got["a1"].d == pytest.approx(0.5, abs=1e-12)
    assert got["b1"].d == pytest.approx(1.0, abs=1e-12)
    assert got["c1"].d == pytest.approx(1.0, abs=1e-12)
    assert [p.sample_id for p in res.picks] == ["b1", "a1", "c1"]  # s = 2.0, 1.5, 1.0
    assert [p.s for p in res.picks] == pytest.approx([2.0, 1.5, 1.0])
    assert [p.rank for p in res.picks] == [1, 2, 3]
    assert all(p.d_method == "other_cultures" and p.d_compared == 2 for p in res.picks)
    info = res.summary["cultures"]["UK"]
    assert (info["clusters"], info["largest_cluster"], info["singletons"]) == (3, 3, 1)


def test_budgets(world):
    table, samples = world
    two = select_samples(samples, table, SelectionConfig(budget=2))
    assert [p.sample_id for p in two.picks] == ["b1", "a1"]
    tokens = {s.id: 10 for s in samples}
    tokens["a1"] = 50
    by_tokens = select_samples(
        samples,
        table,
        SelectionConfig(budget=40, budget_unit="tokens"),
        count_tokens=lambda text: tokens[text.split()[1]],
    )
    assert [p.sample_id for p in by_tokens.picks] == ["b1"]  # a1 (50) would exceed 40: stop
    assert by_tokens.picks[0].tokens == 10


def test_deterministic_for_a_seed_and_independent_of_input_order():
    table = Table()
    rng = np.random.default_rng(0)
    cultures = ["China", "India", "Japan", "Korea", "Singapore", "Spain"]
    samples = []
    for i in range(30):
        base = rng.normal(size=8)
        samples.append(
            sample(
                table,
                f"s{i:02d}",
                unit(*base),
                unit(*rng.normal(size=8)),
                {c: unit(*rng.normal(size=8)) for c in cultures},
            )
        )
    cfg = SelectionConfig(budget=10, k_others=4, seed=7)
    a = select_samples(samples, table, cfg)
    shuffled = samples[:]
    random.Random(1).shuffle(shuffled)
    b = select_samples(shuffled, table, cfg)
    assert [p.model_dump() for p in a.picks] == [p.model_dump() for p in b.picks]
    assert all(p.d_compared == 4 for p in a.picks)
    other = select_samples(samples, table, SelectionConfig(budget=10, k_others=4, seed=8))
    assert [p.d for p in other.picks] != [p.d for p in a.picks]  # another seed draws other cultures


def test_cultures_are_selected_separately():
    table = Table()
    e1, e2 = unit(1, 0), unit(0, 1)
    samples = [
        sample(table, "uk1", e1, e1, {"China": e2}, culture="UK"),
        sample(table, "uk2", e1, e1, {"China": e2}, culture="UK"),
        sample(table, "cn1", e1, e2, {"UK": e1}, culture="China"),
    ]
    res = select_samples(samples, table, SelectionConfig(budget=5))
    assert [(p.culture, p.sample_id, p.cluster_size) for p in res.picks] == [
        ("China", "cn1", 1),
        ("UK", "uk1", 2),
    ]


def test_human_pairs_measure_d_against_rejected_answers():
    table = Table()
    prompt = [ChatMessage(role="user", content="How do you greet an elder?")]
    pairs = [
        PreferencePair(
            question_id="q1",
            prompt=prompt,
            chosen=[ChatMessage(role="assistant", content="Bow slightly.")],
            rejected=[ChatMessage(role="assistant", content=text)],
            culture="Korean",
        )
        for text in ("Wave.", "Shout hello.")
    ]
    samples = from_pairs(pairs, None)
    assert len(samples) == 1 and samples[0].rejected == ["Wave.", "Shout hello."]
    table.vectors["How do you greet an elder?\n\nBow slightly."] = unit(1, 0)
    table.vectors["Bow slightly."] = unit(1, 0)
    table.vectors["Wave."] = unit(0, 1)
    table.vectors["Shout hello."] = unit(1, 1)
    res = select_samples(samples, table, SelectionConfig(budget=1))
    p = res.picks[0]
    assert p.d_method == "rejected" and p.d_compared == 2
    assert p.d == pytest.approx((1 + (1 - 1 / math.sqrt(2))) / 2, abs=1e-12)


def test_samples_without_alternatives_get_a_neutral_d_and_a_note():
    table = Table()
    s = CulturalSample(id="x", question="Q?", target_culture="Arab", response="A.")
    table.vectors["Q?\n\nA."] = unit(1, 0)
    table.vectors["A."] = unit(1, 0)
    res = select_samples([s], table, SelectionConfig(budget=1))
    assert res.picks[0].d == 1.0 and res.picks[0].d_method == "none"
    assert any("d = 1" in n for n in res.summary["notes"])
    # beside samples that have alternatives, it gets their mean d: neither favoured nor penalised
    others = [
        CulturalSample(id="y", question="Q2?", target_culture="Arab", response="B.", rejected=["C."]),
        CulturalSample(id="z", question="Q3?", target_culture="Arab", response="D.", rejected=["E."]),
    ]
    table.vectors.update(
        {"Q2?\n\nB.": unit(0, 1, 0), "B.": unit(1, 0, 0), "C.": unit(0, 1, 0)}
        | {"Q3?\n\nD.": unit(0, 0, 1), "D.": unit(1, 0, 0), "E.": unit(-1, 0, 0)}
    )
    table.vectors["Q?\n\nA."] = unit(1, 0, 0)
    res = select_samples([s, *others], table, SelectionConfig(budget=3))
    got = {p.sample_id: p.d for p in res.picks}
    assert got["y"] == pytest.approx(1.0) and got["z"] == pytest.approx(2.0)
    assert got["x"] == pytest.approx(1.5)
    assert any("mean d" in n for n in res.summary["notes"])


def test_unusable_samples_are_skipped_and_ids_must_be_unique():
    table = Table()
    good = CulturalSample(id="g", question="Q?", target_culture="UK", response="A.")
    failed = CulturalSample(id="f", question="Q?", target_culture="UK", error="timeout")
    table.vectors["Q?\n\nA."] = unit(1, 0)
    table.vectors["A."] = unit(1, 0)
    res = select_samples([good, failed], table, SelectionConfig(budget=5))
    assert res.summary["skipped_unusable"] == 1 and len(res.picks) == 1
    with pytest.raises(ConfigError, match="unique"):
        select_samples([good, good], table, SelectionConfig(budget=5))


def test_in_context_representativeness_uses_the_scores_it_is_given(world):
    table, samples = world
    seen = []

    def fake_incontext(groups, culture):
        seen.append([[s.id for s in g] for g in groups])
        return [0.25 if g[0].id == "a1" else 0.5 for g in groups]

    cfg = SelectionConfig(budget=5, representativeness="in-context", incontext_shots=2)
    res = select_samples(samples, table, cfg, incontext=fake_incontext)
    # shot groups: each centre first, then its most similar cluster member
    assert seen[0][0][0] == "a1" and len(seen[0][0]) == 2
    got = {p.sample_id: p for p in res.picks}
    assert got["a1"].r == 0.25 and got["b1"].r == 0.5
    assert got["b1"].s == pytest.approx(0.5 * 1.0)
    with pytest.raises(ConfigError, match="in-context"):
        select_samples(samples, table, cfg)


def test_in_context_candidates_limit_scoring_to_the_largest_clusters(world):
    table, samples = world
    scored = []

    def fake_incontext(groups, culture):
        scored.extend(g[0].id for g in groups)
        return [1.0] * len(groups)

    cfg = SelectionConfig(budget=5, representativeness="in-context", incontext_candidates=2)
    res = select_samples(samples, table, cfg, incontext=fake_incontext)
    assert scored == ["a1", "b1"]  # the centres of the two largest clusters (sizes 3 and 2)
    assert [p.sample_id for p in res.picks] == ["b1", "a1"]  # c1 was never a candidate
    assert res.summary["cultures"]["UK"]["candidates"] == 2
