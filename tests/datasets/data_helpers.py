"""Helpers for the data tests: the real CLI in a subprocess, and small file writers."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from culturalign.paths import package_data

SAMPLE = package_data("data", "sample")
SAMPLE_QUESTIONS = SAMPLE / "care_questions.jsonl"
SAMPLE_PREFS = SAMPLE / "care_prefs.jsonl"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m culturalign ARGS`` as a user runs it (exit codes through ``main()``)."""
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "culturalign", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def assert_bad_input(proc: subprocess.CompletedProcess, *expected: str) -> str:
    """Exit 2, every expected fragment in the output, and no traceback."""
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "Traceback" not in out, out
    for fragment in expected:
        assert fragment in out, f"{fragment!r} not in:\n{out}"
    return out


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def write_json(path: Path, obj: Any) -> Path:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def pref_row(question: str, response: str, rating: Any, **extra: Any) -> dict[str, Any]:
    """One row in the CARE preference release's shape."""
    return {
        "source": extra.pop("source", "LLM"),
        "question": question,
        "response": response,
        "culture_type": extra.pop("culture_type", "Social norms"),
        "associated_culture": extra.pop("associated_culture", "Native (Chinese)"),
        "rating": rating,
        **extra,
    }


def care_item(question: str, answer: str = "A reference answer.", **extra: Any) -> dict[str, Any]:
    """One object in the CARE test files' shape."""
    return {
        "question": question,
        "answer": answer,
        "culture_type": extra.pop("culture_type", "Opinion"),
        "associated_culture": extra.pop("associated_culture", "Native (Chinese)"),
        "geographic_scope": extra.pop("geographic_scope", "Nationwide"),
        **extra,
    }
