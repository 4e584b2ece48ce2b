"""The synth commands on a tiny random model: files written, run logs, located errors."""

from __future__ import annotations

import json
import subprocess
import sys

from culturalign.io import read_records
from culturalign.records.synth import AdaptedQuestion, CulturalSample, SynthQuestion


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "culturalign", *args], capture_output=True, text=True, timeout=300
    )


def test_synth_commands_on_a_tiny_model(tiny_model_dir, tmp_path):
    model = f"hf:{tiny_model_dir}"
    q = tmp_path / "q.jsonl"
    res = _run(
        "synth", "questions", "--model", model, "--topics", "food", "--k", "2", "--rounds", "1",
        "--embedder", "none", "--max-new-tokens", "8", "--out", str(q),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    read_records(q, SynthQuestion)  # random weights write gibberish: usually no questions
    log = json.loads((tmp_path / "q.jsonl.run.json").read_text())
    assert log["kind"] == "synth-questions" and log["stats"]["prompts"] == 2
    assert log["models"]["generator"]["backend"] == "hf"

    general = tmp_path / "general.jsonl"
    general.write_text('{"id": "g1", "text": "How do you greet your neighbours?"}\n')
    a = tmp_path / "a.jsonl"
    res = _run(
        "synth", "adapt", "--model", model, "--data", str(general), "--cultures", "Japan,Brazil",
        "--retries", "0", "--max-new-tokens", "8", "--out", str(a),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    adapted = read_records(a, AdaptedQuestion)
    assert [x.id for x in adapted] == ["g1@japan", "g1@brazil"]
    assert all(set(x.probe_answers) == {"Japan", "Brazil"} for x in adapted)

    s = tmp_path / "s.jsonl"
    res = _run(
        "synth", "respond", "--model", model, "--data", str(general), "--targets", "Japan",
        "--cultures", "Japan,Brazil", "--max-new-tokens", "8", "--out", str(s),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    samples = read_records(s, CulturalSample)
    assert [x.id for x in samples] == ["g1@japan"] and list(samples[0].other_responses) == ["Brazil"]


def test_synth_bad_inputs_exit_2_with_located_messages(tmp_path):
    fw = tmp_path / "fw.yaml"
    fw.write_text("levels:\n  - id: x\n    topics:\n      - id: t\n        name: T\n")
    res = _run("synth", "questions", "--framework", str(fw), "--out", str(tmp_path / "q.jsonl"))
    assert res.returncode == 2 and f"{fw}: levels[0].topics[0].description" in res.stderr
    assert "Traceback" not in res.stderr
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"id": "g1", "text": "Fine?"}\n{"id": "g2"}\n')
    res = _run("synth", "adapt", "--data", str(bad), "--out", str(tmp_path / "a.jsonl"))
    assert res.returncode == 2 and f"{bad}:2: text: required field is missing" in res.stderr
    res = _run("synth", "export", "--data", str(bad))
    assert res.returncode == 2 and "--sft" in res.stderr


def test_synth_bad_option_values_exit_2_before_any_call(tmp_path):
    """Both used to run the whole stage (minutes on a real model) with a useless setting."""
    out = tmp_path / "q.jsonl"
    res = _run("synth", "questions", "--out", str(out), "--cultures", " , ")
    assert res.returncode == 2 and "--cultures ' , ' names no culture" in res.stderr
    res = _run("synth", "questions", "--out", str(out), "--dedup-threshold", "5")
    assert res.returncode == 2 and "Invalid value for '--dedup-threshold'" in res.stderr
    assert "Traceback" not in res.stderr and not out.exists()
