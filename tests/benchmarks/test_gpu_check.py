"""benchmarks/gpu/check.py at the tiny size on the CPU, as CI runs it (``make gpu-check``
without a GPU): every section runs, every correctness check passes, and the JSON file
holds the figures the README's GPU table is filled from.

The test passes the tiny test model's tokenizer (512 tokens) instead of SmolLM2's
(49k): with the real one, TRL's dataset fingerprinting pickles the tokenizer for
several seconds in each of the five training runs. ``make gpu-check`` uses the real one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHECK = REPO / "benchmarks" / "gpu" / "check.py"


@pytest.mark.slow
def test_gpu_check_runs_on_cpu_at_tiny_size(tiny_model_dir, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CULTURALIGN_PROGRESS": "0"}
    cmd = [sys.executable, str(CHECK), "--device", "cpu", "--tiny", "--only", "qwen2-tiny"]
    cmd += ["--tokenizer", str(tiny_model_dir), "--out", str(tmp_path / "out")]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    report = json.loads((tmp_path / "out" / "gpu-check.json").read_text())
    res, checks = report["results"], report["checks"]
    assert set(checks) == {
        "qwen2-tiny.greedy_batched_equals_alone_fp32",
        "qwen2-tiny.logprobs_device_vs_cpu_fp32",
        "qwen2-tiny.full_dpo_changes_weights_at_lr_5e-7",
        "qwen2-tiny.dpo_adapter_loads",
    }
    assert all(c["ok"] for c in checks.values()), checks
    assert checks["qwen2-tiny.logprobs_device_vs_cpu_fp32"]["value"] < 1e-2
    # the comparison can tell scores apart: they are far from uniform
    assert checks["qwen2-tiny.logprobs_device_vs_cpu_fp32"]["spread"] > 1.0
    for b in (1, 8, 32, 128):
        assert res[f"qwen2-tiny.gen_tokens_per_s_b{b}"] > 0
    # on a CPU the out-of-memory error is injected above 8 rows: 64 -> 32 -> 16 -> 8
    assert res["qwen2-tiny.backoff_settled_batch"] == 8
    assert res["qwen2-tiny.score_max_abs_diff_prefix_vs_loop"] < 1e-3
    for name in ("dpo_lora", "dpo_lora_gc", "dpo_full", "dpo_full_gc"):
        assert res[f"qwen2-tiny.{name}_steps_per_s"] > 0
    assert res["qwen2-tiny.gap_pairs_per_s"] > 0
    assert report["meta"]["tiny"] is True and report["meta"]["versions"]["torch"] != "absent"
    # the printed lines are the same figures, one `name: value` per line
    lines = dict(line.split(": ", 1) for line in proc.stdout.splitlines() if ": " in line)
    assert lines["qwen2-tiny.backoff_settled_batch"] == "8"
    assert lines["check qwen2-tiny.dpo_adapter_loads"].startswith("ok")
