"""``--json`` and ``--strict`` on the eval commands, for scripts and CI: stdout holds only
the summary as written to OUT; a failed call or an invalid judgment exits 1 under --strict."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from culturalign.cli import app
from culturalign.evals.outcome import call_problems, run_outcome, summary_problems
from culturalign.paths import package_data

SAMPLE = package_data("data", "sample")


def _invoke(*args, code: int = 0):
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


@pytest.fixture()
def progress_on(monkeypatch):
    monkeypatch.setenv("CULTURALIGN_PROGRESS", "1")  # it must stay off stdout


def test_json_puts_only_the_summary_on_stdout(tiny_model_dir, tmp_path, progress_on):
    out = tmp_path / "mcq"
    data = SAMPLE / "choice_include.csv"
    result = _invoke("eval", "mcq", "-m", f"hf:{tiny_model_dir}", "-d", data, "-o", out, "-n", "3", "--json")
    printed = json.loads(result.stdout)  # nothing else on stdout
    assert printed == json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert printed["questions"] == 3
    assert "| all | 3 |" in result.stderr and "3/3 (100%)" in result.stderr  # table and progress


def test_strict_passes_a_clean_run_and_quiet_json_is_silent_on_stderr(tiny_model_dir, tmp_path):
    out = tmp_path / "bench"
    data = SAMPLE / "culturalbench_easy.csv"
    args = ["eval", "culturalbench", "-m", f"hf:{tiny_model_dir}", "-d", data, "-o", out, "-n", "2"]
    result = _invoke("-q", *args, "--json", "--strict")
    assert json.loads(result.stdout)["easy"]["questions"] == 2 and result.stderr == ""
    assert run_outcome(out).clean


def test_strict_exits_1_on_invalid_judgments_after_writing_everything(tiny_model_dir, tmp_path):
    spec = f"hf:{tiny_model_dir}"  # a random model as judge writes no valid rating
    out = tmp_path / "care"
    args = ["eval", "care", "-d", SAMPLE / "care_questions.jsonl", "-m", spec, "-j", spec, "-o", out]
    args += ["-n", "2", "--max-new-tokens", "4", "--judge-max-new-tokens", "4", "--judge-retries", "0"]
    result = _invoke(*args, "--json", "--strict", code=1)
    summary = json.loads(result.stdout)
    assert summary["counts"]["invalid"] == 2 and (out / "judgments.jsonl").is_file()
    assert f"--strict: 2 judgments without a valid rating (in {out})" in result.stderr
    _invoke(*args)  # without --strict the same run is a success (from the call cache)

    table = _invoke("eval", "care-table", out, "--json", "--strict", code=1)
    blocks = json.loads(table.stdout)["blocks"]  # one block per culture
    assert sum(row["invalid"] for b in blocks for row in b["rows"]) == 2
    assert "--strict: " in table.stderr and "1 invalid, 0 skipped" in table.stderr


def test_each_summary_shape_names_what_it_left_undone():
    assert summary_problems({"counts": {"invalid": 1, "skipped": 2, "ok": 3}}) == [
        "1 judgments without a valid rating",
        "2 answers that could not be judged",
    ]
    assert summary_problems({"failed": 1, "unsteered": {"failed": 2}}) == [
        "1 items without a result",
        "2 unsteered items without a result",
    ]
    cali = {"per_culture": {"India": {"failed": 1}, "United States": {"failed": 2}}}
    assert summary_problems(cali) == ["3 items without a result"]
    bench = {"easy": {"invalid": 1, "errors": 0}, "hard": {"invalid": 0, "errors": 4}}
    assert summary_problems(bench) == [
        "1 easy answers that name no valid option",
        "4 hard questions whose model call failed",
    ]
    grounded = {"overall": {"plain": {"n": 5, "scored": 4}, "augmented": {"n": 5, "scored": 5}}}
    assert summary_problems(grounded) == ["1 plain answers without an entailment score"]
    assert summary_problems({"n_invalid": 3, "n_skipped": 0}) == ["3 judgments without a valid rating"]
    assert summary_problems({"counts": {"invalid": 0}, "failed": 0, "questions": 9}) == []
    calls = {"calls": {"model": {"failures": 0}, "judge": {"failures": 3}, "checker": {"failures": 1}}}
    assert call_problems(calls) == ["1 model call failed (checker)", "3 model calls failed (judge)"]


def test_every_eval_command_offers_json_and_strict():
    from culturalign.cli import command

    evals = command().commands["eval"].commands
    for name, cmd in [*evals.items(), ("judge", command().commands["judge"])]:
        flags = {opt for p in cmd.params for opt in p.opts}
        assert {"--json", "--strict"} <= flags, name
