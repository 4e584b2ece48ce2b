"""CultureBank answer quality (002 Table 5): questions from a release-style CultureBank
file, answered by a scripted model and rated 1-5 by a scripted judge that reads the
knowledge; the per-group table with n and intervals; a real tiny model end to end."""

from __future__ import annotations

import json

import pytest
from _care_scripted import scripted_lm

from culturalign.evals.open_ended.culturebank_quality import run_culturebank_quality
from culturalign.evals.open_ended.grounded import load_grounded_questions
from culturalign.judge.core import JudgeConfig
from culturalign.lm.cache import CallCache
from culturalign.records.generation import GenerationParams

ROWS = [
    ("Japanese", "bow when greeting", "How should I greet my host family?"),
    ("Japanese", "take shoes off indoors", "What should I do when I enter my friend's flat?"),
    ("Japanese", "avoid tipping in restaurants", "How much should I leave after dinner?"),
    ("Brazilian", "greet with a kiss on the cheek", "How do I say hello at my colleague's party?"),
    ("Brazilian", "arrive a little late to parties", "When should I show up to a barbecue?"),
]


def _release(tmp_path):
    f = tmp_path / "culturebank_test.jsonl"
    f.write_text(
        "".join(
            json.dumps(
                {
                    "cultural group": group,
                    "actor_behavior": behaviour,
                    "topic": "Etiquette",
                    "agreement": 0.9,
                    "eval_scenario": "Travel",
                    "eval_persona": "A visitor.",
                    "eval_question": question,
                }
            )
            + "\n"
            for group, behaviour, question in ROWS
        )
    )
    return f


def test_quality_is_rated_per_cultural_group_with_the_knowledge_in_the_judge_prompt(tmp_path):
    data = _release(tmp_path)
    questions = load_grounded_questions(data)
    cache = CallCache(tmp_path / "calls.sqlite")
    model = scripted_lm(lambda r: "Follow local custom.", cache, "scripted-model")

    def judge_reply(req):
        text = req.messages[-1].content
        return "Rating: [[5]]" if "Japanese" in text else "Rating: [[3]]"

    judge = scripted_lm(judge_reply, cache, "scripted-judge")
    out = tmp_path / "run"
    summary = run_culturebank_quality(
        model, judge, questions, out, judge=JudgeConfig(retries=0), data_path=data
    )
    assert summary.benchmark == "CultureBank quality" and summary.scale == (1, 5)
    assert summary.cultures["Japanese"]["mean"] == 5.0 and summary.cultures["Japanese"]["n"] == 3
    assert summary.cultures["Brazilian"]["mean"] == 3.0 and summary.cultures["Brazilian"]["n"] == 2
    assert summary.overall["mean"] == pytest.approx(4.2) and summary.overall["n"] == 5
    assert summary.overall["ci_low"] <= 4.2 <= summary.overall["ci_high"]
    prompts = [r.messages[-1].content for r in judge.backend.seen]
    assert any("bow when greeting" in p and "How should I greet my host family?" in p for p in prompts)
    assert all("[[n]]" in p for p in prompts)  # the rubric, filled, not an empty slot
    assert {p.name for p in out.iterdir()} >= {"answers.jsonl", "judgments.jsonl", "summary.json", "table.md"}
    run = json.loads((out / "run.json").read_text())
    assert run["kind"] == "eval-culturebank-quality" and "judge/culturebank_quality" in run["prompts"]

    small = run_culturebank_quality(
        model, judge, questions, tmp_path / "small", limit=2, judge=JudgeConfig(retries=0)
    )
    assert set(small.cultures) == {"Japanese", "Brazilian"}  # stratified by group
    assert small.counts["items"] == 2


def test_tiny_model_answers_and_judges_end_to_end(tmp_path, tiny_model_dir):
    from culturalign.lm import load_lm

    questions = load_grounded_questions(_release(tmp_path))
    lm = load_lm(f"hf:{tiny_model_dir}", cache=tmp_path / "calls.sqlite")
    summary = run_culturebank_quality(
        lm,
        lm,
        questions,
        tmp_path / "run",
        limit=2,
        params=GenerationParams(temperature=0, max_new_tokens=8),
        judge=JudgeConfig.build(retries=0, params=GenerationParams(temperature=0, max_new_tokens=8)),
    )
    c = summary.counts
    assert c["items"] == 2 and c["ok"] + c["invalid"] + c["skipped"] == 2
    assert (tmp_path / "run" / "judgments.jsonl").read_text().count("\n") == 2


def test_paper_003_criteria_are_three_rubrics_over_the_same_answers(tmp_path):
    from culturalign.evals.open_ended.culturebank_quality import run_grounded_criteria

    questions = load_grounded_questions(_release(tmp_path))
    cache = CallCache(tmp_path / "calls.sqlite")
    model = scripted_lm(lambda r: "Follow local custom.", cache, "scripted-model")
    scores = {"usefulness": 4, "cultural awareness": 2, "coherence": 5}

    def judge_reply(req):
        text = req.messages[-1].content
        return next(f"Rating: [[{v}]]" for k, v in scores.items() if f"only its {k}" in text)

    judge = scripted_lm(judge_reply, cache, "scripted-judge")
    out = tmp_path / "crit"
    results = run_grounded_criteria(model, judge, questions, out, judge=JudgeConfig(retries=0))
    assert {n: s.overall["mean"] for n, s in results.items()} == {
        "grounded_usefulness": 4.0,
        "grounded_awareness": 2.0,
        "grounded_coherence": 5.0,
    }
    assert len(model.backend.seen) == len(ROWS)  # answered once; the other two runs hit the cache
    table = (out / "criteria.md").read_text()
    assert "| awareness | 2.000 | [2.00, 2.00] | 5 |" in table and "Brazilian" in table
    assert set(json.loads((out / "criteria.json").read_text())) == set(results)
