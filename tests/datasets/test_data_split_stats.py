"""CARE's stratified split, and the Tables 5-7 counts."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest
from data_helpers import SAMPLE_PREFS, SAMPLE_QUESTIONS, run_cli

from culturalign.datasets import care, care_prefs, jsonl
from culturalign.datasets.split import split_questions
from culturalign.datasets.stats import question_stats, record_stats, summary_line
from culturalign.errors import ConfigError
from culturalign.records import AssociatedCulture, Category


def test_split_real_care_file(shared_data):
    questions = care.load(shared_data / "care" / "Chinese-test.json")
    result = split_questions(questions, per_category=10, seed=0)
    assert len(result.test) == 50 and len(result.train) == 100
    assert Counter(q.category for q in result.test) == dict.fromkeys(Category, 10)
    assert not {q.id for q in result.test} & {q.id for q in result.train}
    assert {q.id for q in result.test} | {q.id for q in result.train} == {q.id for q in questions}
    # the whole file is CARE's test set: 30 per category takes everything
    full = split_questions(questions, per_category=30, seed=0)
    assert len(full.test) == 150 and not full.train and not full.short_cells


def test_split_is_deterministic_and_order_free(shared_data):
    questions = care.load(shared_data / "care" / "Arabic-test.json")
    a = split_questions(questions, per_category=5, seed=3)
    shuffled = list(questions)
    random.Random(1).shuffle(shuffled)
    b = split_questions(shuffled, per_category=5, seed=3)
    assert {q.id for q in a.test} == {q.id for q in b.test}
    c = split_questions(questions, per_category=5, seed=4)
    assert {q.id for q in a.test} != {q.id for q in c.test}


def test_split_sample_rules():
    questions = jsonl.load(SAMPLE_QUESTIONS)
    result = split_questions(questions, per_category=2, seed=0)
    test_ids = {q.id for q in result.test}
    # questions about foreign or no particular culture always train
    for q in questions:
        if q.associated_culture not in (None, AssociatedCulture.NATIVE):
            assert q.id not in test_ids
    per_cell = Counter((q.culture, q.category) for q in result.test)
    assert max(per_cell.values()) == 2
    eligible = Counter(
        (q.culture, q.category) for q in questions if q.associated_culture is AssociatedCulture.NATIVE
    )
    assert len(result.short_cells) == sum(1 for n in eligible.values() if n < 2)
    uncategorised = questions[0].model_copy(
        update={"id": "no-cat", "category": None, "text": "Something else?"}
    )
    again = split_questions([*questions, uncategorised], per_category=2, seed=0)
    assert "no-cat" in {q.id for q in again.train}
    with pytest.raises(ConfigError):
        split_questions(questions, per_category=0)


def test_split_keeps_repeated_questions_out_of_train():
    questions = jsonl.load(SAMPLE_QUESTIONS)
    # the same question again under another id, about a foreign culture (so never drawn itself)
    copy = questions[0].model_copy(
        update={"id": "copy-of-0", "associated_culture": AssociatedCulture.FOREIGN}
    )
    result = split_questions([*questions, copy], per_category=30, seed=0)
    assert questions[0].id in {q.id for q in result.test}
    assert "copy-of-0" not in {q.id for q in result.train}
    assert result.repeated_in_test == 1


def test_split_cli_writes_files_that_validate(tmp_path, shared_data):
    out = tmp_path / "split"
    proc = run_cli(
        "data", "split", str(shared_data / "care" / "Chinese-test.json"), "--per-category", "6", "--seed", "0",
        "--out", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "split.json").read_text(encoding="utf-8"))
    assert summary["test"] == 30 and summary["train"] == 120 and summary["seed"] == 0
    assert len(summary["input_sha256"]) == 64
    test = jsonl.load(out / "test.jsonl")
    train = jsonl.load(out / "train.jsonl")
    assert len(test) == 30 and len(train) == 120
    assert not {q.id for q in test} & {q.id for q in train}
    proc2 = run_cli(
        "data", "split", str(shared_data / "care" / "Chinese-test.json"), "--per-category", "6", "--seed", "0",
        "--out", str(tmp_path / "again"),
    )  # fmt: skip
    assert proc2.returncode == 0
    assert (tmp_path / "again" / "test.jsonl").read_text() == (out / "test.jsonl").read_text()


def test_question_stats_real(shared_data):
    raw = json.loads((shared_data / "care" / "Chinese-test.json").read_text(encoding="utf-8"))
    stats = question_stats(care.load(shared_data / "care" / "Chinese-test.json"))
    assert stats["questions"] == 150 and stats["cultures"] == {"Chinese": 150}
    total = stats["by_culture_source_category"]["Chinese"]["total"]
    assert total == {c.value: 30 for c in Category} | {"total": 150}
    raw_scopes = Counter(item["geographic_scope"] for item in raw)
    assert stats["by_scope"]["national"]["Chinese"] == raw_scopes["Nationwide"]
    assert stats["by_scope"]["sub_national"]["Chinese"] == raw_scopes["Sub-nationwide"]
    assert stats["by_associated_culture"] == {"native": {"Chinese": 150, "total": 150}}


def test_stats_on_rated_responses():
    questions = care_prefs.load(SAMPLE_PREFS)
    stats = question_stats(questions)
    rows = [json.loads(line) for line in SAMPLE_PREFS.read_text(encoding="utf-8").splitlines()]
    assert sum(r["responses"] for r in stats["responses"].values()) == len(rows)
    numeric = [float(r["rating"]) for r in rows if r["rating"] not in (None, "not an answer")]
    assert sum(r["rated"] for r in stats["responses"].values()) == len(numeric)
    assert sum(sum(r["rating_histogram"].values()) for r in stats["responses"].values()) == len(numeric)
    assert "responses (" in summary_line(questions)


def test_record_stats_for_other_records(shared_data):
    from culturalign.datasets import available_loaders

    if "wvs" not in available_loaders():
        pytest.skip("the WVS loader is not installed")
    from culturalign.datasets.validate import load_source

    stats = record_stats(load_source(shared_data / "wvs").records)
    assert stats["record_type"] == "ChoiceItem"
    assert len(stats["groups_with_distributions"]) == 19


def test_stats_cli_table_and_json(tmp_path):
    proc = run_cli("data", "stats", str(SAMPLE_QUESTIONS))
    assert proc.returncode == 0, proc.stderr
    for text in ("questions by source and category", "Entities", "C. sense", "geographic scope", "Japanese"):
        assert text in proc.stdout
    proc = run_cli("data", "stats", str(SAMPLE_PREFS), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["format"] == "care-prefs" and data["questions"] == 47
    assert set(data["by_culture_source_category"]) == {
        "Chinese",
        "Arab",
        "Japanese",
        "Korean",
        "Mexican",
        "Indian",
    }


def test_formats_and_stats_in_process(shared_data, tmp_path):
    """The table view of non-question records, and the list of formats (no subprocess)."""
    from typer.testing import CliRunner

    from culturalign.cli import app

    runner = CliRunner()
    listed = runner.invoke(app, ["data", "formats"])
    assert listed.exit_code == 0
    for name in ("care-test", "care-prefs", "jsonl", "hub"):
        assert name in listed.output
    assert listed.output.count("│ hub ") == 1  # listed once, not once per registry
    shown = runner.invoke(app, ["data", "stats", str(shared_data / "care" / "Chinese-test.json")])
    assert shown.exit_code == 0 and "Nationwide" in shown.output and "Sub-nationwide" in shown.output
    mcq = {
        "id": "m1",
        "question": "Which festival?",
        "options": ["Chuseok", "Diwali"],
        "answer": 0,
        "culture": "Korean",
    }
    path = tmp_path / "mcq.jsonl"
    path.write_text(json.dumps(mcq) + "\n", encoding="utf-8")
    opinions = runner.invoke(app, ["data", "stats", str(path)])
    assert opinions.exit_code == 0 and "ChoiceItem" in opinions.output
