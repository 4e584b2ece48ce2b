"""`culturalign generate` end to end on the tiny model: outputs, summary, bad input, and a
run killed with SIGKILL halfway that resumes without paying for anything twice."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from culturalign.cli import app
from culturalign.generate import summary_path
from culturalign.io import read_records, write_records
from culturalign.lm.cache import CallCache
from culturalign.records import CulturalQuestion, ModelResponse

TOPICS = ["tea", "greetings", "weddings", "gifts", "festivals", "food", "music", "dress"]


def _write_questions(path, n: int) -> list[CulturalQuestion]:
    qs = [
        CulturalQuestion(
            id=f"q{i:03d}",
            text=f"关于{TOPICS[i % len(TOPICS)]}的问题 {i}？",
            text_en=f"A question about {TOPICS[i % len(TOPICS)]}, number {i}?",
            language="zh",
            culture="Chinese",
            category="Social norms",
        )
        for i in range(n)
    ]
    write_records(path, qs)
    return qs


def _env() -> dict[str, str]:
    return {**os.environ, "CULTURALIGN_PROGRESS": "0", "OMP_NUM_THREADS": "1"}


def test_generate_writes_responses_and_a_summary(tiny_model_dir, tmp_path):
    data = tmp_path / "q.jsonl"
    _write_questions(data, 5)
    out = tmp_path / "r.jsonl"
    args = ["generate", "--model", f"hf:{tiny_model_dir}", "--data", str(data), "--out", str(out)]
    args += ["--mode", "roleplay", "--lang", "en", "-k", "2", "--limit", "4", "--max-new-tokens", "5"]
    args += ["--limit-order", "file"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "calls made 8" in result.output and "cache hits 0" in result.output
    rows = read_records(out, ModelResponse)
    # --limit-order file: the first 4 questions, each sampled twice, in file order
    assert [(r.item_id, r.sample_index) for r in rows] == [(f"q{i:03d}", k) for i in range(4) for k in (0, 1)]
    assert all(r.mode == "roleplay" and r.lang == "en" and r.question.startswith("A question") for r in rows)
    assert "Chinese" in rows[0].messages[0].content  # the role-play system message names the culture
    summary = json.loads(summary_path(out).read_text())
    assert summary["items"] == 4 and summary["responses"] == 8 and summary["calls"] == 8
    assert summary["identity"]["backend"] == "hf" and summary["template_sha"]
    again = CliRunner().invoke(app, args)
    assert "calls made 0" in again.output and "cache hits 8" in again.output


def test_own_mode_file_and_system_prompt_file(tiny_model_dir, tmp_path):
    data = tmp_path / "q.jsonl"
    _write_questions(data, 2)
    modes = tmp_path / "modes"
    modes.mkdir()
    (modes / "brief.txt").write_text("### user\nAnswer briefly, as someone from {culture}: {question}\n")
    system = tmp_path / "system.txt"
    system.write_text("You answer in one sentence.\n")
    out = tmp_path / "r.jsonl"
    args = ["generate", "--model", f"hf:{tiny_model_dir}", "--data", str(data), "--out", str(out)]
    args += ["--mode", "brief", "--templates", str(modes), "--system-prompt", f"@{system}"]
    args += ["--max-new-tokens", "3", "--temperature", "0"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    row = read_records(out, ModelResponse)[0]
    assert [m.role for m in row.messages] == ["system", "user"]
    assert row.messages[0].content == "You answer in one sentence."
    assert row.messages[1].content.startswith("Answer briefly, as someone from Chinese: 关于")


def test_bad_input_is_a_located_error_with_exit_2_and_no_model_load(tmp_path):
    data = tmp_path / "q.jsonl"
    data.write_text(
        '{"id": "a", "text": "Q?", "language": "en", "culture": "X"}\n{"id": "b", "text": "", "language": "en", "culture": "X"}\n'
    )
    base = [sys.executable, "-m", "culturalign", "generate", "--model", "hf:/nonexistent/model"]
    bad = subprocess.run([*base, "--data", str(data), "--out", str(tmp_path / "o.jsonl")],
                         env=_env(), capture_output=True, text=True, timeout=120)  # fmt: skip
    assert bad.returncode == 2
    assert f"{data}:2" in bad.stderr and "text" in bad.stderr and "Traceback" not in bad.stderr
    mode = subprocess.run([*base, "--data", str(data), "--out", str(tmp_path / "o.jsonl"), "--mode", "poetic"],
                          env=_env(), capture_output=True, text=True, timeout=120)  # fmt: skip
    assert mode.returncode == 2 and "unknown prompting mode 'poetic'" in mode.stderr


def _stored(db) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
            return con.execute("SELECT COUNT(*) FROM calls WHERE status = 'ok'").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


@pytest.mark.slow
def test_sigkill_halfway_then_rerun_pays_for_each_item_once(tiny_model_dir, tmp_path):
    n = 40
    data = tmp_path / "q.jsonl"
    questions = _write_questions(data, n)
    db, out = tmp_path / "calls.sqlite", tmp_path / "r.jsonl"
    cmd = [sys.executable, "-m", "culturalign", "generate", "--model", f"hf:{tiny_model_dir}+batch_size=2",
           "--data", str(data), "--out", str(out), "--temperature", "0", "--max-new-tokens", "64",
           "--cache", str(db)]  # fmt: skip
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None and _stored(db) < 6:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL, "the first run ended before it could be killed"
    at_kill = _stored(db)
    assert 0 < at_kill < n
    assert not out.exists()  # the final file is written only at the end; answers so far are in the cache

    rerun = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    rows = read_records(out, ModelResponse)
    assert len(rows) == n and [r.item_id for r in rows] == [q.id for q in questions]
    assert all(r.text is not None and r.error is None for r in rows)
    summary = json.loads(summary_path(out).read_text())
    assert summary["cache_hits"] == at_kill and summary["calls"] == n - at_kill
    # over both runs, one finished model call per item: nothing was paid for twice
    assert CallCache(db).total_attempts() == n
    assert not out.with_name(out.name + ".partial").exists()
