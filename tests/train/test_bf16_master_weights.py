"""Full fine-tuning from bf16 weights must keep its updates (found by benchmarks/gpu/check.py).

On a GPU ``train`` loads the weights in bf16 (``dtype`` "auto"). Full fine-tuning then
updates bf16 weights directly: an AdamW step moves a weight by about the learning rate,
and at CARE's 5e-7 that is far below the last bf16 digit of a typical weight (2^-8 of
it), so nearly every update rounds away and the model does not train. Mixed precision
keeps float32 master weights and computes in bf16. ``+dtype=bfloat16`` reproduces the
GPU's loading on a CPU.

Full fine-tuning therefore loads float32 master weights (``load_model(master_fp32=True)``).
"""

from __future__ import annotations

import pytest
from train_helpers import make_pairs, write_jsonl


def _layer_weights(folder):
    from safetensors.torch import load_file

    out = {}
    for f in sorted(folder.glob("*.safetensors")):
        out.update(load_file(str(f)))
    return {k: v for k, v in out.items() if ".layers." in k}


@pytest.mark.slow
def test_full_dpo_from_bf16_weights_keeps_small_updates(tiny_model_dir, tmp_path):
    import torch

    from culturalign.train.run import train

    data = write_jsonl(tmp_path / "pairs.jsonl", make_pairs(8))
    config = {
        "preset": "tiny-test",
        "learning_rate": 5e-7,
        "max_steps": 2,
        "per_device_batch_size": 2,
        "gradient_accumulation_steps": 1,
        "warmup_steps": 0,
        "heldout": {"measure": False},
    }
    out = tmp_path / "out"
    train("dpo", f"hf:{tiny_model_dir}+dtype=bfloat16", data, out, config=config)
    before = {k: v.to(torch.bfloat16).float() for k, v in _layer_weights(tiny_model_dir).items()}
    after = _layer_weights(out)
    changed = sum(int((after[k].float() != v).sum()) for k, v in before.items())
    total = sum(v.numel() for v in before.values())
    # float32 master weights: every weight with a gradient moves (0.99+ on this model);
    # bf16 weights: a few percent do
    assert changed / total > 0.5, f"only {changed / total:.1%} of the layer weights changed"
