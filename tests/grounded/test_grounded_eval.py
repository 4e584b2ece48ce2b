"""The grounded evaluation stage, its aggregates, and the training data drawn from it."""

from __future__ import annotations

import json

import pytest

from culturalign.errors import DataError
from culturalign.evals.open_ended.grounded import load_grounded_questions, run_grounded_eval
from culturalign.evals.open_ended.grounded_stats import stats, summarize
from culturalign.io import read_records
from culturalign.lm import load_lm
from culturalign.models.embedded import EMBEDDED_JUDGE_WARNING
from culturalign.records import GenerationParams, GroundedEvalItem, JudgedAnswer, PreferencePair, SFTExample
from culturalign.records.knowledge import GroundedQuestion
from culturalign.synth.grounded_export import (
    ExportCounts,
    below_lambda,
    dpo_pairs,
    export_training_data,
    sft_examples,
)


def eval_item(
    i: int, group: str, topic: str, plain: float | None, aug: float | None, **kw
) -> GroundedEvalItem:
    plain_text = kw.get("plain_text", f"plain {i}")
    return GroundedEvalItem(
        question_id=f"q{i}",
        knowledge_id=f"k{i}",
        cultural_group=group,
        topic=topic,
        knowledge="Knowledge.",
        question=f"Question {i}?",
        plain=JudgedAnswer(text=plain_text, error=None if plain_text else "call failed")
        if plain_text is None
        else JudgedAnswer(text=plain_text, entailment=plain, method="logprob" if plain is not None else None),
        augmented=JudgedAnswer(text=kw.get("aug_text", f"augmented {i}"), entailment=aug, method="logprob"),
    )


QUESTIONS = [
    GroundedQuestion(
        id="jp-q",
        knowledge_id="jp",
        knowledge="In Japanese culture, guests take off their shoes before entering a home.",
        cultural_group="Japanese",
        topic="Etiquette",
        scenario="Travel advising",
        persona="A student visiting a host family in Osaka.",
        question="I am staying with a host family in Osaka. What should I keep in mind when I arrive?",
    ),
    GroundedQuestion(
        id="de-q",
        knowledge_id="de",
        knowledge="In German culture, most shops are closed on Sundays.",
        cultural_group="German",
        topic="Shopping",
        scenario="Relocation advising",
        persona="An engineer moving to Munich.",
        question="I arrive in Munich on a Saturday night. How do I plan my first weekend?",
    ),
]


# -- aggregates ----------------------------------------------------------------------------


def test_unscored_answers_are_left_out_not_counted_as_zero():
    answers = [
        JudgedAnswer(text="a", entailment=0.9),
        JudgedAnswer(text="b", entailment=0.3),
        JudgedAnswer(text="c"),
    ]
    s = stats(answers)
    assert (s.n, s.answered, s.scored, s.entailed) == (3, 3, 2, 1)
    assert s.mean == pytest.approx(0.6) and s.share_entailed == pytest.approx(0.5)
    assert stats([JudgedAnswer(error="timeout")]).mean is None


def test_summary_per_group_and_topic_with_the_augmented_reference():
    items = [
        eval_item(1, "Thai", "Etiquette", 0.2, 0.8),
        eval_item(2, "Thai", "Food", 0.6, 0.9),
        eval_item(3, "Dutch", "Etiquette", None, 0.4),
        eval_item(4, "Dutch", "Etiquette", 0.5, 0.7),
    ]
    s = summarize(items, label="t", model="m", judge="j", augment_model=None)
    assert s.overall.plain.mean == pytest.approx((0.2 + 0.6 + 0.5) / 3)
    assert s.overall.plain.share_entailed == pytest.approx(2 / 3)  # 0.5 counts as entailed
    assert s.overall.augmented.mean == pytest.approx(0.7)
    groups = {r.key: r for r in s.by_group}
    assert groups["Thai"].plain.mean == pytest.approx(0.4) and groups["Dutch"].plain.scored == 1
    topics = {r.key: r for r in s.by_topic}
    assert topics["Etiquette"].augmented.share_entailed == pytest.approx(2 / 3)
    assert s.methods["plain"] == {"logprob": 3, "unscored": 1}
    assert any("1 of 4 have no score" in n and "not counted as 0" in n for n in s.notes)


# -- training data -------------------------------------------------------------------------


def test_lambda_filter_keeps_only_answers_scored_below_it():
    items = [eval_item(i, "G", "T", p, 0.9) for i, p in enumerate([0.2, 0.59, 0.6, 0.95, None])]
    assert [below_lambda(i, 0.6) for i in items] == [True, True, False, False, None]
    counts = ExportCounts()
    rows = sft_examples(items, 0.6, counts)
    assert [r.id for r in rows] == ["q0", "q1"]
    assert rows[0].prompt[-1].content == "Question 0?" and rows[0].completion[0].role == "assistant"
    assert rows[0].completion[0].content == "augmented 0" and rows[0].entailment == 0.2
    assert counts.skipped["sft"] == {
        "plain answer already entailed (≥ λ=0.6)": 2,
        "plain answer has no entailment score": 1,
    }
    assert [r.id for r in sft_examples(items, 0.96)] == ["q0", "q1", "q2", "q3"]
    assert sft_examples(items, 0.0) == []


def test_dpo_pairs_choose_the_augmented_answer(tmp_path):
    items = [
        eval_item(1, "Thai", "Etiquette", 0.2, 0.8),
        eval_item(2, "Thai", "Etiquette", 0.7, 0.1),  # kept: the paper does not filter DPO pairs by score
        eval_item(3, "Thai", "Etiquette", 0.2, 0.8, aug_text="same", plain_text="same"),
        eval_item(4, "Thai", "Etiquette", 0.2, 0.8, plain_text=None),
    ]
    counts = export_training_data(items, dpo_out=tmp_path / "dpo.jsonl", sft_out=tmp_path / "sft.jsonl")
    pairs = read_records(tmp_path / "dpo.jsonl", PreferencePair)
    assert [p.question_id for p in pairs] == ["q1", "q2"]
    assert pairs[0].chosen[0].content == "augmented 1" and pairs[0].rejected[0].content == "plain 1"
    assert (
        pairs[0].prompt[0].role == "user" and pairs[0].culture == "Thai" and pairs[0].category == "Etiquette"
    )
    assert counts.dpo == 2 and sum(counts.skipped["dpo"].values()) == 2
    sft = read_records(tmp_path / "sft.jsonl", SFTExample)
    assert [r.id for r in sft] == ["q1", "q3"]  # λ=0.6 by default
    assert len(dpo_pairs(items[:1])) == 1


# -- loading -------------------------------------------------------------------------------


def test_questions_from_a_release_file_or_synth_output(tmp_path, sample_dir):
    release = tmp_path / "release.jsonl"
    release.write_text(
        json.dumps(
            {
                "cultural group": "Thai",
                "actor_behavior": "avoid touching heads",
                "topic": "Etiquette",
                "eval_scenario": "Travel",
                "eval_persona": "A teacher.",
                "eval_question": "How should I greet my pupils?",
            }
        )
        + "\n"
    )
    (q,) = load_grounded_questions(release)
    assert q.question == "How should I greet my pupils?" and q.knowledge.startswith("In Thai culture")
    assert q.score_source == "given"
    synth = tmp_path / "q.jsonl"
    synth.write_text("".join(x.model_dump_json() + "\n" for x in QUESTIONS))
    assert load_grounded_questions(synth) == QUESTIONS
    with pytest.raises(DataError, match="holds knowledge but no questions"):
        load_grounded_questions(sample_dir / "culturebank_knowledge.jsonl")


# -- the stage with real and scripted models ----------------------------------------------


@pytest.mark.slow
def test_embedded_model_answers_and_judges(tmp_path):
    lm = load_lm("embedded", cache=tmp_path / "calls.sqlite")
    params = GenerationParams(temperature=0, max_new_tokens=24)
    summary = run_grounded_eval(lm, lm, QUESTIONS, tmp_path / "run", params=params)
    items = read_records(tmp_path / "run" / "items.jsonl", GroundedEvalItem)
    assert [i.question_id for i in items] == ["jp-q", "de-q"]
    for item in items:
        for answer in (item.plain, item.augmented):
            assert answer.text and answer.method == "logprob"
            assert 0.0 < answer.entailment < 1.0
    assert summary.overall.plain.scored == 2 and summary.overall.augmented.scored == 2
    assert [r.key for r in summary.by_group] == ["German", "Japanese"]
    assert summary.notes[0] == EMBEDDED_JUDGE_WARNING
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert EMBEDDED_JUDGE_WARNING in run["notes"] and run["kind"] == "eval-grounded"
    assert set(run["prompts"]) == {"grounded/answer", "grounded/answer_augmented", "grounded/entailment"}
    assert "model+judge+augment" in run["calls"]
    table = (tmp_path / "run" / "table.md").read_text()
    assert "weak stand-in" in table and "| Japanese | 1 | 1 |" in table
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["items"] == 2
    # the same run again is served from the cache and writes the same numbers
    lm2 = load_lm("embedded", cache=tmp_path / "calls.sqlite")
    again = run_grounded_eval(lm2, lm2, QUESTIONS, tmp_path / "run2", params=params)
    assert lm2.stats.calls == 0
    assert again.overall == summary.overall


def test_judge_without_logprobs_says_its_scores_are_verdicts(scripted, tmp_path):
    model, _ = scripted(
        "model",
        reply=lambda r: "Take off your shoes at the door." if "Osaka" in r.messages[-1].content else "Relax.",
    )
    judge, _ = scripted(
        "judge", reply=lambda r: "Answer: Yes" if "shoes" in r.messages[-1].content else "Answer: No"
    )
    summary = run_grounded_eval(model, judge, QUESTIONS, tmp_path / "run", knowledge_augmented=False)
    assert summary.overall.plain.mean == 0.5 and summary.overall.augmented is None
    assert {r.key: r.plain.mean for r in summary.by_group} == {"German": 0.0, "Japanese": 1.0}
    assert summary.methods == {"plain": {"parsed verdict": 2}}
    assert any("gives no log-probabilities" in n for n in summary.notes)
    assert any("parsed Yes/No verdict (1 or 0), not a probability" in n for n in summary.notes)
    assert "augmented" not in (tmp_path / "run" / "table.md").read_text()


def test_knowledge_descriptions_as_training_text(tmp_path, sample_dir):
    from typer.testing import CliRunner

    from culturalign.cli import app
    from culturalign.records.grounded import KnowledgeText

    out = tmp_path / "knowledge.jsonl"
    knowledge = sample_dir / "culturebank_knowledge.csv"
    result = CliRunner().invoke(
        app, ["synth", "grounded-export", "--knowledge", str(knowledge), "--knowledge-text", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = read_records(out, KnowledgeText)
    assert [r.knowledge_id for r in rows] == ["cb-jp-shoes", "cb-de-sunday", "cb-kr-elders", "cb-se-fika"]
    assert rows[0].text.startswith("In Japanese culture, when visiting someone's home, guests take off")
    assert json.loads(out.read_text().splitlines()[0])["text"] == rows[0].text  # TRL reads the "text" column
