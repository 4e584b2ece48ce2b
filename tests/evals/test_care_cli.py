"""The CARE commands: ``judge`` on any responses file, ``eval care-table`` across runs,
``eval judge-agreement``, and clear exit-2 errors for bad input."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from culturalign.evals.care.judged import write_care_outputs
from culturalign.evals.care.stats import summarize
from culturalign.io import read_records
from culturalign.records.judgment import Judgment

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = FIXTURES / "care_sample.json"
PREFS = FIXTURES / "care_prefs_sample.jsonl"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "culturalign", *map(str, args)], capture_output=True, text=True, timeout=300
    )


def _run_inprocess(*args: str):
    """Success paths run in this process (no second torch import); errors go through
    ``main()`` in a subprocess, where the exit code and stderr are what a user sees."""
    from typer.testing import CliRunner

    from culturalign.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def _no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr


# -- bad input ------------------------------------------------------------------------------
def test_missing_data_file_exits_2(tmp_path):
    proc = _cli("eval", "care", "--data", tmp_path / "nope.json", "--out", tmp_path / "run")
    _no_traceback(proc)
    assert "nope.json: no such file" in proc.stderr


def test_bad_rows_are_all_located(tmp_path):
    bad = tmp_path / "bad.json"
    rows = json.loads(SAMPLE.read_text(encoding="utf-8"))[:3]
    rows[1]["culture_type"] = "Social norm stuff"
    del rows[2]["answer"]
    bad.write_text(json.dumps(rows), encoding="utf-8")
    proc = _cli("eval", "care", "--data", bad, "--out", tmp_path / "run")
    _no_traceback(proc)
    assert f"{bad}:item 1" in proc.stderr and "culture_type" in proc.stderr
    assert f"{bad}:item 2" in proc.stderr and "answer" in proc.stderr
    assert not (tmp_path / "run" / "responses.jsonl").exists()


def test_bad_lang_and_bad_template_folder_exit_2(tmp_path):
    _no_traceback(_cli("eval", "care", "--data", SAMPLE, "--lang", "fr", "--out", tmp_path / "run"))
    for name in ("entities_opinion", "norms_commonsense", "literacy"):
        (tmp_path / f"{name}.txt").write_text("{question} {response}", encoding="utf-8")
    proc = _cli("judge", "--responses", SAMPLE, "--judge-template", tmp_path, "--out", tmp_path / "j.jsonl")
    _no_traceback(proc)  # the templates are checked before any input is read or judged
    assert "lacks the placeholder(s) {answer}" in proc.stderr


def test_judge_lang_and_agreement_without_ratings_exit_2(tmp_path):
    proc = _cli("judge", "--responses", PREFS, "--lang", "xx", "--out", tmp_path / "j.jsonl")
    _no_traceback(proc)  # checked even without --data, where it would otherwise be ignored
    assert "--lang must be 'native' or 'en', not 'xx'" in proc.stderr
    proc = _cli("judge", "--responses", tmp_path, "--out", tmp_path / "j.jsonl")
    _no_traceback(proc)  # was "no such file" for a folder that plainly exists
    assert f"{tmp_path}: is a folder; a file was expected here" in proc.stderr
    proc = _cli("eval", "judge-agreement", "--data", SAMPLE, "--out", tmp_path / "agree")
    _no_traceback(proc)  # a test file has no human ratings: nothing to agree with
    assert f"{SAMPLE}: holds no human-rated responses" in proc.stderr
    assert not (tmp_path / "agree").exists() and not (tmp_path / "j.jsonl").exists()


def test_judge_reports_every_bad_response_row(tmp_path):
    rows = [
        {"item_id": "x1", "response": "hi"},  # unknown id when joined to --data
        {"question": "Who wrote The Tale of Genji?"},  # no response
        {"question": "Who wrote The Tale of Genji?", "response": "Murasaki", "human_rating": 12},
    ]
    f = tmp_path / "responses.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    proc = _cli("judge", "--responses", f, "--data", SAMPLE, "--out", tmp_path / "j.jsonl")
    _no_traceback(proc)
    assert f"{f}:1: item_id: id 'x1' is not in the --data questions" in proc.stderr
    assert f"{f}:2: response: required field is missing" in proc.stderr
    assert f"{f}:3: human_rating: rating 12 is outside 1-10" in proc.stderr


# -- judge: any text source -------------------------------------------------------------------
def test_judge_scores_web_passages_like_a_model(tiny_model_dir, tmp_path):
    """CARE Table 4's search-engine row: several passages per question, best one counts."""
    passages = [
        {"question": "Who wrote The Tale of Genji?", "text": "Murasaki Shikibu wrote it.", "source": "web"},
        {"question": "Who wrote The Tale of Genji?", "text": "A classic novel.", "source": "web"},
        {"question": "How many syllables does a haiku have, and how are they arranged?", "text": "5-7-5"},
    ]
    f = tmp_path / "passages.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in passages), encoding="utf-8")
    out = tmp_path / "web.jsonl"
    args = ["judge", "--judge", f"hf:{tiny_model_dir}", "--responses", f, "--data", SAMPLE]
    _run_inprocess(
        *args, "--per-item", "max", "--judge-max-new-tokens", "6", "--judge-retries", "0", "--out", out
    )
    judgments = read_records(out, Judgment)
    assert [(j.item_id == judgments[0].item_id, j.sample_index) for j in judgments] == [
        (True, 0),
        (True, 1),
        (False, 0),
    ]
    assert {j.category for j in judgments} == {"literacy"} and {j.culture for j in judgments} == {"Japanese"}
    assert all(j.reference and j.rubric == "literacy" for j in judgments)
    summary = json.loads((tmp_path / "web.summary.json").read_text())
    assert summary["aggregate"] == "max" and summary["counts"]["judgments"] == 3
    assert summary["cultures"]["Japanese"]["average"]["n_items"] == 2
    assert "| Japanese | Entities |" in (tmp_path / "web.table.md").read_text()
    assert json.loads((tmp_path / "web.run.json").read_text())["kind"] == "judge"


def test_judge_with_expected_scores_rates_every_response(tiny_model_dir, tmp_path):
    """A random tiny judge seldom writes a rating; read from its probabilities, each
    response still gets one, and every output says how the ratings were read."""
    rows = [{"question": "Who wrote The Tale of Genji?", "text": t} for t in ("Murasaki Shikibu.", "Basho.")]
    f = tmp_path / "answers.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "exp.jsonl"
    _run_inprocess(
        "judge", "--judge", f"hf:{tiny_model_dir}", "--responses", f, "--data", SAMPLE, "--judge-score",
        "expected", "--judge-max-new-tokens", "6", "--judge-retries", "0", "--out", out,
    )  # fmt: skip
    judgments = read_records(out, Judgment)
    assert len(judgments) == 2 and all(j.valid and j.score_method == "expected" for j in judgments)
    assert all(len(j.samples[0].distribution) == 10 for j in judgments)
    summary = json.loads((tmp_path / "exp.summary.json").read_text())
    assert any("expected ratings" in n for n in summary["notes"])
    assert json.loads((tmp_path / "exp.run.json").read_text())["config"]["judge_score"] == "expected"


def test_eval_care_prints_the_table_and_differences_from_a_baseline(tiny_model_dir, tmp_path):
    spec = f"hf:{tiny_model_dir}"
    common = ["eval", "care", "--model", spec, "--judge", spec, "--data", SAMPLE, "--limit", "5"]
    common += ["--max-new-tokens", "4", "--judge-max-new-tokens", "4", "--judge-retries", "0"]
    _run_inprocess(*common, "--out", tmp_path / "base")
    result = _run_inprocess(
        *common, "--mode", "roleplay", "--baseline", tmp_path / "base", "--out", tmp_path / "rp"
    )
    assert "Japanese" in result.output and "Entities" in result.output
    assert "difference from base" in result.output
    assert "5 responses judged" in result.output


# -- care-table across runs --------------------------------------------------------------------
def _j(item, rating, category, mode="vanilla", culture="Chinese", scope="national"):
    return Judgment(
        item_id=item,
        question="q",
        reference="a",
        response="r",
        category=category,
        culture=culture,
        scope=scope,
        mode=mode,
        judge="openai:gpt-4o",
        rating=rating,
        valid=rating is not None,
        status="ok" if rating is not None else "invalid",
    )


def _fake_run(folder: Path, ratings: list[float | None], mode: str = "vanilla") -> Path:
    cats = ["cultural_entities", "opinion", "social_norms", "cultural_commonsense", "literacy"]
    js = [_j(f"q{i}", r, cats[i % 5], mode) for i, r in enumerate(ratings)]
    folder.mkdir(parents=True)
    write_care_outputs(folder, js, summarize(js, label=folder.name, judge="openai:gpt-4o", mode=mode))
    return folder


@pytest.mark.parametrize("by", ["category", "scope", "mode"])
def test_care_table_across_runs(tmp_path, by):
    a = _fake_run(tmp_path / "vanilla", [5, 6, 7, 8, 4, None])
    b = _fake_run(tmp_path / "dpo", [6, 7, 7, 9, 5, 6], mode="cot")
    md, csv_out = tmp_path / "t.md", tmp_path / "t.csv"
    proc = _cli("eval", "care-table", a, b, "--by", by, "--md", md, "--csv", csv_out)
    assert proc.returncode == 0, proc.stderr
    text = md.read_text()
    rows = list(csv.DictReader(csv_out.open()))
    assert [r["run"] for r in rows] == ["vanilla", "dpo"]
    assert [r["invalid"] for r in rows] == ["1", "0"]
    if by == "category":
        assert "| Chinese | Entities | Opinion | Norms | C. sense | Literacy | Average |" in text
        assert rows[0]["Entities"] == "5.0000"  # q0 and q5 (invalid) are entities; only q0 counts
    elif by == "scope":
        assert "| Chinese | National | Average |" in text
    else:
        assert "| vanilla prompting | Chinese |" in text and "| cot prompting | Chinese |" in text


def test_care_table_with_baseline_prints_differences(tmp_path):
    a = _fake_run(tmp_path / "vanilla", [5, 6, 7, 8, 4])
    b = _fake_run(tmp_path / "dpo", [6, 7, 7, 9, 5])
    md = tmp_path / "delta.md"
    proc = _cli("eval", "care-table", b, "--baseline", a, "--md", md)
    assert proc.returncode == 0, proc.stderr
    text = md.read_text()
    one = "(n=1, too small)"  # one question per category: no interval
    assert (
        f"| vanilla | 5.00 {one} | 6.00 {one} | 7.00 {one} | 8.00 {one} | 4.00 {one} | 6.00 (n=5) |" in text
    )
    # the average pairs the five questions: differences 1, 1, 0, 1, 1
    assert f"| dpo | +1.00 {one} | +1.00 {one} | +0.00 {one} | +1.00 {one} | +1.00 {one} | +0.80 [" in text


# -- judge-agreement -----------------------------------------------------------------------------
def test_judge_agreement_command(tiny_model_dir, tmp_path):
    out = tmp_path / "agree"
    args = ["eval", "judge-agreement", "--judge", f"hf:{tiny_model_dir}", "--data", PREFS]
    result = _run_inprocess(*args, "--judge-max-new-tokens", "6", "--judge-retries", "0", "--out", out)
    report = json.loads((out / "agreement.json").read_text())
    assert report["n_responses"] == 9 and report["n_self_reference"] == 3
    assert report["stats"]["n_pairs"] + report["n_invalid"] == 9
    assert "pairs" in result.output and "rating  human  judge" in result.output
    assert (out / "histograms.png").read_bytes()[:4] == b"\x89PNG"
