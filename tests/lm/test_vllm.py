"""The vllm backend. vLLM runs only on GPU machines (extra ``[vllm]``); here, without it,
a vllm spec must say what to install. With vLLM and CUDA present, its greedy outputs and
log-probabilities are compared with the hf backend's on the embedded model."""

from __future__ import annotations

import importlib.util

import pytest

from culturalign.errors import MissingDependency
from culturalign.lm import load_lm
from culturalign.records import GenerationParams

HAS_VLLM = importlib.util.find_spec("vllm") is not None


@pytest.mark.skipif(HAS_VLLM, reason="vllm is installed here; this checks the message shown without it")
def test_vllm_spec_without_vllm_names_the_extra():
    with pytest.raises(MissingDependency, match=r"culturalign\[vllm\]"):
        load_lm("vllm:/any/model", cache=None)


def _cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


def _why_not() -> str | None:
    if not HAS_VLLM:
        return "vllm is not installed (optional extra [vllm]; GPU machines only)"
    if not _cuda():
        return "vllm is installed but there is no CUDA GPU"
    return None


@pytest.mark.slow
@pytest.mark.skipif(_why_not() is not None, reason=_why_not() or "")
def test_vllm_agrees_with_hf_on_the_embedded_model(embedded_dir):
    prompts = [
        [{"role": "user", "content": f"In one sentence, what is {t}?"}] for t in ("tea", "Diwali", "a kimono")
    ]
    params = GenerationParams(temperature=0, max_new_tokens=12)
    v = load_lm(f"vllm:{embedded_dir}+dtype=float32+gpu_memory_utilization=0.3+enforce_eager=1", cache=None)
    h = load_lm(f"hf:{embedded_dir}+dtype=float32", cache=None)
    v_text = [c[0].text for c in v.generate(prompts, params)]
    h_text = [c[0].text for c in h.generate(prompts, params)]
    assert sum(a == b for a, b in zip(v_text, h_text, strict=True)) >= 2, (v_text, h_text)
    yes_no = [[{"role": "user", "content": "Is tea a drink? Answer Yes or No."}]]
    lv = v.label_logprobs(yes_no, ["Yes", "No"])[0].logprobs
    lh = h.label_logprobs(yes_no, ["Yes", "No"])[0].logprobs
    assert all(abs(lv[k] - lh[k]) < 0.05 for k in ("Yes", "No")), (lv, lh)
    sv = v.score(["The capital of France is"], [[" Paris", " Rome"]])[0].logprobs
    sh = h.score(["The capital of France is"], [[" Paris", " Rome"]])[0].logprobs
    assert all(abs(a - b) < 0.05 for a, b in zip(sv, sh, strict=True)), (sv, sh)
