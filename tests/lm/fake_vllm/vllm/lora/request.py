"""``vllm.lora.request.LoRARequest`` as documented: a name, a positive integer id, a path."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LoRARequest:
    lora_name: str
    lora_int_id: int
    lora_path: str
