"""Preference pairs: counts against a hand count, chosen always above rejected, TRL's format."""

from __future__ import annotations

import json

import pytest
from data_helpers import SAMPLE_PREFS, pref_row, run_cli, write_csv, write_jsonl

from culturalign.datasets import care_prefs
from culturalign.datasets.pairs import (
    ALL_TIED,
    NO_RESPONSES,
    NONE_RATED,
    ONE_RATED,
    below_margin,
    make_pairs,
    unpaired_examples,
)
from culturalign.errors import ConfigError
from culturalign.records import CulturalQuestion, PreferencePair

NA = "not an answer"

# question -> ratings in file order (None = unrated); worked out by hand below
HAND = {
    "Q1": [9, 7, 3, NA],  # best-worst 9/3; all: 9-7, 9-3, 7-3
    "Q2": [5, 5],  # tied
    "Q3": [8, NA, None],  # one rated
    "Q4": [NA, NA],  # none rated
    "Q5": [6, 4, 6],  # best-worst: the first 6 over 4; all: 6-4 twice (6-6 is a tie)
    "Q6": [8, 7],  # gap of 1
}


def hand_rows():
    rows = []
    for q, ratings in HAND.items():
        for i, rating in enumerate(ratings):
            source = "human" if (q, i) == ("Q1", 0) else "LLM"
            rows.append(pref_row(f"{q}?", f"{q} response {i} rated {rating}", rating, source=source))
    return rows


@pytest.fixture
def hand_file(tmp_path):
    return write_csv(
        tmp_path / "prefs.csv",
        [{**r, "rating": "" if r["rating"] is None else r["rating"]} for r in hand_rows()],
    )


def test_best_worst_matches_hand_count(hand_file):
    questions = care_prefs.load(hand_file)
    result = make_pairs(questions, strategy="best-worst")
    got = [(p.prompt[0].content, p.chosen_rating, p.rejected_rating) for p in result.records]
    assert got == [("Q1?", 9, 3), ("Q5?", 6, 4), ("Q6?", 8, 7)]
    assert result.records[1].chosen[0].content == "Q5 response 0 rated 6"  # first of equals
    assert result.records[0].chosen[0].content.startswith("Q1 response 0")  # the rated human answer competes
    assert dict(result.no_pair) == {ALL_TIED: 1, ONE_RATED: 1, NONE_RATED: 1}
    assert result.used_questions == 3 and result.questions == 6


def test_all_pairs_and_margins_match_hand_count(hand_file):
    questions = care_prefs.load(hand_file)
    every = make_pairs(questions, strategy="all")
    assert sorted((p.prompt[0].content, p.chosen_rating, p.rejected_rating) for p in every.records) == sorted(
        [("Q1?", 9, 7), ("Q1?", 9, 3), ("Q1?", 7, 3), ("Q5?", 6, 4), ("Q5?", 6, 4), ("Q6?", 8, 7)]
    )
    wide = make_pairs(questions, strategy="all", min_margin=2)
    assert len(wide.records) == 5 and wide.no_pair[below_margin(2)] == 1
    bw = make_pairs(questions, strategy="best-worst", min_margin=3)
    assert [p.prompt[0].content for p in bw.records] == ["Q1?"]
    assert bw.no_pair[below_margin(3)] == 2  # Q5 (gap 2) and Q6 (gap 1)


def test_kto_labels_match_hand_count(hand_file):
    result = unpaired_examples(care_prefs.load(hand_file), threshold=7)
    labels = [(e.prompt[0].content, e.rating, e.label) for e in result.records]
    assert labels == [
        ("Q1?", 9, True),
        ("Q1?", 7, True),
        ("Q1?", 3, False),
        ("Q2?", 5, False),
        ("Q2?", 5, False),
        ("Q3?", 8, True),
        ("Q5?", 6, False),
        ("Q5?", 4, False),
        ("Q5?", 6, False),
        ("Q6?", 8, True),
        ("Q6?", 7, True),
    ]
    assert dict(result.no_pair) == {NONE_RATED: 1}


def test_no_responses_and_bad_options():
    q = CulturalQuestion(id="x", text="Q?", language="en", culture="Chinese")
    assert dict(make_pairs([q]).no_pair) == {NO_RESPONSES: 1}
    with pytest.raises(ConfigError):
        make_pairs([q], strategy="random")
    with pytest.raises(ConfigError):
        make_pairs([q], min_margin=-1)
    with pytest.raises(ConfigError):
        unpaired_examples([q], threshold=11)


def test_cli_pairs_on_care_shaped_file(tmp_path, hand_file):
    """The done-when check: only pairs with chosen above rejected, counts as by hand."""
    out = tmp_path / "pairs.jsonl"
    proc = run_cli("data", "pairs", str(hand_file), "--strategy", "best-worst", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "wrote 3 pairs (best-worst) from 3 of 6 questions" in proc.stdout
    assert "3 questions gave no pair" in proc.stdout
    for reason in (ALL_TIED, ONE_RATED, NONE_RATED):
        assert f"1  {reason}" in proc.stdout
    rating_of = {r["response"]: r["rating"] for r in hand_rows()}
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    for line in lines:
        row = json.loads(line)
        assert set(row) >= {"prompt", "chosen", "rejected"}
        assert row["prompt"] == [{"role": "user", "content": row["prompt"][0]["content"]}]
        assert row["chosen"][0]["role"] == row["rejected"][0]["role"] == "assistant"
        # ratings come from the input file, not from the pair record
        assert rating_of[row["chosen"][0]["content"]] > rating_of[row["rejected"][0]["content"]]
        PreferencePair.model_validate(row)


def test_cli_all_and_kto(tmp_path, hand_file):
    out = tmp_path / "all.jsonl"
    proc = run_cli(
        "data", "pairs", str(hand_file), "--strategy", "all", "--min-margin", "2", "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    assert "wrote 5 pairs (all)" in proc.stdout and below_margin(2) in proc.stdout
    kto = tmp_path / "kto.jsonl"
    proc = run_cli("data", "pairs", str(hand_file), "--kto", "--threshold", "7", "--out", str(kto))
    assert proc.returncode == 0, proc.stderr
    assert "11 unpaired examples (5 desirable, 6 undesirable)" in proc.stdout
    rows = [json.loads(line) for line in kto.read_text(encoding="utf-8").splitlines()]
    assert {k for r in rows for k in r} >= {"prompt", "completion", "label"}


def test_sample_prefs_give_the_pairs_the_demo_needs():
    """The sample file, counted when it was written: 47 questions, 44 best-worst pairs."""
    rows = [json.loads(line) for line in SAMPLE_PREFS.read_text(encoding="utf-8").splitlines()]
    by_question: dict[str, list] = {}
    for r in rows:
        by_question.setdefault(r["question"], []).append(r["rating"])
    result = make_pairs(care_prefs.load(SAMPLE_PREFS))
    assert result.questions == len(by_question) == 47
    assert len(result.records) == 44
    assert dict(result.no_pair) == {ALL_TIED: 1, ONE_RATED: 1, NONE_RATED: 1}
    for pair in result.records:
        assert pair.chosen_rating - pair.rejected_rating >= 1
    # a clear contrast for a small model to learn from: most pairs differ by 5 or more
    assert sum(p.chosen_rating - p.rejected_rating >= 5 for p in result.records) >= 35


def test_english_prompts(tmp_path):
    path = write_jsonl(
        tmp_path / "prefs.jsonl",
        [
            pref_row("端午节吃什么？", "粽子。", 9, translated_question="What is eaten at Duanwu?"),
            pref_row("端午节吃什么？", "汉堡。", 1, translated_question="What is eaten at Duanwu?"),
        ],
    )
    (pair,) = make_pairs(care_prefs.load(path), lang="en").records
    assert pair.prompt[0].content == "What is eaten at Duanwu?"
    (pair,) = make_pairs(care_prefs.load(path)).records
    assert pair.prompt[0].content == "端午节吃什么？"
