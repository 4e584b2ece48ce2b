"""Broken files of every kind: `data validate` exits 2 with located messages, no traceback."""

from __future__ import annotations

import json

import pytest
from data_helpers import (
    SAMPLE_PREFS,
    assert_bad_input,
    care_item,
    pref_row,
    run_cli,
    write_csv,
    write_json,
    write_jsonl,
)


def line_of(path, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {path}")


def question(**extra):
    """A CulturalQuestion record in our JSONL schema."""
    base = {
        "id": "q1",
        "text": "Why do people remove their shoes at home?",
        "language": "en",
        "culture": "Japanese",
        "category": "social_norms",
    }
    return {**base, **extra}


def choice(**extra):
    base = {
        "id": "c1",
        "question": "How important is family in your life?",
        "options": ["Very", "Rather", "Not very"],
        "target_distributions": {"USA": [0.5, 0.3, 0.2]},
        "kind": "opinion",
    }
    return {**base, **extra}


def test_invalid_json(tmp_path):
    good = json.dumps([care_item("Q one?"), care_item("Q two?")], indent=2)
    path = tmp_path / "broken.json"
    path.write_text(good.replace('"answer"', "answer", 1), encoding="utf-8")
    out = assert_bad_input(
        run_cli("data", "validate", str(path)), f"{path}:{line_of(path, 'answer:')}: invalid JSON"
    )
    assert "1 problem found" in out


def test_invalid_jsonl_line_and_row_problems_reported_together(tmp_path):
    path = tmp_path / "prefs.jsonl"
    rows = [pref_row("Q?", "good", 9), pref_row("Q?", "bad", 11)]
    path.write_text(json.dumps(rows[0]) + "\n" + json.dumps(rows[1]) + "\n{not json\n", encoding="utf-8")
    out = assert_bad_input(
        run_cli("data", "validate", str(path)),
        f"{path}:2: rating: rating 11 is outside 1-10",
        f"{path}:3: invalid JSON",
        "2 problems found",
    )
    assert out.index(f"{path}:2:") < out.index(f"{path}:3:")  # reported in file order


def test_invalid_csv_row(tmp_path):
    path = write_csv(tmp_path / "prefs.csv", [pref_row("Q?", "good", 9), pref_row("Q?", "bad", 2)])
    with path.open("a", encoding="utf-8") as fh:
        fh.write("LLM,Q?,a response,Opinion\n")
    assert_bad_input(
        run_cli("data", "validate", str(path)), f"{path}:4: expected 6 fields as in the header, found 4"
    )


def test_csv_missing_required_column(tmp_path):
    rows = [pref_row("Q?", "good", 9), pref_row("Q?", "bad", 2)]
    for r in rows:
        r["score"] = r.pop("rating")
    path = write_csv(tmp_path / "prefs.csv", rows)
    # column problems are reported once, at the header, not on every row
    out = assert_bad_input(
        run_cli("data", "validate", "--format", "care-prefs", str(path)),
        f"{path}:1: rating: required column is missing",
        f"{path}:1: score: unexpected column",
        "2 problems found",
    )
    assert f"{path}:2:" not in out


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(
        json.dumps(pref_row("Q?", "ok", 5)).encode() + b"\n" + '{"question": "caf\xe9"}\n'.encode("latin-1")
    )
    assert_bad_input(run_cli("data", "validate", str(path)), f"{path}:2: not UTF-8 text (byte 0xe9")


def test_missing_required_field(tmp_path):
    items = [care_item("First?"), care_item("Second?")]
    del items[1]["answer"]
    path = write_json(tmp_path / "Chinese-test.json", items)
    assert_bad_input(
        run_cli("data", "validate", str(path)),
        f"{path}:item 1 (line {line_of(path, 'Second?') - 1}): answer: required field is missing",
    )


def test_extra_field_suggests_the_known_one(tmp_path):
    items = [care_item("First?")]
    items[0]["anwser_en"] = "typo"
    path = write_json(tmp_path / "Chinese-test.json", items)
    assert_bad_input(
        run_cli("data", "validate", str(path)),
        f"{path}:item 0 (line 2): anwser_en: unexpected field; did you mean 'answer_en'?",
    )


def test_extra_field_in_our_jsonl(tmp_path):
    path = write_jsonl(tmp_path / "q.jsonl", [question(), question(id="q2", colour="red")])
    assert_bad_input(run_cli("data", "validate", str(path)), f"{path}:2: colour: unexpected field")


def test_unknown_vocabulary_suggests_nearest(tmp_path):
    items = [
        care_item("Fine?"),
        care_item("Typo in category?", culture_type="Socal norms"),
        care_item("Unknown category?", culture_type="Cooking"),
        care_item("Typo in scope?", geographic_scope="Nationwidee"),
        care_item("Typo in culture?", associated_culture="Nativ (Chinese)"),
    ]
    path = write_json(tmp_path / "Chinese-test.json", items)

    def at(i: int, needle: str) -> str:
        return f"{path}:item {i} (line {line_of(path, needle) - 1}): "  # the object opens a line above

    assert_bad_input(
        run_cli("data", "validate", str(path)),
        at(1, "Typo in category?")
        + "culture_type: unknown category 'Socal norms'; did you mean 'Social norms'?",
        at(2, "Unknown category?")
        + "culture_type: unknown category 'Cooking'; valid: Cultural entities, Opinion",
        at(3, "Typo in scope?")
        + "geographic_scope: unknown geographic scope 'Nationwidee'; did you mean 'Nationwide'?",
        at(4, "Typo in culture?") + "associated_culture: unknown associated culture 'Nativ (Chinese)'",
        "4 problems found",
    )


def test_unknown_category_in_our_jsonl(tmp_path):
    path = write_jsonl(tmp_path / "q.jsonl", [question(category="Opinon")])
    assert_bad_input(
        run_cli("data", "validate", str(path)),
        f"{path}:1: category: unknown category 'Opinon'; did you mean 'Opinion'?",
    )


def test_bad_ratings(tmp_path):
    rows = [pref_row("Q?", "fine", 7), *(pref_row("Q?", f"odd {r}", r) for r in (11, 0, "high", True))]
    path = write_jsonl(tmp_path / "prefs.jsonl", rows)
    assert_bad_input(
        run_cli("data", "validate", str(path)),
        f"{path}:2: rating: rating 11 is outside 1-10",
        f"{path}:3: rating: rating 0 is outside 1-10",
        f"{path}:4: rating: not a number: 'high'",
        f"{path}:5: rating: expected a number from 1 to 10, found True",
    )


def test_bad_rating_in_csv_and_parquet(tmp_path):
    rows = [pref_row("Q?", "fine", "7"), pref_row("Q?", "odd", "12")]
    csv_path = write_csv(tmp_path / "prefs.csv", rows)
    assert_bad_input(
        run_cli("data", "validate", str(csv_path)), f"{csv_path}:3: rating: rating 12 is outside 1-10"
    )
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq_path = tmp_path / "prefs.parquet"
    pq.write_table(pa.Table.from_pylist(rows), pq_path)
    assert_bad_input(
        run_cli("data", "validate", str(pq_path)), f"{pq_path}:row 1: rating: rating 12 is outside 1-10"
    )


def test_duplicate_ids_in_our_jsonl(tmp_path):
    path = write_jsonl(tmp_path / "q.jsonl", [question(), question(text="Another question?")])
    assert_bad_input(
        run_cli("data", "validate", str(path)), f"{path}:2: id: duplicate id 'q1' (first at line 1)"
    )


def test_duplicate_question_in_care_json(tmp_path):
    path = write_json(
        tmp_path / "Chinese-test.json", [care_item("Same?"), care_item("Other?"), care_item("Same?")]
    )
    assert_bad_input(
        run_cli("data", "validate", str(path)), f"{path}:item 2 (line 16): question: duplicate question id"
    )


def test_duplicate_explicit_id_in_prefs(tmp_path):
    path = write_jsonl(
        tmp_path / "prefs.jsonl",
        [pref_row("Q one?", "a", 5, id="x1"), pref_row("Q two?", "b", 5, id="x1")],
    )
    assert_bad_input(run_cli("data", "validate", str(path)), f"{path}:2: id: duplicate id 'x1'")


def test_empty_question_and_response(tmp_path):
    care = write_json(tmp_path / "Chinese-test.json", [care_item("Fine?"), care_item("   ")])
    assert_bad_input(run_cli("data", "validate", str(care)), f"{care}:item 1 (line 9): question: is empty")
    prefs = write_jsonl(tmp_path / "prefs.jsonl", [pref_row("Q?", "fine", 7), pref_row("Q?", "", 3)])
    assert_bad_input(run_cli("data", "validate", str(prefs)), f"{prefs}:2: response: is empty")
    ours = write_jsonl(tmp_path / "q.jsonl", [question(text=" ")])
    assert_bad_input(run_cli("data", "validate", str(ours)), f"{ours}:1: text: must not be empty")


def test_distribution_not_summing_to_one(tmp_path):
    path = write_jsonl(
        tmp_path / "opinions.jsonl",
        [choice(), choice(id="c2", target_distributions={"USA": [0.5, 0.2, 0.1]})],
    )
    assert_bad_input(
        run_cli("data", "validate", str(path)),
        f"{path}:2: target_distributions: distribution for 'USA' sums to 0.800, not about 1",
    )


def test_distribution_of_wrong_length(tmp_path):
    path = write_jsonl(tmp_path / "opinions.jsonl", [choice(target_distributions={"JPN": [0.5, 0.5]})])
    assert_bad_input(
        run_cli("data", "validate", str(path)),
        f"{path}:1: target_distributions: distribution for 'JPN' has 2 values for 3 options",
    )


@pytest.mark.parametrize("name", ["Chinese-test.json", "prefs.csv"])
def test_empty_file(tmp_path, name):
    path = tmp_path / name
    path.write_text("", encoding="utf-8")
    assert_bad_input(run_cli("data", "validate", str(path)), f"{path}: the file is empty")


def test_whitespace_only_and_empty_list(tmp_path):
    blank = tmp_path / "q.jsonl"
    blank.write_text("\n  \n", encoding="utf-8")
    assert_bad_input(run_cli("data", "validate", str(blank)), f"{blank}: the file is empty")
    empty_list = tmp_path / "Chinese-test.json"
    empty_list.write_text("[]", encoding="utf-8")
    assert_bad_input(
        run_cli("data", "validate", "--format", "care-test", str(empty_list)), "holds no records"
    )


def test_conflicting_metadata_for_one_question(tmp_path):
    path = write_jsonl(
        tmp_path / "prefs.jsonl",
        [pref_row("Q?", "a", 8, culture_type="Opinion"), pref_row("Q?", "b", 3, culture_type="Literacy")],
    )
    assert_bad_input(
        run_cli("data", "validate", str(path)),
        f"{path}:2: culture_type: 'literacy' differs from 'opinion' at 1 for the same question",
    )


def test_unknown_shape_missing_path_and_bad_format(tmp_path):
    odd = tmp_path / "notes.txt"
    odd.write_text("hello\n", encoding="utf-8")
    assert_bad_input(run_cli("data", "validate", str(odd)), f"{odd}: cannot tell its format; pass --format")
    assert_bad_input(run_cli("data", "validate", str(tmp_path / "missing.json")), "no such file or folder")
    assert_bad_input(
        run_cli("data", "validate", "--format", "nope", str(SAMPLE_PREFS)), "unknown format 'nope'"
    )


def test_wrong_format_forced_reports_fields(tmp_path):
    # a preference file read as a test set: every row's extra fields are located
    out = assert_bad_input(
        run_cli("data", "validate", "--format", "care-test", str(SAMPLE_PREFS)),
        f"{SAMPLE_PREFS}:1: response: unexpected field",
        f"{SAMPLE_PREFS}:1: rating: unexpected field",
    )
    assert "problems found" in out


def test_folder_given_to_a_file_format(tmp_path):
    assert_bad_input(
        run_cli("data", "validate", "--format", "care-prefs", str(tmp_path)), f"{tmp_path}: is a folder"
    )


def test_bad_input_writes_nothing(tmp_path):
    path = write_jsonl(tmp_path / "prefs.jsonl", [pref_row("Q?", "fine", 7), pref_row("Q?", "odd", 42)])
    out_pairs = tmp_path / "pairs.jsonl"
    assert_bad_input(
        run_cli("data", "pairs", str(path), "--out", str(out_pairs)), "rating 42 is outside 1-10"
    )
    assert not out_pairs.exists()
    assert_bad_input(
        run_cli("data", "split", str(path), "--per-category", "1", "--out", str(tmp_path / "split")),
        "outside 1-10",
    )
    assert not (tmp_path / "split").exists()
    assert_bad_input(
        run_cli("data", "convert", str(path), "--to", "jsonl", str(tmp_path / "conv")), "outside 1-10"
    )
    assert not (tmp_path / "conv").exists()
