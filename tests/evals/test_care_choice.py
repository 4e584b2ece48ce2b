"""Judge-free CARE (reference answers as multiple choice): distractor draw, scoring and
the table, on hand-made questions with a scripted scorer whose choices are known."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from culturalign.evals.care.choice import MissingTranslation, build_items, item_scores, run_care_choice
from culturalign.lm.base import Backend, OnDone, ScoreRequest, ScoreResult
from culturalign.lm.cached import LM
from culturalign.records import CulturalQuestion


def _q(i: int, culture: str, category: str, ref: str, *, en: bool = True) -> CulturalQuestion:
    return CulturalQuestion(
        id=f"{culture[:2]}-{i}",
        text=f"question {i} about {culture}",
        language="zh",
        culture=culture,
        category=category,
        reference_answer=ref,
        text_en=f"English question {i}" if en else None,
        reference_answer_en=f"English {ref}" if en else None,
    )


class MarkerScorer(Backend):
    """Log-likelihood -1 per character for an option containing 'GOOD', -2 otherwise:
    the per-character pick is known in advance."""

    kind = "scripted"

    def identity(self) -> dict:
        return {"backend": "scripted", "model": "marker"}

    def generate(self, requests, on_done: OnDone) -> None:  # pragma: no cover - unused
        raise AssertionError("care-choice must not generate")

    def score(self, requests: Sequence[ScoreRequest], on_done: OnDone) -> None:
        for i, r in enumerate(requests):
            lps = [(-1.0 if "GOOD" in c else -2.0) * len(c) for c in r.continuations]
            on_done(i, ScoreResult(logprobs=lps, num_chars=[len(c) for c in r.continuations]))


def _lm() -> LM:
    return LM(MarkerScorer(), None, spec="scripted:marker")


def test_distractors_come_from_the_same_culture_and_category_first():
    qs = [_q(i, "Chinese", "social_norms", f"norm answer {i}") for i in range(5)]
    qs += [_q(10 + i, "Chinese", "literacy", f"idiom answer {i}") for i in range(2)]
    qs += [_q(20 + i, "Arab", "social_norms", f"arab norm {i}") for i in range(5)]
    items, left = build_items(qs, k=3)
    assert left == {"no_reference": 0, "no_distractor": 0}
    by_id = {it.id: it for it in items}
    norms = by_id["Ch-0"]
    # 4 other Chinese norms questions: 3 of them, never another culture's, never its own
    assert norms.pool == "same-category" and len(norms.options) == 4
    assert set(norms.distractor_ids) <= {"Ch-1", "Ch-2", "Ch-3", "Ch-4"}
    assert norms.options[norms.answer] == "norm answer 0"
    # literacy has one other question: one same-category distractor plus two from the culture
    lit = by_id["Ch-10"]
    assert lit.pool == "same-culture" and len(lit.options) == 4
    assert "Ch-11" in lit.distractor_ids
    assert all(d.startswith("Ch-") for d in lit.distractor_ids)
    # the draw is deterministic, and the correct position is not always the first
    again, _ = build_items(qs, k=3)
    assert [(i.options, i.answer) for i in again] == [(i.options, i.answer) for i in items]
    assert len({it.answer for it in items}) > 1


def test_a_question_alone_in_its_culture_is_left_out_and_counted():
    qs = [_q(1, "Korean", "literacy", "only one"), _q(2, "Arab", "opinion", "a"), _q(3, "Arab", "opinion", "b")]
    qs.append(
        CulturalQuestion(id="x", text="q", language="zh", culture="Arab", category="opinion", reference_answer=None)
    )
    items, left = build_items(qs, k=3)
    assert left == {"no_reference": 1, "no_distractor": 1}
    assert sorted(it.id for it in items) == ["Ar-2", "Ar-3"]
    assert all(len(it.options) == 2 and it.chance == 0.5 for it in items)


def test_english_without_translations_is_refused():
    qs = [_q(1, "Japanese", "literacy", "a", en=False), _q(2, "Japanese", "literacy", "b")]
    with pytest.raises(MissingTranslation, match="1 of 2 questions have no English"):
        build_items(qs, k=1, lang="en")
    items, _ = build_items(qs, k=1, lang="native")
    assert len(items) == 2


def test_scores_tables_and_intervals_by_hand(tmp_path):
    # 4 norms questions per culture; 'GOOD' marks the references the scorer prefers.
    # Chinese: every reference is GOOD -> each item has 4 GOOD options, the pick is the
    # first GOOD option in the drawn order; Arab: only the own reference is GOOD -> 4/4.
    qs = [_q(i, "Arab", "social_norms", f"GOOD{i}" if i == 0 else f"plain {i}") for i in range(4)]
    qs += [_q(10 + i, "Mexican", "social_norms", f"GOOD answer {i}") for i in range(4)]
    summary = run_care_choice(_lm(), qs, tmp_path, k=3)
    recs = [json.loads(line) for line in (tmp_path / "items.jsonl").read_text().splitlines()]
    # Arab: item 0's own reference is the only GOOD option -> right; items 1-3 have GOOD0 as
    # a distractor (same category, all 3 others are drawn) -> wrong
    arab = {r["id"]: r["correct_norm"] for r in recs if r["culture"] == "Arab"}
    assert arab == {"Ar-0": True, "Ar-1": False, "Ar-2": False, "Ar-3": False}
    # Mexican: all equal per character (-1) -> the first option wins; right iff answer == 0
    mex = {r["id"]: r["correct_norm"] for r in recs if r["culture"] == "Mexican"}
    assert mex == {r["id"]: r["answer"] == 0 for r in recs if r["culture"] == "Mexican"}
    n_right = sum(arab.values()) + sum(mex.values())
    o = summary["overall"]
    assert o["n"] == 8 and o["accuracy"] == pytest.approx(n_right / 8)
    assert o["chance"] == pytest.approx(0.25)
    assert o["ci_low"] < o["accuracy"] < o["ci_high"]
    cell = summary["cultures"]["Arab"]["categories"]["Norms"]
    assert cell["accuracy"] == pytest.approx(0.25) and cell["n"] == 4
    table = (tmp_path / "table.md").read_text()
    assert "| culture | Entities | Opinion | Norms | C. sense | Literacy | Average | chance |" in table
    assert "0.25 [" in table and "n=4" in table
    assert item_scores(recs)["Ar-0"] == 1.0
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["kind"] == "eval-care-choice" and run["config"]["k"] == 3


class FirstOptionScorer(MarkerScorer):
    """Every option equally likely per character: the first option is always picked."""

    def score(self, requests: Sequence[ScoreRequest], on_done: OnDone) -> None:
        for i, r in enumerate(requests):
            on_done(i, ScoreResult(logprobs=[-1.0 * len(c) for c in r.continuations]))


def test_demo_summary_leads_with_the_paired_judge_free_change(tmp_path):
    from culturalign.pipeline.demo import collect_summary

    qs = [_q(i, "Arab", "social_norms", f"GOOD{i}" if i % 2 == 0 else f"plain {i}") for i in range(8)]
    base = tmp_path / "eval" / "care-choice" / "base" / "vanilla-en"
    after = tmp_path / "eval" / "care-choice" / "dpo-lora" / "vanilla-en"
    run_care_choice(LM(FirstOptionScorer(), None, spec="scripted:first"), qs, base, k=3)
    run_care_choice(_lm(), qs, after, k=3)
    s = collect_summary(tmp_path)
    labels = [label for label, _ in s.care_choice]
    assert sorted(labels) == ["base", "dpo-lora"]
    change = s.care_choice_change
    assert change is not None and change.change["n"] == 8
    recs = {
        name: {json.loads(line)["id"]: json.loads(line)["correct_norm"] for line in (d / "items.jsonl").open()}
        for name, d in (("base", base), ("after", after))
    }
    by_hand = sum(recs["after"].values()) / 8 - sum(recs["base"].values()) / 8
    assert change.change["delta"] == pytest.approx(by_hand)
    assert s.signals()[0] is change  # no training run here: the judge-free signal leads
