"""The vllm backend against a stand-in ``vllm`` module (tests/lm/fake_vllm): vLLM's
documented shapes, numbers from the tiny transformers model. It checks everything
about the backend that does not need a GPU: that generation, continuation scores and
label log-probabilities agree with the hf backend on the same model, that labels are
read at the right token, that scoring runs without prefix caching, that an adapter's
own chat template is used, that an over-long prompt fails alone, and that the dtype
is part of the cache key."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from culturalign.lm import load_lm
from culturalign.lm.base import as_prompt
from culturalign.records import GenerationParams

FAKE = Path(__file__).parent / "fake_vllm"
CHATS = [
    [{"role": "user", "content": "Is tea served to guests in China?"}],
    [{"role": "user", "content": "Do people bow in Japan? Answer Yes or No."}],
]


@pytest.fixture
def fake_vllm(monkeypatch):
    for name in [m for m in sys.modules if m == "vllm" or m.startswith("vllm.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(FAKE))
    import vllm

    assert vllm.__version__ == "0.0-fake"
    vllm.ENGINES.clear()
    yield vllm
    for name in [m for m in sys.modules if m == "vllm" or m.startswith("vllm.")]:
        sys.modules.pop(name, None)


def test_generate_score_and_labels_agree_with_hf(fake_vllm, tiny_model_dir):
    v = load_lm(f"vllm:{tiny_model_dir}", cache=None)
    h = load_lm(f"hf:{tiny_model_dir}+dtype=float32", cache=None)
    params = GenerationParams(temperature=0, max_new_tokens=8)
    assert [c[0].text for c in v.generate(CHATS, params)] == [c[0].text for c in h.generate(CHATS, params)]
    conts = [[" tea", " coffee and dates"], ["Yes", "No, they do not"]]
    for a, b in zip(v.score(CHATS, conts), h.score(CHATS, conts), strict=True):
        assert a.ok and b.ok and a.num_tokens == b.num_tokens
        assert a.logprobs == pytest.approx(b.logprobs, abs=1e-4)
    labels = ["Yes", "No", "A", "B"]
    lv = v.label_logprobs(CHATS, labels)
    lh = h.label_logprobs(CHATS, labels)
    for a, b in zip(lv, lh, strict=True):
        assert a.method == "prompt_logprobs"
        assert a.logprobs == pytest.approx(b.logprobs, abs=1e-4)
    # each label read at its own token, not one shared trailing newline
    assert len({round(x, 6) for x in lv[0].logprobs.values()}) == len(labels)


def test_scoring_engine_has_no_prefix_cache_generation_engine_does(fake_vllm, tiny_model_dir):
    scorer = load_lm(f"vllm:{tiny_model_dir}", cache=None)
    scorer.label_logprobs(CHATS[:1], ["Yes", "No"])
    assert fake_vllm.ENGINES[-1]["enable_prefix_caching"] is False
    gen = load_lm(f"vllm:{tiny_model_dir}", cache=None)
    gen.generate(CHATS[:1], GenerationParams(temperature=0, max_new_tokens=2))
    assert fake_vllm.ENGINES[-1]["enable_prefix_caching"] is True
    engine = gen.backend.engine(for_scoring=False)
    gen.score(CHATS[:1], [["Yes"]])
    assert engine.resets == 1  # scoring after generation starts from an empty cache
    assert len(fake_vllm.ENGINES) == 2


def test_adapter_folder_tokenizer_and_template_are_used(fake_vllm, tiny_model_dir, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter = tmp_path / "adapter"
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_model_dir),
        LoraConfig(r=2, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"),
    )
    model.save_pretrained(adapter)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    tok.chat_template = "{% for m in messages %}[TRAINED {{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"
    tok.save_pretrained(adapter)
    v = load_lm(f"vllm:{adapter}", cache=None)
    h = load_lm(f"hf:{adapter}", cache=None)
    chat = as_prompt(CHATS[0])
    assert v.backend.render(chat) == h.backend.render(chat)
    assert "[TRAINED user]" in v.backend.render(chat)
    lv = v.label_logprobs(CHATS, ["Yes", "No"])
    assert fake_vllm.ENGINES[-1]["tokenizer"] == str(adapter)
    assert fake_vllm.ENGINES[-1]["enable_lora"] is True
    assert lv[0].logprobs == pytest.approx(h.label_logprobs(CHATS, ["Yes", "No"])[0].logprobs, abs=1e-4)


def test_over_long_prompt_is_an_error_for_that_request_only(fake_vllm, tiny_model_dir):
    v = load_lm(f"vllm:{tiny_model_dir}+max_model_len=40", cache=None)
    long = [{"role": "user", "content": "tea " * 60}]
    prompts = [CHATS[0], long]
    labels = v.label_logprobs(prompts, ["Yes", "No"])
    assert labels[0].ok and set(labels[0].logprobs) == {"Yes", "No"}
    assert not labels[1].ok and "max_model_len is 40" in labels[1].error
    scores = v.score(prompts, [["Yes"], ["Yes"]])
    assert scores[0].ok and not scores[1].ok
    gens = v.generate(prompts, GenerationParams(temperature=0, max_new_tokens=4))
    assert gens[0][0].error is None and gens[1][0].error is not None


def test_dtype_is_resolved_into_the_cache_key(fake_vllm, tiny_model_dir):
    auto = load_lm(f"vllm:{tiny_model_dir}", cache=None).backend.identity()
    half = load_lm(f"vllm:{tiny_model_dir}+dtype=bf16", cache=None).backend.identity()
    assert auto["dtype"] == "float32"  # no GPU here: "auto" is fp32, never left as "auto"
    assert half["dtype"] == "bfloat16" and auto != half


def test_auto_dtype_avoids_emulated_bf16(monkeypatch):
    import torch

    from culturalign.lm import fingerprint

    seen = {}

    def native_only(including_emulation: bool = True) -> bool:
        seen["emulation"] = including_emulation
        return including_emulation  # a GPU that can only emulate bf16

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", native_only)
    assert fingerprint.resolve_dtype_name("auto", device="cuda", gpu_fallback="float16") == "float16"
    assert seen["emulation"] is False
    assert fingerprint.resolve_dtype_name(None, device="cpu") == "float32"
    assert fingerprint.resolve_dtype_name("bf16") == "bfloat16"
