"""The streamed JSONL reader (``generate --limit``) reports bad lines exactly as the
whole-file reader does: both go through ``io.jsonl_object``."""

from __future__ import annotations

import pytest

from culturalign.datasets.jsonl_stream import iter_records
from culturalign.errors import DataError


def test_a_line_nested_too_deep_is_located_not_a_recursion_traceback(tmp_path):
    good = '{"id": "q1", "text": "hi", "language": "en", "culture": "UK"}'
    path = tmp_path / "q.jsonl"
    path.write_text(good + "\n" + "[" * 100_000 + "]" * 100_000 + "\n[1]\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        list(iter_records(path))
    text = str(err.value)
    assert f"{path}:2" in text and "nested" in text
    assert f"{path}:3" in text and "expected a JSON object, found list" in text
