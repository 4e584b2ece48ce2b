"""PRISM as a registered format: ``data validate`` and ``data stats`` read the published
layout (conversations.jsonl with survey.jsonl beside it) and say what they hold."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from culturalign.cli import app
from culturalign.datasets import detect_format
from culturalign.paths import package_data

SAMPLE = package_data("data", "sample")


def _run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_the_published_folder_layout_is_detected_and_summarised(tmp_path):
    shutil.copy(SAMPLE / "prism_conversations.jsonl", tmp_path / "conversations.jsonl")
    shutil.copy(SAMPLE / "prism_survey.jsonl", tmp_path / "survey.jsonl")
    assert detect_format(tmp_path) == "prism" == detect_format(tmp_path / "conversations.jsonl")
    result = _run("data", "validate", str(tmp_path))
    assert result.exit_code == 0, result.output
    line = result.stdout
    assert "[prism]: 6 PRISM conversations (2 controversy guided, 2 unguided, 2 values guided)" in line
    # the keyword filter of 002 §4.1 and the survey's countries of birth
    assert "4 culture-related by the keyword filter; 6 with the participant's culture" in line
    stats = _run("data", "stats", str(tmp_path), "--json")
    assert json.loads(stats.stdout)["format"] == "prism"


def test_without_a_survey_the_conversations_have_no_culture_and_it_says_so(tmp_path):
    shutil.copy(SAMPLE / "prism_conversations.jsonl", tmp_path / "conversations.jsonl")
    result = _run("data", "validate", str(tmp_path / "conversations.jsonl"))
    assert (
        result.exit_code == 0
        and "0 with the participant's culture (no survey.jsonl beside it)" in result.stdout
    )


def test_every_problem_is_located_and_exits_2(tmp_path):
    rows = [
        {
            "conversation_id": "c1",
            "user_id": 5,
            "conversation_history": [{"turn": 0, "role": "user", "content": ""}],
        },
        {"conversation_id": "c1", "conversation_history": []},
    ]
    bad = tmp_path / "conversations.jsonl"
    bad.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = _run("data", "validate", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:1: opening_prompt: required" in result.stderr
    assert f"{bad}:2: conversation_id: 'c1' appears twice (first on line 1)" in result.stderr
    assert f"{bad}:2: user_id: required" in result.stderr and "4 problems found" in result.stderr
    assert "Traceback" not in result.output


def test_other_jsonl_is_not_taken_for_prism():
    assert detect_format(SAMPLE / "care_questions.jsonl") != "prism"
    assert detect_format(SAMPLE / "culturebank_eval.jsonl") != "prism"
