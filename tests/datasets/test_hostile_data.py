"""Small hostile data files (issue 17 item 7): deep nesting, NaN ratings, nothing rated.
Each ends as a located error with exit 2, and nothing is written over an earlier output."""

from __future__ import annotations

import json

from culturalign.cli import main
from culturalign.datasets.rows import deep_nesting_line

ROW = {"question": "q", "culture_type": "Opinion", "associated_culture": "Native (Chinese)"}


def _cli(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    monkeypatch.setattr("sys.argv", ["culturalign", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_json_nested_200000_deep_is_a_located_error(tmp_path, monkeypatch, capsys):
    p = tmp_path / "deep.json"
    p.write_text("[\n" + "[" * 200_000 + "]" * 200_000 + "\n]")
    code, out = _cli(monkeypatch, capsys, "data", "validate", str(p))
    assert code == 2 and "Traceback" not in out
    assert f"{p}:2: invalid JSON: nested more than 200 levels deep" in out


def test_deep_nesting_line_skips_brackets_inside_strings():
    text = '[\n"[[[[[[",\n' + "{" * 5 + "\n"
    assert deep_nesting_line(text, limit=4) == 3
    assert deep_nesting_line('["\\"[[[[[["]', limit=2) is None


def test_nan_and_infinity_ratings_are_both_errors(tmp_path, monkeypatch, capsys):
    p = tmp_path / "prefs.jsonl"
    rows = [dict(ROW, response="a", rating=float("nan")), dict(ROW, response="b", rating=float("inf"))]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))  # json writes NaN and Infinity literally
    assert "NaN" in p.read_text() and "Infinity" in p.read_text()
    code, out = _cli(monkeypatch, capsys, "data", "validate", str(p))
    assert code == 2
    assert f"{p}:1: rating: rating NaN is not a number from 1 to 10" in out
    assert f"{p}:2: rating: rating inf is not a number from 1 to 10" in out


def test_pairs_with_nothing_rated_fail_before_touching_out(tmp_path, monkeypatch, capsys):
    p = tmp_path / "unrated.jsonl"
    rows = [dict(ROW, response="a", rating=None), dict(ROW, response="b", rating="not an answer")]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out_file = tmp_path / "pairs.jsonl"
    out_file.write_text('{"earlier": "good pairs"}\n')
    code, out = _cli(monkeypatch, capsys, "data", "pairs", str(p), "--out", str(out_file))
    assert code == 2
    assert f"{p}: no pairs from 1 question (1 no rated response" in out and "nothing written" in out
    assert out_file.read_text() == '{"earlier": "good pairs"}\n'
    code, out = _cli(monkeypatch, capsys, "data", "pairs", str(p), "--kto", "--out", str(out_file))
    assert code == 2 and "no unpaired examples" in out
    assert out_file.read_text() == '{"earlier": "good pairs"}\n'
