"""The accelerate configs that ship with culturalign (package data), found by name.

``accelerate launch --config_file "$(culturalign train accelerate-config NAME)" -m
culturalign train ...`` runs the ordinary training command under DDP, DeepSpeed
ZeRO-2/3 or FSDP. Without GPUs, ``torchrun --nproc_per_node 2 -m culturalign train ...``
runs two CPU processes (gloo) through the same code.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from culturalign.errors import ConfigError
from culturalign.paths import package_data

ACCELERATE_CONFIGS = ("ddp", "deepspeed-zero2", "deepspeed-zero3", "fsdp")


def accelerate_config(name: str) -> Path:
    if name not in ACCELERATE_CONFIGS:
        close = difflib.get_close_matches(name, ACCELERATE_CONFIGS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"unknown accelerate config {name!r}{hint} (shipped: {', '.join(ACCELERATE_CONFIGS)})"
        )
    return package_data("configs", "accelerate", f"{name}.yaml")
