"""Conversion round trips, hub ids (offline in tests), and light imports."""

from __future__ import annotations

import subprocess
import sys

import pytest
from data_helpers import SAMPLE_PREFS, SAMPLE_QUESTIONS, run_cli, write_jsonl

from culturalign.datasets import care_prefs, hub, jsonl
from culturalign.datasets.convert import convert
from culturalign.datasets.pairs import make_pairs
from culturalign.datasets.rows import Row
from culturalign.datasets.validate import load_source, validate
from culturalign.errors import CulturalignError


def _dump(records):
    return [r.model_dump(mode="json") for r in records]


@pytest.mark.parametrize("to", ["jsonl", "hf", "parquet"])
def test_round_trip_questions_with_responses(tmp_path, to):
    records = care_prefs.load(SAMPLE_PREFS)
    target = convert(records, to, tmp_path / "out", name="prefs")
    again = load_source(target).records
    assert _dump(again) == _dump(records)


def test_round_trip_pairs_and_opinions(tmp_path):
    pairs = make_pairs(care_prefs.load(SAMPLE_PREFS)).records
    folder = convert(pairs, "hf", tmp_path / "pairs")
    assert _dump(load_source(folder).records) == _dump(pairs)
    # a datasets folder TRL can read: conversational columns survive as lists of messages
    import datasets

    ds = datasets.load_from_disk(str(folder))
    assert ds[0]["prompt"][0]["role"] == "user" and ds[0]["chosen"][0]["role"] == "assistant"
    opinions = [
        {
            "id": "o1",
            "question": "Q?",
            "options": ["a", "b"],
            "target_distributions": {"USA": [0.4, 0.6]},
            "kind": "opinion",
        },
        {
            "id": "o2",
            "question": "R?",
            "options": ["a", "b"],
            "target_distributions": {"JPN": [1.0, 0.0]},
            "kind": "opinion",
        },
    ]
    items = jsonl.load(write_jsonl(tmp_path / "opinions.jsonl", opinions))
    for to in ("hf", "parquet"):
        target = convert(items, to, tmp_path / f"op-{to}", name="opinions")
        assert _dump(load_source(target).records) == _dump(items)  # no padded None countries


def test_convert_cli(tmp_path):
    proc = run_cli("data", "convert", str(SAMPLE_QUESTIONS), "--to", "hf", str(tmp_path / "hf"))
    assert proc.returncode == 0, proc.stderr
    assert "wrote 40 CulturalQuestion records" in proc.stdout
    loaded, summary = validate(tmp_path / "hf")
    assert loaded.format == "hub" and summary.startswith("40 questions")
    proc = run_cli("data", "convert", str(SAMPLE_QUESTIONS), "--to", "xml", str(tmp_path / "x"))
    assert proc.returncode == 2 and "--to must be one of" in proc.stderr and "Traceback" not in proc.stderr


def test_hub_offline_error_is_clear():
    # tests run with HF_DATASETS_OFFLINE=1: nothing is downloaded, the message says what to do
    with pytest.raises(CulturalignError) as info:
        hub.load_hub("hf:geyang627/CARE:chinese")
    text = str(info.value)
    assert "geyang627/CARE" in text and "offline" in text.lower() and "local file" in text


def test_hub_spec_parsing():
    assert hub.parse_spec("hf:geyang627/CARE") == ("geyang627/CARE", None, "train")
    assert hub.parse_spec("hf:geyang627/CARE:arabic@train") == ("geyang627/CARE", "arabic", "train")
    with pytest.raises(CulturalignError):
        hub.parse_spec("hf:")


def test_hub_rows_of_each_shape():
    prefs = [
        Row(f"row {i}", {"source": "LLM", "question": "Q?", "response": t, "culture_type": "Opinion",
                         "associated_culture": "Native (Arab)", "rating": r})
        for i, (t, r) in enumerate([("good", "8"), ("bad", "2")])
    ]  # fmt: skip
    (q,) = hub.rows_to_records(prefs, "hf:x/y", source="x/y")
    assert [r.rating for r in q.responses] == [8, 2] and q.culture == "Arab" and q.source == "x/y"
    test_rows = [Row("row 0", {"question": "Q?", "answer": "A.", "culture_type": "Literacy",
                               "associated_culture": "Native (Chinese)", "geographic_scope": "Nationwide"})]  # fmt: skip
    (t,) = hub.rows_to_records(test_rows, "hf:x/z")
    assert t.reference_answer == "A." and t.category.value == "literacy"


def test_light_imports():
    """Loading CARE files and the data CLI module must not import heavy libraries."""
    code = (
        "import sys, culturalign.cli.data, culturalign.datasets.validate;"
        "from culturalign.datasets import care, care_prefs, jsonl;"
        f"care_prefs.load({str(SAMPLE_PREFS)!r});"
        "heavy = [m for m in ('torch', 'transformers', 'datasets', 'pandas', 'pyarrow', 'trl') if m in sys.modules];"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
