"""Every case of the fuzz corpus ends as a plain located error: the expected exit code, the
message fragments (file, line or item, field), no traceback, and no output left behind.

The cases run in-process through ``culturalign.cli.main`` (the same entry point as the
installed command), so about 80 of them take seconds, not minutes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from culturalign.cli import main

from .cases import CASES, Case


def _fill(text: str, d: Path) -> str:
    return text.replace("{d}", str(d))


def run_case(case: Case, d: Path, monkeypatch, capsys) -> tuple[int, str]:
    for name, content in case.files.items():
        path = d / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(_fill(content, d), encoding="utf-8")
    if case.folder:
        (d / case.folder).mkdir(parents=True)
    monkeypatch.setattr("sys.argv", ["culturalign", *(_fill(a, d) for a in case.argv)])
    monkeypatch.setenv("CULTURALIGN_PROGRESS", "0")
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_the_corpus_is_large_and_names_are_unique():
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)


def _param(case: Case):
    marks = [pytest.mark.xfail(reason=f"known gap, fix in {case.owner}", strict=True)] if case.owner else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_malformed_input_is_a_located_error(case: Case, tmp_path, monkeypatch, capsys):
    d = tmp_path / "in"
    d.mkdir()
    monkeypatch.chdir(tmp_path)
    code, out = run_case(case, d, monkeypatch, capsys)
    assert "Traceback" not in out, out
    assert code == case.code, out
    for fragment in case.fragments:
        assert _fill(fragment, d) in out, f"{_fill(fragment, d)!r} not in:\n{out}"
    for rel in case.outputs:
        assert not (d / rel).exists(), f"{rel} was written:\n{out}"
    leftovers = [p for p in d.rglob("*") if p.name.endswith((".partial", ".tmp"))]
    assert not leftovers, leftovers
    assert not (tmp_path / "runs").exists() or not os.listdir(tmp_path / "runs"), "a run folder was made"
