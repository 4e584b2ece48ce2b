"""The core install on its own: a venv made by ``.ci/lean.sh`` (``pip install -e .``, no
extras) holds no torch, transformers, TRL or web stack, yet ``culturalign eval care`` and
``culturalign report`` run against a local OpenAI-compatible server, the Python API
works, and every feature that needs an extra says which one, with exit status 2.

``make test`` builds that venv in the background while the main suite runs, then runs
this file with ``CULTURALIGN_LEAN_VENV`` set to it; without the variable the file is
skipped (building the venv takes about a minute, which the main suite should not pay
twice). By hand: ``.ci/lean.sh /tmp/lean && CULTURALIGN_LEAN_VENV=/tmp/lean pytest
tests/lean``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lm"))
from _fake_openai_server import scripted_server

LEAN = os.environ.get("CULTURALIGN_LEAN_VENV")
pytestmark = pytest.mark.skipif(
    not LEAN, reason="set CULTURALIGN_LEAN_VENV to a venv built by .ci/lean.sh (make test does)"
)
CARE = Path(__file__).resolve().parents[1] / "evals" / "fixtures" / "care_sample.json"
PAIRS = Path(__file__).resolve().parents[1] / "evals" / "fixtures" / "care_prefs_sample.jsonl"
# what the core must not pull in
HEAVY = ("torch", "transformers", "trl", "peft", "accelerate", "datasets", "sentence_transformers")
WEB = ("fastapi", "uvicorn", "sqlalchemy", "jinja2")


@pytest.fixture(scope="module")
def venv() -> Path:
    """The lean venv, once .ci/lean.sh has finished building it (it may still be running)."""
    assert LEAN
    path, done = Path(LEAN), Path(f"{LEAN}.rc")
    deadline = time.monotonic() + 900
    while not done.exists():
        if time.monotonic() > deadline:
            pytest.fail(f"{done} did not appear within 15 minutes: is .ci/lean.sh {LEAN} running?")
        time.sleep(1)
    rc, _seconds = done.read_text().split()
    log = Path(f"{LEAN}.log")
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    assert rc == "0", f"pip install -e . (the core alone) failed with status {rc}:\n{tail}"
    return path


@pytest.fixture(scope="module")
def server():
    with scripted_server() as (url, counts):
        yield url, counts


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "CULTURALIGN_CACHE": str(tmp_path / "calls.sqlite"), "COLUMNS": "200"}


def _cli(venv: Path, tmp_path: Path, *args: object) -> subprocess.CompletedProcess:
    cmd = [str(venv / "bin" / "culturalign"), *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=_env(tmp_path))


def test_the_core_holds_no_torch_and_no_web_stack(venv):
    code = f"import importlib.util as u; print([m for m in {HEAVY + WEB!r} if u.find_spec(m)])"
    proc = subprocess.run([venv / "bin" / "python", "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_eval_care_and_report_against_a_local_server(venv, server, tmp_path):
    url, counts = server
    run, report = tmp_path / "run", tmp_path / "report"
    care = _cli(
        venv, tmp_path, "eval", "care", "--model", f"openai:writer@{url}", "--judge", f"openai:judge@{url}",
        "--data", CARE, "--limit", "5", "--out", run,
    )  # fmt: skip
    assert care.returncode == 0, care.stderr
    assert "5 responses judged: 5 rated" in care.stdout
    judgments = [json.loads(line) for line in (run / "judgments.jsonl").read_text().splitlines()]
    assert len(judgments) == 5 and all(1 <= j["rating"] <= 10 for j in judgments)
    assert counts["writer"] >= 5 and counts["judge"] >= 5

    made = _cli(venv, tmp_path, "report", run, "--out", report)
    assert made.returncode == 0, made.stderr
    html = Path(f"{report}.html").read_text(encoding="utf-8")
    assert "CARE" in html and "Japanese" in html
    assert list(Path(f"{report}_files").glob("*.png")), "the report's plots (matplotlib) are missing"


def test_the_python_api_on_the_core(venv, server, tmp_path):
    url, _ = server
    code = (
        "import sys, culturalign\n"
        f"r = culturalign.evaluate('care', 'openai:writer@{url}', {str(CARE)!r}, judge='openai:judge@{url}', limit=3)\n"
        "print(r.summary['overall']['n_rated'], len(r.records), r.out_dir)\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    proc = subprocess.run(
        [venv / "bin" / "python", "-c", code], capture_output=True, text=True, timeout=300, env=_env(tmp_path)
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["3 3 None", "[]"]


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (("train", "dpo", "--model", "hf:some/model", "--data", PAIRS, "--out", "{tmp}/t"), "train"),
        (
            (
                "eval",
                "care",
                "--model",
                "hf:some/model",
                "--judge",
                "openai:j",
                "--data",
                CARE,
                "--out",
                "{tmp}/c",
            ),
            "hf",
        ),
        (("annotate", "users", "list", "--db", "{tmp}/a.sqlite"), "annotate"),
        (("data", "convert", CARE, "{tmp}/ds", "--to", "hf"), "hub"),
    ],
    ids=["train", "hf-model", "annotate", "hub-dataset"],
)
def test_a_missing_extra_names_its_install_line(venv, tmp_path, args, extra):
    proc = _cli(venv, tmp_path, *(str(a).format(tmp=tmp_path) for a in args))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert f"pip install 'culturalign[{extra}]'" in proc.stderr, proc.stderr
