"""How an ``hf:`` model is loaded: ``+device_map=``, ``+trust_remote_code``,
``+attn_implementation=`` and ``+load_in_4bit`` (paper 003 runs its inference in 4-bit).

Kept apart from the backend so the checks run when the spec is read, before anything is
downloaded or loaded: a 4-bit load on a machine with no CUDA GPU, or without
bitsandbytes, fails at once with a plain error (exit 2) instead of deep in transformers.
The options that change the numbers a model produces (4-bit weights, the attention
kernel) join the model's identity in cache keys; where the layers sit does not.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

from culturalign.errors import ConfigError

ATTENTION = ("eager", "sdpa", "flash_attention_2", "flash_attention_3", "flex_attention")
FLAGS = ("trust_remote_code", "load_in_4bit")  # may be written without "=value"


def parse_flag(key: str, value: str | bool | None) -> bool:
    if isinstance(value, bool) or value is None:
        return bool(value)
    low = value.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"+{key}={value}: write +{key} (or +{key}=true / false)")


@dataclass(frozen=True)
class LoadOptions:
    device_map: str | None = None
    trust_remote_code: bool = False
    attn_implementation: str | None = None
    load_in_4bit: bool = False

    def check(self) -> None:
        """Plain errors for what cannot work here, before any weight is read."""
        if self.attn_implementation is not None and self.attn_implementation not in ATTENTION:
            raise ConfigError(
                f"+attn_implementation={self.attn_implementation}: use one of {', '.join(ATTENTION)}"
            )
        if self.load_in_4bit:
            from culturalign.lm.fingerprint import _gpu_present

            if not _gpu_present():
                raise ConfigError(
                    "+load_in_4bit needs a CUDA GPU (bitsandbytes 4-bit weights do not run on this "
                    "machine's CPU); drop +load_in_4bit, or use +dtype=bfloat16 on a GPU"
                )
            if importlib.util.find_spec("bitsandbytes") is None:
                raise ConfigError("+load_in_4bit needs bitsandbytes: pip install bitsandbytes")

    @property
    def places_layers(self) -> bool:
        """True when transformers (accelerate) puts the layers on devices itself."""
        return self.device_map is not None or self.load_in_4bit

    def from_pretrained_kwargs(self, dtype: Any) -> dict[str, Any]:
        kw: dict[str, Any] = {}
        if self.trust_remote_code:
            kw["trust_remote_code"] = True
        if self.attn_implementation:
            kw["attn_implementation"] = self.attn_implementation
        if self.device_map is not None:
            kw["device_map"] = self.device_map
        if self.load_in_4bit:
            from transformers import BitsAndBytesConfig

            compute = dtype if str(dtype) != "torch.float32" else None
            kw["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=compute
            )
            kw.setdefault("device_map", "auto")
        return kw

    def identity(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.load_in_4bit:
            out["quantization"] = "bnb-nf4"
        if self.attn_implementation:
            out["attention"] = self.attn_implementation
        return out
