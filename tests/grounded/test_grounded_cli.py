"""The grounded commands end to end: the embedded model as generator, checker and judge;
bad input as located errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from culturalign.cli import app
from culturalign.io import read_records
from culturalign.models.embedded import EMBEDDED_JUDGE_WARNING
from culturalign.records import GroundedEvalItem, PreferencePair, SFTExample
from culturalign.records.knowledge import GroundedQuestion
from culturalign.synth.grounded import GroundedSynthFailure


@pytest.mark.slow
def test_synth_then_eval_then_export_with_the_embedded_model(tmp_path, sample_dir):
    runner = CliRunner()
    cache = str(tmp_path / "calls.sqlite")
    questions = tmp_path / "questions.jsonl"
    result = runner.invoke(
        app,
        [
            "synth", "grounded",
            "--knowledge", str(sample_dir / "culturebank_knowledge.jsonl"),
            "--model", "embedded", "--checker", "embedded",
            "--out", str(questions),
            "--limit", "2", "--limit-order", "file", "--max-attempts", "2", "--json-retries", "2", "--max-new-tokens", "96",
            "--temperature", "0.3", "--threshold", "0",
            "--cache", cache,
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    qs = read_records(questions, GroundedQuestion)
    # a 135M model does not always manage JSON: each item ends as a question or a recorded failure
    failed_path = tmp_path / "questions.jsonl.failed.jsonl"
    failed = read_records(failed_path, GroundedSynthFailure) if failed_path.exists() else []
    ids = [q.knowledge_id for q in qs] + [f.knowledge_id for f in failed]
    assert sorted(ids) == ["cb-de-sunday", "cb-jp-shoes"]
    assert qs, "the embedded model produced no valid question at all"
    assert all(f.json_failures == 3 for f in failed)
    for q in qs:
        assert q.question and q.scenario and q.persona
        assert q.score_source == "logprob" and 0 < q.relevance < 1 and 0 < q.indirectness < 1
        # threshold 0: the first checked candidate passes and the loop stops there
        assert q.accepted and q.attempts == 1 and len(q.history) == 1 and q.threshold == 0
    run_log = json.loads((tmp_path / "questions.jsonl.run.json").read_text())
    assert run_log["kind"] == "synth-grounded" and "grounded/question" in run_log["prompts"]
    assert any(EMBEDDED_JUDGE_WARNING in n for n in run_log["notes"])

    run_dir = tmp_path / "run"
    result = runner.invoke(
        app,
        [
            "eval", "grounded",
            "--data", str(questions), "--model", "embedded", "--judge", "embedded",
            "--out", str(run_dir), "--max-new-tokens", "24", "--cache", cache,
            "--export-dpo", str(tmp_path / "dpo.jsonl"), "--export-sft", str(tmp_path / "sft.jsonl"),
            "--lambda", "0.6",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "## By cultural group" in result.output and "weak stand-in" in result.output
    items = read_records(run_dir / "items.jsonl", GroundedEvalItem)
    assert len(items) == len(qs) and all(i.plain.entailment is not None for i in items)
    pairs = read_records(tmp_path / "dpo.jsonl", PreferencePair)
    sft = read_records(tmp_path / "sft.jsonl", SFTExample)
    assert len(pairs) == sum(i.plain.text != i.augmented.text for i in items)
    assert [r.id for r in sft] == [i.question_id for i in items if i.plain.entailment < 0.6]

    result = runner.invoke(
        app,
        [
            "synth",
            "grounded-export",
            "--items",
            str(run_dir),
            "--sft",
            str(tmp_path / "sft2.jsonl"),
            "--lambda",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert len(read_records(tmp_path / "sft2.jsonl", SFTExample)) == len(items)  # every score is below 1


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "culturalign", *args], capture_output=True, text=True, timeout=120
    )


def test_bad_knowledge_file_is_a_located_error(tmp_path):
    bad = tmp_path / "k.csv"
    bad.write_text("cultural group,actor's behavior,agreement\nThai,wai,high\nThai,,0.5\n", encoding="utf-8")
    proc = _run("synth", "grounded", "--knowledge", str(bad), "--out", str(tmp_path / "q.jsonl"))
    assert proc.returncode == 2
    assert f"{bad}:2: agreement: expected a number between 0 and 1, found 'high'" in proc.stderr
    assert f"{bad}:3: no knowledge in this row" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "q.jsonl").exists()


def test_eval_needs_questions_and_export_needs_a_target(tmp_path, sample_dir):
    proc = _run(
        "eval",
        "grounded",
        "--data",
        str(sample_dir / "culturebank_knowledge.jsonl"),
        "--out",
        str(tmp_path / "r"),
    )
    assert proc.returncode == 2 and "holds knowledge but no questions" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = _run("synth", "grounded-export", "--items", str(tmp_path / "items.jsonl"))
    assert proc.returncode == 2 and "give --dpo FILE and/or --sft FILE" in proc.stderr
