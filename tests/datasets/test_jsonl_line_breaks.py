"""JSONL lines end at ``\\n`` only: text holding other Unicode line breaks reads back whole."""

from __future__ import annotations

import pytest

from culturalign.datasets import load_any
from culturalign.errors import DataError
from culturalign.io import JsonlAppender, read_records, write_records
from culturalign.records import CulturalQuestion

# every character str.splitlines() breaks at besides \n and \r; JSON keeps them raw
BREAKS = "\u2028 \u2029 \x85 \x1c \x1d \x1e \x0b \x0c"


def _questions() -> list[CulturalQuestion]:
    return [
        CulturalQuestion(id=f"q{i}", text=f"Line one{ch}line two?", language="en", culture="World")
        for i, ch in enumerate(BREAKS.split(" "))
    ]


def test_records_written_by_our_writers_read_back(tmp_path):
    qs = _questions()
    whole = tmp_path / "whole.jsonl"
    write_records(whole, qs)
    appended = tmp_path / "appended.jsonl"
    with JsonlAppender(appended, fsync=False) as out:
        for q in qs:
            out.write(q)
    for path in (whole, appended):
        raw = path.read_bytes()
        assert "\u2028".encode() in raw and raw.count(b"\n") == len(qs)  # written raw, one line each
        assert read_records(path, CulturalQuestion) == qs
        assert load_any(path)[1] == qs


def test_crlf_line_ends_and_the_line_numbers_of_errors(tmp_path):
    qs = _questions()
    lines = [q.model_dump_json() for q in qs]
    lines.insert(3, "{not json")
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    with pytest.raises(DataError) as err:
        read_records(path, CulturalQuestion)
    # the bad line is the fourth: no break inside the earlier records was counted
    assert [p.where for p in err.value.problems] == [4]
    del lines[3]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    assert read_records(path, CulturalQuestion) == qs
