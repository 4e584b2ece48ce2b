"""The rating parser against judge replies in English, Chinese (simplified and traditional),
Arabic and Japanese: commentary then a rating line, markdown, refusals, truncated replies,
conflicting and out-of-range ratings, decimals, Arabic-Indic and full-width digits.

Each line of the fixture gives the reply, its scale, the rating a careful reader takes from
it (null when none can be taken) and, for an invalid reply, words its reason must contain."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from culturalign.judge.parse import parse_rating

FIXTURE = Path(__file__).parent / "fixtures" / "judge_replies_multilingual.jsonl"
CORPUS = [json.loads(line) for line in FIXTURE.open(encoding="utf-8") if line.strip()]


@pytest.mark.parametrize("case", CORPUS, ids=[c["id"] for c in CORPUS])
def test_reply_reads_as_expected(case):
    parsed = parse_rating(case["reply"], scale=case["scale"])
    assert (parsed.status, parsed.rating) == (case["status"], case["rating"]), parsed.detail
    assert parsed.valid == (case["rating"] is not None)
    if case["rating"] is None:
        assert case["reason"] and case["reason"] in parsed.detail


def test_corpus_is_large_and_balanced():
    by_language = Counter(c["language"].split("-")[0] for c in CORPUS)
    assert len(CORPUS) >= 60
    assert all(by_language[lang] >= 10 for lang in ("en", "zh", "ar", "ja")), by_language
    assert {"zh-Hans", "zh-Hant"} <= {c["language"] for c in CORPUS}
    assert {c["status"] for c in CORPUS} == {"ok", "empty", "missing", "out_of_range", "conflict"}
    assert len({c["id"] for c in CORPUS}) == len(CORPUS)


def test_every_language_has_valid_and_invalid_replies():
    for lang in ("en", "zh", "ar", "ja"):
        statuses = {c["status"] for c in CORPUS if c["language"].startswith(lang)}
        assert {"ok", "conflict", "out_of_range", "missing"} <= statuses, (lang, statuses)
