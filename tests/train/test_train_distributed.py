"""The same training code in two processes (torchrun, gloo on the CPU): gradient
accumulation is worked out per process count, only the main process writes the
outputs, and the result matches one process with the same effective batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from culturalign.train.run import train


@pytest.mark.slow
def test_two_cpu_processes_match_one_process(tiny_spec, pairs_file, tmp_path):
    single = train("dpo", tiny_spec, pairs_file, tmp_path / "single", config={"preset": "tiny-test"})
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    cmd += ["-m", "culturalign", "train", "dpo", "--model", tiny_spec, "--data", str(pairs_file)]
    cmd += ["--out", str(out), "--preset", "tiny-test"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CULTURALIGN_PROGRESS": "0"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("saved to") == 1  # one summary, from the main process
    result = json.loads((out / "culturalign-train.json").read_text())["result"]
    # 2 pairs per process x 2 processes = the effective batch of 4, without accumulation
    assert result["effective_batch"] == single.effective_batch == 4
    assert result["steps"] == single.steps
    assert result["gap_after"]["gap"] == pytest.approx(single.gap_after.gap, rel=1e-2)
    assert (out / "model.safetensors").is_file() and (out / "curves.png").is_file()
