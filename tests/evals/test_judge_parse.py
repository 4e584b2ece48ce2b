"""The judge-reply parser against a corpus of realistic replies, malformed ones included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from culturalign.evals.judge_parse import parse_rating

CORPUS = [json.loads(line) for line in (Path(__file__).parent / "fixtures" / "judge_replies.jsonl").open()]


@pytest.mark.parametrize("case", CORPUS, ids=[c["id"] for c in CORPUS])
def test_corpus_reply(case):
    parsed = parse_rating(case["reply"])
    assert parsed.status == case["status"], parsed.detail
    assert parsed.rating == case["rating"]
    assert parsed.valid == (case["status"] == "ok")
    if not parsed.valid:
        assert parsed.detail  # an invalid result always says why


def test_corpus_covers_every_outcome():
    assert {c["status"] for c in CORPUS} == {"ok", "empty", "missing", "out_of_range", "conflict"}


def test_double_brackets_outrank_looser_forms():
    reply = "Score: 3 for depth, 9/10 for relevance.\nRating: [[6]]"
    parsed = parse_rating(reply)
    assert (parsed.rating, parsed.form) == (6.0, "brackets")


def test_none_reply_is_empty():
    assert parse_rating(None).status == "empty"


def test_conflict_names_both_values():
    parsed = parse_rating("Rating: [[7]] ... Rating: [[4]]")
    assert "4" in parsed.detail and "7" in parsed.detail


@pytest.mark.parametrize("value", ["1", "1.0", "5.25", "9.9", "10", "10.0"])
def test_boundaries_inside_range(value):
    assert parse_rating(f"Rating: [[{value}]]").rating == float(value)


@pytest.mark.parametrize("value", ["0.9", "0", "10.1", "100"])
def test_boundaries_outside_range(value):
    assert parse_rating(f"Rating: [[{value}]]").status == "out_of_range"
