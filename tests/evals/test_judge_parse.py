"""The judge-reply parser against a corpus of realistic replies, malformed ones included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from culturalign.judge.parse import parse_rating

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


# -- the reading rules, one hand-made case each ------------------------------------------


def test_two_different_candidates_are_a_conflict_naming_both():
    parsed = parse_rating("I'd have rated this as a 5, but the content is 10 out of 10.")
    assert (parsed.status, parsed.rating) == ("conflict", None)
    assert "5" in parsed.detail and "10" in parsed.detail
    assert "rated this as a 5" in parsed.detail and "10 out of 10" in parsed.detail


def test_a_verdict_that_contradicts_the_brackets_is_a_conflict():
    assert parse_rating("I would rate this response a 9.\nRating: [[4]]").status == "conflict"
    assert parse_rating("I would rate this response a 4.\nRating: [[4]]").rating == 4.0


@pytest.mark.parametrize(
    ("reply", "rating"),
    [
        ("評価：7", 7.0),  # Japanese
        ("評価は7点です。", 7.0),
        ("評分：8", 8.0),  # traditional Chinese
        ("评分：8", 8.0),  # simplified Chinese
        ("التقييم: 6", 6.0),  # Arabic, with the article
        ("تقييم: ٧", 7.0),  # without it, Arabic-Indic digit
        ("تقييمي: ۸", 8.0),  # "my rating", Extended Arabic-Indic digit
        ("الدرجة النهائية: ٨٫٥", 8.5),  # Arabic decimal sign
        ("Score: ７", 7.0),  # full-width digit
        ("٧ من ١٠", 7.0),
        ("10点中7点", 7.0),
        ("我给7分。", 7.0),
        ("7 out of 10", 7.0),
        ("7/10", 7.0),
    ],
)
def test_labels_and_digits_of_every_language(reply, rating):
    assert parse_rating(reply).rating == rating


@pytest.mark.parametrize(
    "reply",
    [
        "The response covers 2 of the 3 points in the reference.",
        "The festival was first held in 1868 and moved in 1873.",
        "1. Accuracy: correct\n2. Depth: thin\n3.",
        "It lists 3/4 of the customs.",
        "In 2019, 7 out of 10 households kept the custom.",
        "Score: 1-2 would be too harsh.",
        "第2点，回答没有提到月饼。",
        "参照回答の3点のうち2点に触れている。",
        "满分10分。",
    ],
)
def test_numbers_that_are_not_ratings(reply):
    assert parse_rating(reply).status == "missing"


def test_the_same_number_in_several_forms_is_one_rating():
    parsed = parse_rating("I'd give it a 7 out of 10.\n**Rating: 7/10**\nRating: [[7]]")
    assert (parsed.status, parsed.rating, parsed.form) == ("ok", 7.0, "brackets")


def test_subscores_never_compete_with_an_overall_rating():
    reply = "Accuracy: 4/10\nDepth score: 6\n9/10 for relevance\n\nOverall rating: 5"
    assert parse_rating(reply).rating == 5.0
    # without an overall rating, sub-scores decide only when they agree
    assert parse_rating("Accuracy: 7/10, relevance: 7/10").rating == 7.0
    assert parse_rating("Accuracy: 7/10, relevance: 9/10").status == "conflict"


@pytest.mark.parametrize("reply", ["", "   ", "\n\t\n", "\u200f\u200b "])
def test_empty_replies_say_so(reply):
    parsed = parse_rating(reply)
    assert (parsed.status, parsed.rating, parsed.detail) == ("empty", None, "empty reply")


def test_a_five_point_scale():
    assert parse_rating("Score: 4/5", scale=5).rating == 4.0
    assert parse_rating("Rating: [[5]]", scale=5).rating == 5.0
    assert parse_rating("Rating: [[7]]", scale=5).detail == "rating 7 is outside 1-5"
    assert parse_rating("It meets 4/5 of the criteria.\nRating: [[8]]").rating == 8.0  # a count on 1-10


def test_a_label_over_another_scale_is_out_of_range_unless_a_rating_is_on_this_one():
    assert parse_rating("Score: 85/100").detail == "rating 85/100 is not on the 1-10 scale"
    assert parse_rating("Total: 24/30\nRating: [[8]]").rating == 8.0
