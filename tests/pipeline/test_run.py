"""A tiny experiment end to end: stages, skip-if-unchanged, resume after SIGKILL, report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest


def _run(exp: Path, out: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "culturalign", "run", str(exp), "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


@pytest.mark.slow
def test_tiny_experiment_resumes_after_kill_then_skips_everything(tiny_experiment, tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "CULTURALIGN_CACHE": str(tmp_path / "calls.sqlite")}
    # Die by SIGKILL the moment train:dpo is on disk. Polling stages.json from here raced:
    # on a quiet machine the stages after training finished before the poll saw the line.
    killer = (
        "import os, signal, sys\n"
        "from culturalign.pipeline.stages import StageBook\n"
        "_record = StageBook.record\n"
        "def record(self, stage, *a, **k):\n"
        "    _record(self, stage, *a, **k)\n"
        "    if stage.name == 'train:dpo':\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "StageBook.record = record\n"
        "from culturalign.cli import main\n"
        "sys.argv = ['culturalign', 'run', sys.argv[1], '--out', sys.argv[2]]\n"
        "main()\n"
    )
    killed = subprocess.run(
        [sys.executable, "-c", killer, str(tiny_experiment), str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    stages = out / "stages.json"
    done_before = json.loads(stages.read_text())
    assert "train:dpo" in done_before and "report" not in done_before

    second = _run(tiny_experiment, out, env)
    assert second.returncode == 0, second.stderr
    assert "train:dpo: unchanged, skipped" in second.stderr
    done = json.loads(stages.read_text())
    assert {"data:split", "data:pairs", "train:dpo", "report"} <= done.keys()
    assert any(k.startswith("eval:care:dpo") for k in done)
    assert (out / "train" / "dpo" / "adapter_config.json").exists()
    summary = json.loads((out / "eval" / "care" / "base" / "vanilla-en" / "summary.json").read_text())
    assert summary["model"].startswith("hf:")

    third = _run(tiny_experiment, out, env)
    assert third.returncode == 0
    assert "8 skipped" in third.stdout.replace("\n", " ") and "0 model calls" in third.stdout.replace(
        "\n", " "
    )


def test_changed_input_reruns_only_its_stages(tiny_experiment, tmp_path):
    from culturalign.pipeline.experiment import load_experiment
    from culturalign.pipeline.runner import Runner

    exp = load_experiment(tiny_experiment)
    exp.train = []
    exp.evaluations = [e for e in exp.evaluations if e.kind == "opinions"]
    exp.data.preferences = None
    out = tmp_path / "run"
    first = Runner(exp, tiny_experiment, out, cache=None).run()
    assert first["ran"] == ["data:split", "eval:opinions:base:vanilla-native", "report"]
    again = Runner(exp, tiny_experiment, out, cache=None).run()
    assert again["ran"] == [] and len(again["skipped"]) == 3
    exp.evaluations[0].limit = 2  # a config change re-runs that evaluation and the report
    changed = Runner(exp, tiny_experiment, out, cache=None).run()
    assert changed["ran"] == ["eval:opinions:base:vanilla-native", "report"]
