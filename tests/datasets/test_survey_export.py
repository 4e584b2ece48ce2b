"""Survey answers as training data: hand-made shares checked by hand, and the real WVS file."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from data_helpers import run_cli

from culturalign.datasets import load_any
from culturalign.datasets.survey_export import (
    dpo_pairs,
    export_survey,
    resolve_country,
    sft_examples,
    split_questions,
)
from culturalign.errors import ConfigError
from culturalign.records import ChoiceItem
from culturalign.train.data import load_pairs, load_sft


def _item(qid: str, shares: list[float], other: list[float] | None = None) -> ChoiceItem:
    targets = {"Nigeria": shares}
    if other is not None:
        targets["United States"] = other
    return ChoiceItem(
        id=qid,
        question=f"Question {qid}?",
        options=[f"option {i}" for i in range(len(shares))],
        target_distributions=targets,
        source="wvs",
        kind="opinion",
    )


def test_dpo_pairs_follow_the_margin_and_the_widest_first():
    # shares 0.6 / 0.3 / 0.1: differences A-B 0.3, A-C 0.5, B-C 0.2
    pairs = dpo_pairs([_item("Q1", [0.6, 0.3, 0.1])], "Nigeria", margin=0.25, max_pairs=None)
    got = [(p.chosen[0].content, p.rejected[0].content) for p in pairs]
    assert got == [("Answer: (A)", "Answer: (C)"), ("Answer: (A)", "Answer: (B)")]
    assert pairs[0].chosen_rating == 0.6 and pairs[0].rejected_rating == 0.1
    capped = dpo_pairs([_item("Q1", [0.6, 0.3, 0.1])], "Nigeria", margin=0.1, max_pairs=1)
    assert [(p.chosen[0].content, p.rejected[0].content) for p in capped] == [("Answer: (A)", "Answer: (C)")]
    # an even question gives no pair at all
    assert dpo_pairs([_item("Q2", [0.5, 0.5])], "Nigeria", margin=0.1) == []


def test_sft_draws_follow_the_shares_and_repeat_with_the_seed():
    item = _item("Q1", [0.75, 0.25, 0.0])
    a = sft_examples([item], "Nigeria", k=400, seed=3)
    counts = Counter(e.completion[0].content for e in a)
    assert "Answer: (C)" not in counts  # a share of 0 is never drawn
    assert 0.68 < counts["Answer: (A)"] / 400 < 0.82
    again = sft_examples([item], "Nigeria", k=400, seed=3)
    assert [e.completion for e in again] == [e.completion for e in a]
    # the prompt is the opinion template with the country named, as eval opinions asks it
    text = a[0].prompt[0].content
    assert "Nigeria" in text and "(A) option 0" in text and "Question Q1?" in text


def test_split_is_deterministic_disjoint_and_order_free():
    items = [_item(f"Q{i}", [0.7, 0.3]) for i in range(10)]
    train, held = split_questions(items, 0.3, seed=1)
    assert len(held) == 3 and len(train) == 7
    assert not {i.id for i in train} & {i.id for i in held}
    _, held2 = split_questions(list(reversed(items)), 0.3, seed=1)
    assert {i.id for i in held2} == {i.id for i in held}
    with pytest.raises(ConfigError, match="heldout-fraction"):
        split_questions(items, 1.0, seed=1)


def test_country_codes_resolve_and_unknown_ones_are_named():
    items = [_item("Q1", [0.7, 0.3], [0.2, 0.8])]
    assert resolve_country(items, "NGA") == "Nigeria"
    assert resolve_country(items, "united states") == "United States"
    with pytest.raises(ConfigError, match="XYZ"):
        resolve_country(items, "XYZ")


def test_export_writes_files_train_reads(tmp_path):
    items = [_item(f"Q{i}", [0.7, 0.2, 0.1], [0.1, 0.2, 0.7]) for i in range(8)]
    result = export_survey(items, "NGA", tmp_path, heldout_fraction=0.25, seed=0, k=2, margin=0.1)
    split = json.loads((tmp_path / "split.json").read_text())
    assert len(split["heldout"]) == 2 and len(split["train"]) == 6
    assert result.sft == 12 and result.dpo == 18  # 6 questions x 2 draws; 3 pairs each
    assert len(load_sft(tmp_path / "sft.jsonl")) == 12
    assert len(load_pairs(tmp_path / "dpo.jsonl")) == 18
    held = load_any(tmp_path / "heldout.jsonl")[1]
    assert sorted(i.id for i in held) == sorted(split["heldout"])
    assert all(isinstance(i, ChoiceItem) and i.target_distributions for i in held)


def test_real_wvs_export_through_the_cli(shared_data, tmp_path):
    proc = run_cli(
        "data",
        "survey-export",
        str(shared_data / "wvs"),
        "--country",
        "NGA",
        "--out",
        str(tmp_path),
        "--heldout-fraction",
        "0.5",
        "--seed",
        "0",
        "--answers-per-question",
        "3",
    )
    assert proc.returncode == 0, proc.stderr
    split = json.loads((tmp_path / "split.json").read_text())
    assert split["country"] == "Nigeria"
    assert len(split["train"]) + len(split["heldout"]) == 259  # WVS questions with Nigerian shares
    assert abs(len(split["train"]) - len(split["heldout"])) <= 1
    assert len(load_sft(tmp_path / "sft.jsonl")) == 3 * len(split["train"])
    pairs = load_pairs(tmp_path / "dpo.jsonl")
    assert pairs and {p.question_id for p in pairs} <= set(split["train"])
    assert all(p.chosen_rating - p.rejected_rating >= 0.1 - 1e-9 for p in pairs)


def test_unknown_country_is_exit_2(shared_data, tmp_path):
    proc = run_cli(
        "data", "survey-export", str(shared_data / "wvs"), "--country", "XYZ", "--out", str(tmp_path)
    )
    assert proc.returncode == 2
    assert "XYZ" in proc.stderr and "Traceback" not in proc.stderr
