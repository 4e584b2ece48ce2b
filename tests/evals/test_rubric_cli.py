"""``eval prism`` and ``eval culturebank-quality`` from the command line: bad input is a
located error with exit code 2 and no traceback; a tiny real model runs them end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
CONVS = FIXTURES / "prism_conversations.jsonl"
SURVEY = FIXTURES / "prism_survey.jsonl"


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "culturalign", *map(str, args)], capture_output=True, text=True, timeout=300
    )


def _exit_2(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stderr


def test_bad_prism_file_and_bad_rubric_exit_2(tmp_path):
    bad = tmp_path / "conversations.jsonl"
    row = json.loads(CONVS.read_text().splitlines()[0])
    row["conversation_history"][0]["turn"] = -1
    bad.write_text(json.dumps(row) + "\n")
    err = _exit_2(_cli("eval", "prism", "--data", bad, "--out", tmp_path / "run"))
    assert "conversations.jsonl:1: conversation_history[0].turn" in err
    rubric = tmp_path / "mine.txt"
    rubric.write_text("---\nscale: [1, five]\n---\n{question} {response}\n")
    err = _exit_2(_cli("eval", "prism", "--data", CONVS, "--rubric", rubric, "--out", tmp_path / "run"))
    assert "mine.txt" in err and "scale" in err
    err = _exit_2(_cli("eval", "prism", "--data", CONVS, "--filter", "vibes", "--out", tmp_path / "run"))
    assert "--filter must be one of keywords, judge, none" in err
    err = _exit_2(
        _cli("eval", "culturebank-quality", "--data", tmp_path / "absent.csv", "--out", tmp_path / "r")
    )
    assert "absent.csv: no such file" in err


def test_prism_and_culturebank_quality_commands_with_a_tiny_model(tmp_path, tiny_model_dir):
    from typer.testing import CliRunner

    from culturalign.cli import app

    spec = f"hf:{tiny_model_dir}"
    common = [
        "--model",
        spec,
        "--judge",
        spec,
        "--limit",
        "2",
        "--max-new-tokens",
        "8",
        "--judge-max-new-tokens",
        "8",
        "--judge-retries",
        "0",
        "--cache",
        tmp_path / "calls.sqlite",
    ]
    out = tmp_path / "prism"
    result = CliRunner().invoke(
        app,
        [str(a) for a in ["eval", "prism", "--data", CONVS, "--survey", SURVEY, "--out", out, *common]],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["items"] == 2 and summary["scale"] == [1, 5]
    assert summary["extra"]["kept"] == 4 and "| **all** |" in result.output

    cb = tmp_path / "cb.jsonl"
    cb.write_text(
        json.dumps(
            {
                "cultural group": "Thai",
                "actor_behavior": "avoid touching heads",
                "topic": "Etiquette",
                "eval_scenario": "Travel",
                "eval_persona": "A teacher.",
                "eval_question": "How should I greet my pupils?",
            }
        )
        + "\n"
    )
    result = CliRunner().invoke(
        app,
        [str(a) for a in ["eval", "culturebank-quality", "--data", cb, "--out", tmp_path / "cbq", *common]],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "cbq" / "summary.json").read_text())["counts"]["items"] == 1
