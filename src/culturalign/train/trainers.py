"""One TRL trainer per algorithm, configured from a ``TrainConfig``.

DPO, KTO and SFT are TRL's own trainers; SimPO is TRL's CPO trainer with its SimPO
loss (``loss_type="simpo"``, no behaviour-cloning term). TRL's defaults assume a GPU
(bf16, gradient checkpointing, tiny learning rates), so every one of those settings is
set explicitly here from the config, never left to TRL.

The reference model of DPO and KTO (paper 000 §4.1) is always explicit: with LoRA it
is the base with the adapter switched off (TRL does this); otherwise either a frozen
copy of the starting model is passed in, or the reference log-probabilities are
computed once before training (``precompute_ref_log_probs``). TRL is never left to
reload a reference from ``config._name_or_path``, which silently picks whatever
weights lie on disk.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError
from culturalign.train.presets import TrainConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchPlan:
    per_device: int
    accumulation: int
    world_size: int
    note: str | None = None
    # the warm-up the run gets (None: the config's), and why it differs
    warmup_steps: int | None = None
    warmup_note: str | None = None

    @property
    def effective(self) -> int:
        return self.per_device * self.accumulation * self.world_size


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def plan_batches(cfg: TrainConfig, n_train: int, world: int | None = None) -> BatchPlan:
    """Gradient accumulation giving CARE's effective batch (128) on this many processes.

    A data set smaller than one effective batch would give less than one optimizer step
    per epoch, so accumulation is capped at the data size, and the note says so.
    """
    world = world or world_size()
    per = cfg.per_device_batch_size
    if cfg.gradient_accumulation_steps is not None:
        accumulation = cfg.gradient_accumulation_steps
        warmup = plan_warmup(cfg, optimizer_steps(cfg, n_train, per, accumulation, world))
        return BatchPlan(per, accumulation, world, None, *warmup)
    wanted = max(1, math.ceil(cfg.effective_batch_size / (per * world)))
    fits = max(1, math.ceil(n_train / (per * world)))
    note = None
    if wanted > fits:
        note = (
            f"effective batch {cfg.effective_batch_size} needs {wanted} accumulation steps, but there are only "
            f"{n_train} training examples: using {fits} (effective batch {per * fits * world})"
        )
        wanted = fits
    elif per * wanted * world != cfg.effective_batch_size:
        note = (
            f"effective batch {cfg.effective_batch_size} is not a multiple of {per} x {world}: "
            f"using {per * wanted * world}"
        )
    warmup, warmup_note = plan_warmup(cfg, optimizer_steps(cfg, n_train, per, wanted, world))
    return BatchPlan(per, wanted, world, note, warmup, warmup_note)


def optimizer_steps(cfg: TrainConfig, n_train: int, per: int, accumulation: int, world: int) -> int:
    """How many optimizer steps the trainer will take, counted as transformers counts them."""
    if cfg.max_steps > 0:
        return cfg.max_steps
    batches = max(1, math.ceil(n_train / (per * world)))
    per_epoch = max(1, math.ceil(batches / accumulation))
    return max(1, math.ceil(cfg.epochs * per_epoch))


def plan_warmup(cfg: TrainConfig, steps: int) -> tuple[int, str | None]:
    """The scheduler's warm-up starts at learning rate 0, so a warm-up as long as the whole
    run trains nothing at all on a one-step run (a toy experiment's 6 pairs at batch 8)
    and little on a short one; there it shrinks to a tenth of the steps, and says so."""
    if cfg.warmup_steps < steps:
        return cfg.warmup_steps, None
    shorter = steps // 10
    return shorter, (
        f"warm-up of {cfg.warmup_steps} steps is not shorter than the run ({steps} optimizer "
        f"step{'s' if steps != 1 else ''}; its first step would use learning rate 0): using {shorter}"
    )


def _trl_classes(method: str):
    if method == "dpo":
        from trl import DPOConfig, DPOTrainer

        return DPOConfig, DPOTrainer
    if method == "kto":
        from trl import KTOConfig, KTOTrainer

        return KTOConfig, KTOTrainer
    if method == "sft":
        from trl import SFTConfig, SFTTrainer

        return SFTConfig, SFTTrainer
    if method == "simpo":
        os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
        from trl.experimental.cpo import CPOConfig, CPOTrainer

        return CPOConfig, CPOTrainer
    raise ConfigError(f"unknown training method {method!r}; choose sft, dpo, kto or simpo")


def _optimizer(cfg: TrainConfig, notes: list[str]) -> str:
    from culturalign.train.models import cuda_available

    name = cfg.optimizer
    if name.startswith("paged_") or "8bit" in name:
        import importlib.util

        if importlib.util.find_spec("bitsandbytes") is None or not cuda_available():
            notes.append(f"optimizer {name} needs bitsandbytes and a GPU; using adamw_torch instead")
            return "adamw_torch"
    return name


def trl_args(
    method: str,
    cfg: TrainConfig,
    plan: BatchPlan,
    checkpoint_dir: Path,
    notes: list[str],
    report_to: Sequence[str] = (),
):
    """The TRL config object for ``method``, every GPU-minded default set explicitly.
    ``report_to``: the trackers TRL's own callbacks log to (``culturalign.trackers``)."""
    from culturalign import progress
    from culturalign.train.models import bf16_supported, cuda_available

    config_cls, _ = _trl_classes(method)
    on_gpu = cuda_available()
    checkpointing = gradient_checkpointing(cfg, on_gpu)
    bf16 = bf16_supported() if cfg.bf16 is None else cfg.bf16
    if bf16 and not on_gpu:
        notes.append("bf16: mixed precision by CPU autocast (asked for explicitly; fp32 is the CPU default)")
    args: dict[str, Any] = {
        "output_dir": str(checkpoint_dir),
        "per_device_train_batch_size": plan.per_device,
        "gradient_accumulation_steps": plan.accumulation,
        "learning_rate": cfg.learning_rate,
        "num_train_epochs": cfg.epochs,
        "max_steps": cfg.max_steps,
        "warmup_steps": cfg.warmup_steps if plan.warmup_steps is None else plan.warmup_steps,
        "lr_scheduler_type": cfg.lr_scheduler,
        "optim": _optimizer(cfg, notes),
        "weight_decay": cfg.weight_decay,
        "max_grad_norm": cfg.max_grad_norm,
        "logging_steps": cfg.logging_steps,
        "save_strategy": "steps",
        "save_steps": cfg.save_steps,
        "save_total_limit": cfg.save_total_limit,
        "seed": cfg.seed,
        "data_seed": cfg.seed,
        "bf16": bool(bf16),
        "fp16": False,
        "use_cpu": not on_gpu,
        "gradient_checkpointing": checkpointing,
        "report_to": list(report_to) or "none",
        # TRL's tqdm bar and log dictionaries only under -v; otherwise one culturalign bar
        # (progress_callback.py) shows the steps and train.log keeps every logged value
        "disable_tqdm": not progress.verbose(),
        "dataloader_num_workers": 0,
        "dataloader_pin_memory": on_gpu,
        "max_length": cfg.max_length,
        "ddp_find_unused_parameters": False,  # every trained weight is used in every step
    }
    if method == "dpo":
        args |= {
            "beta": cfg.dpo.beta,
            "loss_type": [cfg.dpo.loss_type],
            "precompute_ref_log_probs": cfg.dpo.precompute_ref_log_probs and not cfg.lora.enabled,
        }
    elif method == "kto":
        args |= {
            "beta": cfg.kto.beta,
            "desirable_weight": cfg.kto.desirable_weight,
            "undesirable_weight": cfg.kto.undesirable_weight,
            "precompute_ref_log_probs": cfg.kto.precompute_ref_log_probs and not cfg.lora.enabled,
        }
    elif method == "simpo":
        args |= {
            "loss_type": "simpo",
            "cpo_alpha": 0.0,
            "beta": cfg.simpo.beta,
            "simpo_gamma": cfg.simpo.gamma,
        }
    elif method == "sft":
        args |= {"completion_only_loss": cfg.sft.completion_only_loss}
    valid = {f.name for f in dataclasses.fields(config_cls)}
    if "activation_checkpointing" in valid:  # the new name; the old one warns in transformers 5
        args["activation_checkpointing"] = checkpointing
    for key, value in cfg.trl.items():
        if key not in valid:
            close = difflib.get_close_matches(key, sorted(valid), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"{cfg.where('trl.' + key)}: trl.{key}: not a {config_cls.__name__} field{hint}"
            )
        args[key] = value
    try:
        return config_cls(**args)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"{cfg.where('trl')}: the TRL {config_cls.__name__} rejected the settings: {exc}"
        ) from None


def gradient_checkpointing(cfg: TrainConfig, on_gpu: bool) -> bool:
    """On for GPU runs unless a config turns it off (it trades ~30% more compute for
    activations that no longer scale with depth: a 7B DPO step on ZeRO-2 does not fit
    40-48 GB without it); off on a CPU, where memory is rarely the limit."""
    return on_gpu if cfg.gradient_checkpointing is None else cfg.gradient_checkpointing


def uses_reference(method: str) -> bool:
    return method in ("dpo", "kto")


def build_trainer(
    method: str,
    *,
    model: Any,
    tokenizer: Any,
    train_dataset: Any,
    args: Any,
    cfg: TrainConfig,
    callbacks: list[Any] | None = None,
    notes: list[str],
    model_spec: str | None = None,
):
    """The TRL trainer; ``model_spec`` loads the reference model of full fine-tuning."""
    from culturalign import progress
    from culturalign.train.models import (
        check_lora_targets,
        frozen_copy,
        lora_config,
        reference_model,
        sharded_training,
    )

    _, trainer_cls = _trl_classes(method)
    kwargs: dict[str, Any] = {
        "model": model,
        "args": args,
        "train_dataset": train_dataset,
        "processing_class": tokenizer,
        "callbacks": callbacks or None,
    }
    if cfg.lora.enabled:
        check_lora_targets(model, cfg.lora.target_modules)
        if cfg.qlora.enabled:
            from peft import prepare_model_for_kbit_training

            kwargs["model"] = prepare_model_for_kbit_training(
                model, use_gradient_checkpointing=bool(getattr(args, "gradient_checkpointing", False))
            )
        kwargs["peft_config"] = lora_config(cfg.lora)
        if uses_reference(method):
            notes.append("reference model: the base weights with the LoRA adapter switched off")
    elif uses_reference(method):
        precompute = getattr(args, "precompute_ref_log_probs", False)
        # under FSDP TRL reloads a reference even to precompute, from the base path
        # (without a merged starting adapter): hand it the right one instead
        if precompute and sharded_training() != "FSDP":
            notes.append("reference model: log-probabilities of the starting model, computed before training")
        else:
            if model_spec is not None:
                kwargs["ref_model"] = reference_model(model_spec)
                notes.append("reference model: the starting model, loaded again and frozen")
            else:  # a model built or changed in memory has nothing on disk to load
                kwargs["ref_model"] = frozen_copy(model)
                notes.append("reference model: a frozen copy of the starting model")
    trainer = trainer_cls(**kwargs)
    if not progress.verbose():
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)  # a raw dict per logging step; train.log has them
    return trainer


def wait_for_everyone(args: Any) -> None:
    """A barrier across the training processes (a no-op for one). ``args`` are the
    training arguments: building them is what starts the process group."""
    from accelerate import PartialState

    _ = args.device  # sets the processes up if nothing has yet
    PartialState().wait_for_everyone()


def file_backed(dataset: Any, folder: Path, args: Any) -> Any:
    """``dataset`` saved to ``folder`` by the main process and read back by every one.

    TRL caches precomputed reference log-probabilities next to the dataset's own file;
    an in-memory dataset has none, so each process picked a random private temporary
    folder and the second process died looking for the first one's cache file. A
    dataset read from a folder that every process sees gives them one cache path."""
    from datasets import load_from_disk

    with args.main_process_first(desc="training data", local=False):
        if args.process_index == 0:
            dataset.save_to_disk(str(folder))
        return load_from_disk(str(folder))
