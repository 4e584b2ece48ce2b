"""Two training processes (torchrun, gloo on the CPU) against one, for every method the
multi-process path treats differently: DPO and KTO with reference log-probabilities
computed before training (TRL caches them next to the dataset's file, which every
process must share), KTO and SFT. Each gives the same number of steps and the same
held-out gap as one process with the same effective batch (2 per process x 2).

All four cases train inside one torchrun launch (tests/train/torchrun_cases.py): the
launch and the imports in two processes cost more than the tiny trainings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from train_helpers import make_pairs, write_jsonl

from culturalign.train.run import train

CASES = {
    "dpo-precompute": ("dpo", {"dpo": {"precompute_ref_log_probs": True}}),
    "kto-precompute": ("kto", {"kto": {"precompute_ref_log_probs": True}}),
    "kto": ("kto", {}),
    "sft": ("sft", {}),
}


CASES_SCRIPT = Path(__file__).with_name("torchrun_cases.py")


@pytest.fixture(scope="module")
def two_process_runs(tiny_model_dir, tmp_path_factory) -> tuple[Path, Path]:
    """Every case trained once in two processes; returns (data file, output root)."""
    root = tmp_path_factory.mktemp("multiprocess")
    data = write_jsonl(root / "pairs.jsonl", make_pairs(24))
    out = root / "two"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    cmd += [str(CASES_SCRIPT), f"hf:{tiny_model_dir}", str(data), str(out), json.dumps(CASES)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CULTURALIGN_PROGRESS": "0"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=400, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return data, out


@pytest.mark.slow
@pytest.mark.timeout(450)
@pytest.mark.parametrize("case", list(CASES))
def test_two_processes_match_one(case, two_process_runs, tiny_spec, tmp_path):
    method, settings = CASES[case]
    data, two = two_process_runs
    single = train(method, tiny_spec, data, tmp_path / "one", config={"preset": "tiny-test", **settings})
    result = json.loads((two / case / "culturalign-train.json").read_text())["result"]
    assert result["effective_batch"] == single.effective_batch == 4
    assert result["steps"] == single.steps > 0
    if method == "sft":  # SFT from pairs keeps a held-out set too: the chosen answers' gap
        assert single.gap_after is not None
    assert result["gap_before"]["gap"] == pytest.approx(single.gap_before.gap, abs=1e-4)
    assert result["gap_after"]["gap"] == pytest.approx(single.gap_after.gap, rel=1e-2, abs=1e-3)
    if "precompute" in case:
        assert any("computed before training" in n for n in result["notes"])
