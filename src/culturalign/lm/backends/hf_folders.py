"""Checking and loading what an ``hf:`` spec names: model folders and PEFT adapters.

Problems are said before any work starts (exit 2), not as one failed call per prompt.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError


def adapter_base(path: str) -> str | None:
    """The base model named by a folder that holds only a LoRA adapter, else None."""
    local = Path(path)
    if local.is_dir() and (local / "adapter_config.json").exists() and not (local / "config.json").exists():
        return json.loads((local / "adapter_config.json").read_text())["base_model_name_or_path"]
    return None


def check_model_folder(base: str) -> None:
    """A local model path must be a transformers folder; a hub id is checked on load."""
    if base.startswith(("/", "./", "../", "~")) and not Path(base).expanduser().is_dir():
        raise ConfigError(f"no model folder {base}")
    if Path(base).is_dir() and not (Path(base) / "config.json").exists():
        raise ConfigError(f"{base} holds no config.json: not a transformers model folder")


def check_adapter(adapter: str) -> None:
    """A local adapter path must be a folder with adapter_config.json; said before any
    work starts, not as one failed call per prompt (a hub id is checked on load)."""
    local = Path(adapter).expanduser()
    if not local.exists() and not adapter.startswith(("/", "./", "../", "~")):
        return
    if not local.is_dir():
        raise ConfigError(f"adapter={adapter}: no such adapter folder")
    if not (local / "adapter_config.json").exists():
        raise ConfigError(
            f"adapter={adapter}: holds no adapter_config.json, so it is not a PEFT adapter folder"
        )


def load_adapter(model: Any, adapter: str) -> Any:
    """``model`` with the PEFT adapter applied; an adapter that cannot load is a setup
    error (exit 2), since every call would fail the same way."""
    import warnings

    from peft import PeftModel

    with warnings.catch_warnings():  # peft 0.21 calls an attribute transformers 5 renamed
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        try:
            return PeftModel.from_pretrained(model, adapter)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise ConfigError(f"cannot load the adapter {adapter!r}: {exc}") from None
