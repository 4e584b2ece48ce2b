"""The training part of the GPU check: DPO with LoRA and full DPO, with and without
gradient checkpointing, through ``culturalign.train.run.train`` (the function the CLI
calls), then the adapter a 2-step LoRA run wrote, loaded as ``hf:DIR+device=DEVICE``.

Peak memory is the GPU allocator's peak for that run alone (reset before each run); on
a CPU only the process's peak RSS exists, which never goes down, so it is reported once.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

from measure import OPTIONS, collect, gen_requests, pairs, score_requests

VARIANTS = [
    ("lora", False),
    ("lora", True),
    ("full", False),
    ("full", True),
]


def free(device: str) -> None:
    import torch

    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()


def write_pairs(path: Path, n: int) -> Path:
    path.write_text("".join(json.dumps(p) + "\n" for p in pairs(n)), encoding="utf-8")
    return path


def dpo_run(
    model_dir: Path,
    data: Path,
    out: Path,
    *,
    lora: bool,
    checkpointing: bool,
    steps: int,
    batch: int,
    dtype: str | None = None,
) -> Any:
    from culturalign.train.run import train

    config = {
        "preset": "care-paper",
        "learning_rate": 5e-7,  # CARE's (the care-paper preset's): the size of update bf16 can lose
        "max_steps": steps,
        "per_device_batch_size": batch,
        "gradient_accumulation_steps": 1,
        "warmup_steps": 0,
        "save_steps": 10_000,
        "max_length": 256,
        "gradient_checkpointing": checkpointing,
        "heldout": {"measure": False},
        "lora": {"enabled": lora},
    }
    spec = f"hf:{model_dir}" + (f"+dtype={dtype}" if dtype else "")
    return train("dpo", spec, data, out, config=config, lora=lora)


def training(
    model_dir: Path, work: Path, device: str, steps: int, batch: int, dtype: str | None = None
) -> dict[str, float]:
    """steps/s and peak GPU memory for each (LoRA or full) x (checkpointing or not).

    ``dtype`` is passed in the model spec (``+dtype=``); None leaves it to ``train``
    ("auto": bf16 on a GPU, fp32 on a CPU)."""
    import torch

    data = write_pairs(work / "pairs.jsonl", steps * batch)
    out: dict[str, float] = {}
    for kind, ckpt in VARIANTS:
        name = f"dpo_{kind}{'_gc' if ckpt else ''}"
        free(device)
        if device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        result = dpo_run(
            model_dir,
            data,
            work / name,
            lora=kind == "lora",
            checkpointing=ckpt,
            steps=steps,
            batch=batch,
            dtype=dtype,
        )
        if result.steps != steps:
            raise RuntimeError(f"{name} ran {result.steps} steps, not {steps}")
        loss = result.metrics.get("train_loss")
        if loss is None or loss != loss:
            raise RuntimeError(f"{name} logged no finite training loss: {result.metrics}")
        out[f"{name}_steps_per_s"] = result.steps / result.metrics["train_runtime"]
        if name == "dpo_full":
            out["dpo_full_layer_weights_changed"] = changed_fraction(model_dir, work / name)
        if device.startswith("cuda"):
            out[f"{name}_peak_gpu_gb"] = torch.cuda.max_memory_allocated() / 2**30
        del result
    free(device)
    return out


def changed_fraction(before: Path, after: Path) -> float:
    """Share of the transformer layers' weights that training changed at all: with pure
    bf16 weights an update far below a weight's last bf16 digit is rounded away."""
    old, new = _weights(before), _weights(after)
    changed = total = 0
    for key, tensor in old.items():
        if ".layers." in key:
            changed += int((new[key].float() != tensor.float()).sum())
            total += tensor.numel()
    return changed / max(total, 1)


def _weights(folder: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    out: dict[str, Any] = {}
    for f in sorted(folder.glob("*.safetensors")):
        out.update(load_file(str(f)))
    if not out:
        raise RuntimeError(f"no safetensors weights in {folder}")
    return out


def adapter_loads(model_dir: Path, work: Path, device: str, dtype: str | None = None) -> dict[str, Any]:
    """A 2-step DPO+LoRA run; its folder must load as ``hf:DIR+device=DEVICE``, on that
    device, with the adapter applied, and answer a generation and a scoring request."""
    from culturalign.lm import load_lm

    data = write_pairs(work / "pairs2.jsonl", 4)
    out = work / "adapter-2step"
    dpo_run(model_dir, data, out, lora=True, checkpointing=False, steps=2, batch=2, dtype=dtype)
    free(device)
    lora_b = {k: v for k, v in _weights(out).items() if "lora_B" in k}
    moved = sum(int((v != 0).sum()) for v in lora_b.values()) / max(
        sum(v.numel() for v in lora_b.values()), 1
    )
    lm = load_lm(f"hf:{out}+device={device}", cache=None)
    backend = lm.backend
    # the backend's own result: a random model's reply may be blank, which the LM layer
    # would count as a failed call; that it produced its tokens is what matters here
    reply = collect(backend.generate, gen_requests(1, 4))[0]
    scored = collect(backend.score, score_requests(1))
    params = next(backend.model.parameters())
    ok = (
        (out / "adapter_config.json").exists()
        and backend.adapter is not None
        and type(backend.model).__name__.startswith("Peft")
        and str(params.device).startswith(device)
        and reply.error is None
        and reply.completion_tokens > 0
        and scored[0].error is None
        and len(scored[0].logprobs) == len(OPTIONS)
        and moved > 0.5  # LoRA's B matrices start at zero: two steps must move them
    )
    detail = {
        "adapter_config": (out / "adapter_config.json").exists(),
        "lora_b_nonzero": round(moved, 4),
        "model_class": type(backend.model).__name__,
        "param_device": str(params.device),
        "reply_error": reply.error,
        "reply_tokens": reply.completion_tokens,
        "score_error": scored[0].error,
    }
    del lm, backend, params
    free(device)
    return {"ok": ok, "detail": detail}
