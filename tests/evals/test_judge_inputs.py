"""What ``culturalign judge`` reads: generate's responses, or any table of texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from culturalign.datasets import load_any
from culturalign.errors import DataError
from culturalign.io import write_records
from culturalign.judge.inputs import read_judge_inputs
from culturalign.records import ChatMessage, ModelResponse

SAMPLE = Path(__file__).parent / "fixtures" / "care_sample.json"


def test_generate_responses_are_read_as_they_are(tmp_path):
    rows = [
        ModelResponse(
            item_id="q1",
            model="hf:x",
            mode="cot",
            lang="en",
            sample_index=1,
            messages=[ChatMessage(role="user", content="Q?")],
            text="An answer.",
            culture="Arab",
            category="literacy",
            geographic_scope="sub_national",
            question="Q?",
            reference_answer="Ref.",
        ),
        ModelResponse(
            item_id="q2", model="hf:x", messages=[], error="timeout", question="Q2?", reference_answer="R"
        ),
    ]
    f = tmp_path / "responses.jsonl"
    write_records(f, rows)
    a, b = read_judge_inputs(f)
    assert (a.item_id, a.sample_index, a.mode, a.lang, a.model) == ("q1", 1, "cot", "en", "hf:x")
    assert (a.category, a.scope, a.culture, a.reference, a.response) == (
        "literacy",
        "sub_national",
        "Arab",
        "Ref.",
        "An answer.",
    )
    assert b.response is None and b.response_error == "timeout"


def test_rows_join_the_questions_by_text_and_number_their_samples(tmp_path):
    _, questions = load_any(SAMPLE)
    rows = [
        {"question": "Who wrote The Tale of Genji?", "text": "page one", "culture_type": "Opinion"},
        {"question": "Who wrote The Tale of Genji?", "text": "page two"},
        {"id": questions[0].id, "response": "a torii", "rating": "not an answer"},
    ]
    f = tmp_path / "pages.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    one, two, three = read_judge_inputs(f, questions)
    assert one.item_id == two.item_id == questions[8].id and (one.sample_index, two.sample_index) == (0, 1)
    assert one.category == "opinion" and two.category == "literacy"  # a row's own category wins
    assert one.reference == questions[8].reference_answer and one.culture == "Japanese"
    assert three.question == questions[0].text and three.human_rating is None


def test_unknown_category_and_scope_suggest_the_nearest(tmp_path):
    f = tmp_path / "r.jsonl"
    f.write_text(
        json.dumps({"question": "q", "response": "r", "category": "literacyy", "scope": "worldwid"}) + "\n"
    )
    with pytest.raises(DataError) as err:
        read_judge_inputs(f)
    text = "\n".join(err.value.lines())
    assert f"{f}:1: category: unknown category 'literacyy'" in text and "did you mean 'Literacy'" in text
    assert f"{f}:1: geographic_scope: unknown geographic scope" in text


def test_empty_file_is_an_error(tmp_path):
    f = tmp_path / "r.jsonl"
    f.write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"is empty|holds no responses"):
        read_judge_inputs(f)
