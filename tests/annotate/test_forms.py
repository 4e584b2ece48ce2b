"""Rank/rating consistency and form parsing (the rules the server enforces)."""

from __future__ import annotations

from culturalign.annotate.forms import parse_classify_form, parse_rank_form, parse_rubric_form, rank_conflicts

RIDS = ["r1", "r2", "r3"]
LABELS = {"r1": "A", "r2": "B", "r3": "C"}


def form(ranks, ratings, na=()):
    data = {}
    for rid, rank, rating in zip(RIDS, ranks, ratings, strict=True):
        data[f"rank_{rid}"] = str(rank)
        data[f"rating_{rid}"] = "" if rating is None else str(rating)
    for rid in na:
        data[f"na_{rid}"] = "on"
    return data


def test_consistent_ranking_is_stored_in_rank_order():
    parsed = parse_rank_form(form([2, 1, 3], [7, 9, 7]), RIDS, LABELS)
    assert parsed.ok, parsed.errors
    assert [e["rid"] for e in parsed.payload["responses"]] == ["r2", "r1", "r3"]
    assert parsed.payload["responses"][0] == {"rid": "r2", "rank": 1, "rating": 9, "not_an_answer": False}


def test_higher_rank_with_lower_rating_is_rejected_with_a_clear_message():
    parsed = parse_rank_form(form([1, 2, 3], [5, 8, 3]), RIDS, LABELS)
    assert not parsed.ok
    assert parsed.errors == [
        "Response A is ranked above response B but rated lower (5 < 8): raise A's rating, lower B's, or swap them."
    ]


def test_not_an_answer_takes_no_rating_and_ranks_last():
    ok = parse_rank_form(form([1, 2, 3], [8, 6, None], na=["r3"]), RIDS, LABELS)
    assert ok.ok and ok.payload["responses"][2] == {
        "rid": "r3",
        "rank": 3,
        "rating": None,
        "not_an_answer": True,
    }
    above = parse_rank_form(form([1, 2, 3], [8, None, 6], na=["r2"]), RIDS, LABELS)
    assert any("flagged 'not an answer' but ranked above response C" in e for e in above.errors)
    rated = parse_rank_form(form([1, 2, 3], [8, 6, 2], na=["r3"]), RIDS, LABELS)
    assert "Response C is flagged 'not an answer', so it takes no rating." in rated.errors


def test_missing_or_bad_values():
    parsed = parse_rank_form(form([1, 1, 3], [None, 11, "x"]), RIDS, LABELS)
    assert "Response A: give a rating from 1 to 10, or flag it 'not an answer'." in parsed.errors
    assert any(e.startswith("Response B: give a rating") for e in parsed.errors)
    assert "Each rank from 1 to 3 must be used exactly once." in parsed.errors
    assert not parse_rank_form({}, RIDS, LABELS).ok


def test_ties_in_rating_are_allowed():
    assert (
        rank_conflicts(
            [
                {"rid": "r1", "rank": 1, "rating": 7, "not_an_answer": False},
                {"rid": "r2", "rank": 2, "rating": 7, "not_an_answer": False},
            ],
            LABELS,
        )
        == []
    )


def test_classification():
    no = parse_classify_form({"culture_related": "no", "category": "opinion"})
    assert no.ok and no.payload["culture_related"] is False and no.payload["category"] is None
    yes = parse_classify_form(
        {
            "culture_related": "yes",
            "associated_culture": "native",
            "category": "literacy",
            "geographic_scope": "sub_national",
            "temporal_sensitive": "on",
        }
    )
    assert yes.ok
    assert yes.payload == {
        "culture_related": True,
        "associated_culture": "native",
        "category": "literacy",
        "geographic_scope": "sub_national",
        "moral_sensitive": False,
        "temporal_sensitive": True,
    }
    bad = parse_classify_form({"culture_related": "yes", "category": "gossip"})
    assert bad.errors == [
        "Choose the associated culture.",
        "Choose a category.",
        "Choose the geographic scope.",
    ]
    assert parse_classify_form({}).errors == ["Say whether the question is culture-related (yes or no)."]


def test_rubric():
    data = {f"{k}_{rid}": "4" for rid in RIDS for k in ("usefulness", "cultural_awareness", "coherence")}
    assert parse_rubric_form(data, RIDS, LABELS).payload["responses"][0] == {
        "rid": "r1",
        "usefulness": 4,
        "cultural_awareness": 4,
        "coherence": 4,
    }
    data["coherence_r2"] = "6"
    assert parse_rubric_form(data, RIDS, LABELS).errors == ["Response B: score coherence from 1 to 5."]
