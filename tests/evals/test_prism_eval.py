"""PRISM: the loader on hand-made files in the published layout (conversations.jsonl,
survey.jsonl), the cultural filter, and ``run_prism`` with a scripted model and judge
behind the real ``LM`` and SQLite call cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _care_scripted import scripted_lm

from culturalign.datasets.prism import cultural_topics, load_conversations, load_survey
from culturalign.errors import DataError
from culturalign.evals.open_ended.prism import filter_cultural, run_prism
from culturalign.io import read_records
from culturalign.judge.core import JudgeConfig
from culturalign.lm.cache import CallCache
from culturalign.records.judgment import Judgment

FIXTURES = Path(__file__).parent / "fixtures"
CONVS = FIXTURES / "prism_conversations.jsonl"
SURVEY = FIXTURES / "prism_survey.jsonl"


def test_loader_reads_the_published_layout_with_cultures_from_the_survey():
    convs = load_conversations(CONVS, SURVEY)
    assert [c.conversation_id for c in convs] == ["c0", "c1", "c2", "c3", "c4"]
    c0 = convs[0]
    assert (c0.user_id, c0.conversation_type, c0.culture, c0.balanced) == (
        "user1",
        "values guided",
        "United Kingdom",
        True,
    )
    assert len(c0.turns) == 3 and c0.chosen_first_reply().model_name == "gpt-4"
    assert c0.turns[1].score == 71.0
    assert convs[3].culture is None  # "Prefer not to say"
    assert load_survey(SURVEY, "reside")["user2"] == "United States"
    assert load_survey(SURVEY, "locale")["user3"] == "singapore"
    assert load_conversations(CONVS)[0].culture is None


def test_opening_prompt_falls_back_to_the_first_user_turn(tmp_path):
    f = tmp_path / "conversations.jsonl"
    row = json.loads(CONVS.read_text().splitlines()[0])
    del row["opening_prompt"]
    row["conversation_type"] = "Values_Guided"
    f.write_text(json.dumps(row) + "\n")
    (c,) = load_conversations(f)
    assert c.opening_prompt == "Is it okay to cut family off if they hurt you?"
    assert c.conversation_type == "values guided"


def test_every_bad_row_is_located(tmp_path):
    rows = [json.loads(line) for line in CONVS.read_text().splitlines()]
    rows[0]["conversation_history"][1]["role"] = "assistant"
    rows[1]["conversation_type"] = "guided"
    rows[2]["opening_prompt"] = ""
    rows[2]["conversation_history"] = []
    rows[3]["conversation_id"] = "c0"
    f = tmp_path / "conversations.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n{not json\n")
    with pytest.raises(DataError) as e:
        load_conversations(f)
    text = str(e.value)
    for expected in (
        "conversations.jsonl:1: conversation_history[1].role",
        "conversations.jsonl:2: conversation_type",
        "conversations.jsonl:3: opening_prompt",
        "conversations.jsonl:4: conversation_id: 'c0' appears twice (first on line 1)",
        "conversations.jsonl:6",
    ):
        assert expected in text, text
    bad_survey = tmp_path / "survey.jsonl"
    bad_survey.write_text('{"user_id": "u1", "location": 5}\n{"age": 3}\n')
    with pytest.raises(DataError) as e:
        load_survey(bad_survey)
    assert "survey.jsonl:1: location" in str(e.value) and "survey.jsonl:2: user_id" in str(e.value)


def test_keyword_filter_keeps_culture_related_prompts():
    assert cultural_topics("What do you think about abortion?") == ["moral and political controversies"]
    assert cultural_topics("Write a Python function that sorts a list.") == []
    kept, counts = filter_cultural(load_conversations(CONVS), "keywords")
    assert [c.conversation_id for c in kept] == ["c0", "c1", "c3", "c4"]
    assert counts == {"read": 5, "kept": 4, "dropped_not_cultural": 1, "dropped_filter_failed": 0}


def _model_and_judge(tmp_path, judge_reply):
    cache = CallCache(tmp_path / "calls.sqlite")
    model = scripted_lm(lambda r: f"An answer to: {r.messages[-1].content[:30]}", cache, "scripted-model")
    judge = scripted_lm(judge_reply, cache, "scripted-judge")
    return model, judge


def test_run_prism_rates_each_kept_prompt_per_culture(tmp_path):
    def judge_reply(req):
        text = req.messages[-1].content
        if "from: United Kingdom" in text:
            return "Aware of cultural variation.\nRating: [[4]]"
        return "Generic.\nRating: [[2]]"

    model, judge = _model_and_judge(tmp_path, judge_reply)
    convs = load_conversations(CONVS, SURVEY)
    out = tmp_path / "run"
    summary = run_prism(model, judge, convs, out, judge=JudgeConfig(retries=0), data_paths=[CONVS, SURVEY])
    assert summary.scale == (1, 5) and summary.rubric == "prism_awareness"
    assert summary.counts == {"items": 4, "ok": 4, "invalid": 0, "skipped": 0}
    assert summary.cultures["United Kingdom"]["mean"] == 4.0 and summary.cultures["United Kingdom"]["n"] == 1
    india = summary.cultures["India"]
    assert (india["mean"], india["n"], india["ci_low"], india["ci_high"]) == (2.0, 2, 2.0, 2.0)
    assert summary.cultures["(unknown)"]["too_small"] is True
    assert summary.overall["mean"] == pytest.approx(2.5) and summary.overall["n"] == 4
    assert summary.extra["kept"] == 4 and summary.extra["read"] == 5
    judgments = read_records(out / "judgments.jsonl", Judgment)
    assert {j.item_id for j in judgments} == {"c0", "c1", "c3", "c4"}
    assert any("from: not stated" in r.messages[-1].content for r in judge.backend.seen)  # user3
    table = (out / "table.md").read_text()
    assert "| India | 2.000 | [2.00, 2.00] | 2 |" in table and "| **all** |" in table
    run = json.loads((out / "run.json").read_text())
    assert run["kind"] == "eval-prism" and str(CONVS) in run["data"]
    assert (out / "answers.jsonl").is_file()

    calls = len(judge.backend.seen) + len(model.backend.seen)
    again = run_prism(model, judge, convs, tmp_path / "run2", judge=JudgeConfig(retries=0))
    assert again.overall == summary.overall
    assert len(judge.backend.seen) + len(model.backend.seen) == calls  # all from the call cache


def test_judge_filter_and_unreadable_ratings_are_counted(tmp_path):
    def judge_reply(req):
        text = req.messages[-1].content
        if "Answer Yes or No" in text:
            return "Yes" if "about abortion?" in text or "cut family off" in text else "No"
        return "I cannot decide."  # no rating: invalid, counted, not scored

    model, judge = _model_and_judge(tmp_path, judge_reply)
    summary = run_prism(
        model,
        judge,
        load_conversations(CONVS, SURVEY),
        tmp_path / "run",
        topic_filter="judge",
        judge=JudgeConfig(retries=1),
    )
    assert summary.extra["kept"] == 2 and summary.extra["dropped_not_cultural"] == 3
    assert summary.counts == {"items": 2, "ok": 0, "invalid": 2, "skipped": 0}
    assert summary.overall["mean"] is None
    assert any("left out of every mean" in n for n in summary.notes)


def test_the_packaged_sample_is_in_the_published_layout():
    from culturalign.paths import package_data

    sample = package_data("data", "sample")
    convs = load_conversations(sample / "prism_conversations.jsonl", sample / "prism_survey.jsonl")
    assert convs and all(c.opening_prompt and c.culture for c in convs)
    kept, counts = filter_cultural(convs, "keywords")
    assert 0 < len(kept) == counts["kept"] < counts["read"]
