"""The hf backend's parts that matter at GPU scale, checked on the tiny model: label
log-probabilities project only the last position onto the vocabulary (all positions
of 32 x 2,048 tokens x a 152k vocabulary is ~20 GB in bf16), the cache key holds the
dtype "auto" resolves to, and the scoring module does not import the backend module
that imports it (no import cycle, not even under TYPE_CHECKING)."""

from __future__ import annotations

import ast
from pathlib import Path

import culturalign.lm.backends.hf_scoring as hf_scoring
from culturalign.lm import load_lm


def test_label_logprobs_keep_only_the_last_positions_logits(tiny_model_dir):
    lm = load_lm(f"hf:{tiny_model_dir}", cache=None)
    model = lm.backend.model
    widths: list[tuple[int, int]] = []

    def hook(module, args, kwargs, output):
        widths.append((kwargs["input_ids"].shape[1], output.logits.shape[1]))

    handle = model.register_forward_hook(hook, with_kwargs=True)
    try:
        chats = [[{"role": "user", "content": "Is tea served to guests? Answer Yes or No."}]] * 3
        res = lm.label_logprobs(chats, ["Yes", "No"])
    finally:
        handle.remove()
    assert all(r.ok and set(r.logprobs) == {"Yes", "No"} for r in res)
    assert widths and all(seq > 1 and kept == 1 for seq, kept in widths), widths


def test_auto_dtype_is_resolved_into_the_hf_cache_key(tiny_model_dir, monkeypatch):
    import torch

    from culturalign.lm.backends.hf import HFBackend

    cpu = HFBackend(tiny_model_dir, device="cpu").identity()
    assert "dtype" not in cpu  # fp32, as every key written before
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: True)
    gpu = HFBackend(tiny_model_dir, device="cuda").identity()
    assert gpu["dtype"] == "bfloat16" and gpu != cpu
    # a GPU that could only emulate bf16 runs fp32: same key as the CPU's
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: including_emulation)
    assert HFBackend(tiny_model_dir, device="cuda").identity() == cpu


def test_hf_scoring_does_not_import_the_hf_backend():
    tree = ast.parse(Path(hf_scoring.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
    assert "culturalign.lm.backends.hf" not in imported, sorted(imported)
