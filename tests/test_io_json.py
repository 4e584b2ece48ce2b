"""Located errors from the JSON readers in ``culturalign.io``: a JSONL line nested past
Python's recursion limit, and single-object files (run logs, summaries) that are broken,
too deep, of the wrong kind or of the wrong shape."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from culturalign.errors import DataError, Problems
from culturalign.io import TOO_DEEP, jsonl_objects, read_json_model, read_json_object

DEEP = '{"a": ' * 3000 + "1" + "}" * 3000


def test_a_deep_jsonl_line_is_one_located_problem_and_reading_goes_on():
    problems = Problems("pairs.jsonl")
    rows = jsonl_objects('{"ok": 1}\n' + DEEP + '\n{"ok": 2}\n', problems)
    assert rows == [(1, {"ok": 1}), (3, {"ok": 2})]
    assert [str(p) for p in problems.items] == [f"pairs.jsonl:2: invalid JSON: {TOO_DEEP}"]
    assert "nested more than 200 levels deep" in TOO_DEEP


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{\n"kind": "eval",\n', "{path}:3: invalid JSON: Expecting property name"),
        ("[1, 2]", "{path}: expected a JSON object, found list"),
        ("null", "{path}: expected a JSON object, found null"),
        ('"text"', "{path}: expected a JSON object, found str"),
        ("\n" + "[" * 50_000 + "]" * 50_000, f"{{path}}:2: invalid JSON: {TOO_DEEP}"),
    ],
)
def test_read_json_object_locates_each_problem(tmp_path, text, message):
    path = tmp_path / "summary.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_json_object(path)
    assert err.value.lines()[0].startswith(message.format(path=path)), err.value.lines()


class _Summary(BaseModel):
    label: str
    mean: float


def test_read_json_model_names_every_wrong_field(tmp_path):
    path = tmp_path / "summary.json"
    path.write_text('{"mean": "high"}', encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_json_model(path, _Summary)
    assert sorted(err.value.lines()) == sorted(
        [
            f"{path}: label: required field is missing",
            f"{path}: mean: Input should be a valid number, unable to parse string as a number",
        ]
    )
    path.write_text('{"label": "run", "mean": 7.5}', encoding="utf-8")
    assert read_json_model(path, _Summary) == _Summary(label="run", mean=7.5)
    path.write_bytes(b'{"label": "\xff"}')
    with pytest.raises(DataError, match=r"summary.json:1: not UTF-8 text \(byte 0xff"):
        read_json_model(path, _Summary)
