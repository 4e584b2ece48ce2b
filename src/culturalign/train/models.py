"""Loading the model to align: specs, dtypes, QLoRA, adapters and the reference model.

``embedded`` is the prepared SmolLM2 folder; ``hf:PATH_OR_ID`` is any transformers
model; ``hf:DIR`` may also be a folder that ``culturalign train --lora`` wrote (an
adapter only): its adapter is merged into its base so training continues from the
aligned weights. API models (``openai:``) cannot be trained.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError, MissingDependency

log = logging.getLogger(__name__)

# ChatML with generation markers, for tokenizers that ship no chat template.
FALLBACK_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{% if message['role'] == 'assistant' %}{% generation %}{{ message['content'] + '<|im_end|>' }}"
    "{% endgeneration %}{% else %}{{ message['content'] + '<|im_end|>' }}{% endif %}{{ '\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    spec: str
    base_path: str  # what the weights were loaded from
    merged_adapter: str | None = None  # an adapter folded into the weights on load
    device: str = "cpu"
    notes: list[str] = field(default_factory=list)


def resolve_spec(spec: str) -> tuple[str, str | None, dict[str, str]]:
    """(base path or hub id, adapter folder or None, spec options)."""
    from culturalign.lm.backends.hf import check_adapter, check_model_folder
    from culturalign.lm.registry import parse_spec

    parsed = parse_spec(spec)
    if parsed.kind == "embedded":
        from culturalign.models import embedded

        return str(embedded.prepare()), None, dict(parsed.options)
    if parsed.kind != "hf":
        raise ConfigError(
            f"cannot train {spec!r}: training needs local weights; use embedded or hf:PATH_OR_ID"
        )
    base, adapter = parsed.target, parsed.options.get("adapter")
    local = Path(base)
    if adapter is None and (local / "adapter_config.json").exists() and not (local / "config.json").exists():
        adapter = base
        base = json.loads((local / "adapter_config.json").read_text())["base_model_name_or_path"]
    check_model_folder(base)  # a missing local path or adapter fails before any weights load
    if adapter is not None:
        check_adapter(adapter)
    return base, adapter, dict(parsed.options)


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def bf16_supported() -> bool:
    import torch

    # native bf16 only: an emulated one (pre-Ampere GPUs) is slow and not what CARE used
    return torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False)


def check_qlora() -> None:
    """QLoRA needs a CUDA GPU and bitsandbytes; say which is missing."""
    if importlib.util.find_spec("bitsandbytes") is None:
        raise MissingDependency("bitsandbytes", extra="qlora", why="for QLoRA (4-bit nf4 base weights)")
    if not cuda_available():
        raise ConfigError(
            "QLoRA needs a CUDA GPU (bitsandbytes 4-bit kernels); none is visible here. "
            "Use --lora for LoRA on full-precision weights instead."
        )


def _dtype(name: str | None):
    import torch

    if name in (None, "auto"):
        return torch.bfloat16 if bf16_supported() else torch.float32
    table = {
        "float32": torch.float32,
        "fp32": torch.float32,
        "bfloat16": torch.bfloat16,
        "bf16": torch.bfloat16,
    }
    if name not in table:
        raise ConfigError(f"unknown dtype {name!r} in the model spec; use float32 or bfloat16")
    return table[name]


def sharded_training() -> str | None:
    """ "ZeRO-3" or "FSDP" when ``accelerate launch`` shards the parameters, else None.

    Read from the environment accelerate sets for its processes, so it is known before
    any model loads (rank-0-only forwards on a sharded model hang; 4-bit weights need
    another storage type)."""
    env = os.environ
    if env.get("ACCELERATE_USE_FSDP", "false").lower() in ("1", "true"):
        return "FSDP"
    deepspeed = env.get("ACCELERATE_USE_DEEPSPEED", "false").lower() in ("1", "true")
    if deepspeed and env.get("ACCELERATE_DEEPSPEED_ZERO_STAGE") == "3":
        return "ZeRO-3"
    return None


def quantization_kwargs(qlora: Any, sharded: str | None) -> dict[str, Any]:
    """``from_pretrained`` arguments for QLoRA's 4-bit base weights.

    Each process normally holds its whole 4-bit model on its own GPU (``device_map``).
    Under ZeRO-3 or FSDP the weights are sharded instead, which works only when the
    4-bit values are stored in the compute dtype (``bnb_4bit_quant_storage``) and no
    ``device_map`` pins them to one device."""
    import torch
    from transformers import BitsAndBytesConfig

    compute = getattr(torch, qlora.compute_dtype)
    config: dict[str, Any] = {
        "load_in_4bit": True,
        "bnb_4bit_quant_type": qlora.quant_type,
        "bnb_4bit_use_double_quant": qlora.double_quant,
        "bnb_4bit_compute_dtype": compute,
    }
    if sharded:
        config["bnb_4bit_quant_storage"] = compute
        return {"quantization_config": BitsAndBytesConfig(**config), "dtype": compute}
    return {
        "quantization_config": BitsAndBytesConfig(**config),
        "device_map": {"": int(os.environ.get("LOCAL_RANK", "0"))},
    }


def load_model(
    spec: str, *, for_training: bool = True, qlora: Any = None, master_fp32: bool = False
) -> LoadedModel:
    """Model + tokenizer for ``spec``; ``qlora`` (QLoraSettings) loads 4-bit weights.

    ``master_fp32`` (full fine-tuning) loads float32 weights where bf16/fp16 was asked
    for or picked by "auto": the trainer then computes in bf16 (mixed precision) but
    keeps its updates in float32. Updated in bf16 directly, a weight moves only by steps
    of 2^-8 of itself, so at CARE's learning rate (5e-7) about 99% of the updates round
    away (``benchmarks/gpu/check.py`` measures it; ``tests/train/test_bf16_master_weights.py``).

    Under ``accelerate`` with ZeRO-3 or FSDP, call it after the training arguments are
    built: they switch on ZeRO-3's sharded initialisation and FSDP's rank-0-only loading,
    which ``from_pretrained`` reads when it runs."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base, adapter, options = resolve_spec(spec)
    notes: list[str] = []
    kwargs: dict[str, Any] = {"dtype": _dtype(options.get("dtype"))}
    if master_fp32 and kwargs["dtype"] != torch.float32 and not (qlora is not None and qlora.enabled):
        notes.append(
            f"full fine-tuning: float32 master weights (computed in {str(kwargs['dtype']).removeprefix('torch.')} "
            "when bf16 is on); updates made in bf16 itself would mostly round away"
        )
        kwargs["dtype"] = torch.float32
    device = "cuda" if cuda_available() else "cpu"
    if qlora is not None and qlora.enabled:
        check_qlora()
        sharded = sharded_training()
        kwargs |= quantization_kwargs(qlora, sharded)
        if sharded:
            notes.append(
                f"QLoRA under {sharded}: 4-bit weights stored as {qlora.compute_dtype}, no device_map"
            )
    tok_src = adapter if adapter and (Path(adapter) / "tokenizer_config.json").exists() else base
    try:
        tokenizer = AutoTokenizer.from_pretrained(tok_src)
        model = AutoModelForCausalLM.from_pretrained(base, **kwargs)
    except OSError as exc:
        raise ConfigError(f"cannot load model {base!r}: {exc}") from None
    if adapter:
        from culturalign.lm.backends.hf import load_adapter

        model = load_adapter(model, adapter)
        if for_training:
            if qlora is not None and qlora.enabled:
                raise ConfigError(
                    f"cannot merge the adapter {adapter} into 4-bit weights; train QLoRA from the base model"
                )
            model = model.merge_and_unload()
            notes.append(f"merged the adapter {adapter} into {base} before training")
    if not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = FALLBACK_TEMPLATE
        notes.append(f"{base} has no chat template; trained with a ChatML template (saved with the model)")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not for_training and "device_map" not in kwargs:
        model.to(device)
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        spec=spec,
        base_path=base,
        merged_adapter=adapter if for_training else None,
        device=device,
        notes=notes,
    )


def lora_config(settings: Any):
    from peft import LoraConfig

    return LoraConfig(
        r=settings.r,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=list(settings.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )


def check_lora_targets(model: Any, targets: list[str]) -> None:
    """Fail early, with the module names that exist, when LoRA targets match nothing."""
    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    missing = [t for t in targets if t not in names]
    if missing:
        linear = sorted(
            {
                n.rsplit(".", 1)[-1]
                for n, m in model.named_modules()
                if type(m).__name__ in ("Linear", "Linear4bit")
            }
        )
        raise ConfigError(
            f"lora.target_modules: {', '.join(missing)} not found in this model; its linear layers are: "
            f"{', '.join(linear)}"
        )


def reference_model(spec: str) -> Any:
    """A frozen reference model loaded on its own from ``spec`` (an adapter the spec
    names is merged, as for the policy), so TRL never reloads one from
    ``config._name_or_path`` (the base without that adapter). A second
    ``from_pretrained``, not a ``deepcopy``: a ZeRO-3-partitioned model cannot be
    copied, and a fresh load is partitioned the same way as the policy."""
    ref = load_model(spec).model
    ref.eval()
    for p in ref.parameters():
        p.requires_grad_(False)
    return ref


def frozen_copy(model: Any) -> Any:
    """A reference copied from a model that exists only in memory (the Python API with
    a model built or changed there). Refused under ZeRO-3 or FSDP: partitioned
    parameters cannot be deep-copied; ``reference_model`` loads one instead."""
    import copy

    if (sharded := sharded_training()) is not None:
        raise ConfigError(f"cannot copy a reference model under {sharded}; pass the model by its spec")
    ref = copy.deepcopy(model)
    ref.eval()
    for p in ref.parameters():
        p.requires_grad_(False)
    return ref
