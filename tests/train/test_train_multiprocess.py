"""Two training processes (torchrun, gloo on the CPU) against one, for every method the
multi-process path treats differently: DPO and KTO with reference log-probabilities
computed before training (TRL caches them next to the dataset's file, which every
process must share), KTO and SFT. Each gives the same number of steps and the same
held-out gap as one process with the same effective batch (2 per process x 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from train_helpers import make_pairs, write_jsonl

from culturalign.train.run import train

CASES = {
    "dpo-precompute": ("dpo", {"dpo": {"precompute_ref_log_probs": True}}),
    "kto-precompute": ("kto", {"kto": {"precompute_ref_log_probs": True}}),
    "kto": ("kto", {}),
    "sft": ("sft", {}),
}


def _sets(prefix: str, tree: dict) -> list[str]:
    out = []
    for k, v in tree.items():
        out += _sets(f"{prefix}{k}.", v) if isinstance(v, dict) else [f"{prefix}{k}={json.dumps(v)}"]
    return out


def torchrun_train(method: str, spec: str, data, out, settings: dict) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    cmd += ["-m", "culturalign", "train", method, "--model", spec, "--data", str(data)]
    cmd += ["--out", str(out), "--preset", "tiny-test"]
    for s in _sets("", settings):
        cmd += ["--set", s]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CULTURALIGN_PROGRESS": "0"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("case", list(CASES))
def test_two_processes_match_one(case, tiny_spec, tmp_path):
    method, settings = CASES[case]
    data = write_jsonl(tmp_path / "pairs.jsonl", make_pairs(24))
    single = train(method, tiny_spec, data, tmp_path / "one", config={"preset": "tiny-test", **settings})
    out = tmp_path / "two"
    proc = torchrun_train(method, tiny_spec, data, out, settings)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert proc.stdout.count("saved to") == 1  # one summary, from the main process
    result = json.loads((out / "culturalign-train.json").read_text())["result"]
    assert result["effective_batch"] == single.effective_batch == 4
    assert result["steps"] == single.steps > 0
    if method == "sft":  # SFT from pairs keeps a held-out set too: the chosen answers' gap
        assert single.gap_after is not None
    assert result["gap_before"]["gap"] == pytest.approx(single.gap_before.gap, abs=1e-4)
    assert result["gap_after"]["gap"] == pytest.approx(single.gap_after.gap, rel=1e-2, abs=1e-3)
    if "precompute" in case:
        assert any("computed before training" in n for n in result["notes"])
