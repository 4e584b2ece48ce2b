"""Format sniffing reads a JSONL file's first record whole even when its text holds a
character ``str.splitlines`` breaks at (U+2028, U+0085...): the record is one line, and
cutting it there made the file unrecognisable (``cannot tell its format``)."""

from __future__ import annotations

import json

import pytest

from culturalign.datasets import culturebank, detect_format, load_any
from culturalign.datasets.rows import first_row_keys

CARE_ROW = {
    "question": "端午节吃什么？",
    "answer": "粽子。\u2028也吃咸鸭蛋。",
    "culture_type": "Cultural entities",
    "associated_culture": "Native (Chinese)",
    "geographic_scope": "Nationwide",
}
KNOWLEDGE_ROW = {
    "cultural group": "Swedish",
    "context": "at work\x85in the afternoon",
    "actor_behavior": "take coffee breaks together\u2028(fika)",
}


def _write(path, *rows: dict) -> None:
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    assert "\u2028" in text  # written raw, as our own writers and scraped text do
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("brk", ["\u2028", "\x85", "\u2029", "\x1e"])
def test_first_row_keys_reads_the_whole_first_record(tmp_path, brk):
    path = tmp_path / "care.jsonl"
    row = dict(CARE_ROW, question=f"端午节{brk}吃什么？")
    _write(path, row, dict(CARE_ROW, question="中秋节吃什么？"))
    assert first_row_keys(path) == set(CARE_ROW)


def test_care_file_is_recognised_and_loaded(tmp_path):
    path = tmp_path / "care.jsonl"
    _write(path, CARE_ROW, dict(CARE_ROW, question="中秋节吃什么？", answer="月饼。"))
    assert detect_format(path) == "care-test"
    name, records = load_any(path)
    assert name == "care-test" and len(records) == 2
    assert records[0].reference_answer == CARE_ROW["answer"]


def test_culturebank_file_is_recognised_and_loaded(tmp_path):
    path = tmp_path / "kb.jsonl"
    _write(path, KNOWLEDGE_ROW, dict(KNOWLEDGE_ROW, context="at home"))
    assert culturebank.sniff(path)
    name, records = load_any(path)
    assert name == "culturebank" and len(records) == 2
    assert records[0].actor_behavior == KNOWLEDGE_ROW["actor_behavior"]
