"""The hf backend on the tiny model: LoRA adapters, lazy loading, and spec errors."""

from __future__ import annotations

import pytest

from culturalign.errors import ConfigError
from culturalign.lm import load_lm
from culturalign.records import GenerationParams

GREEDY = GenerationParams(temperature=0, max_new_tokens=6)
PROMPTS = [[{"role": "user", "content": "Is it polite to bow?"}], [{"role": "user", "content": "Tea?"}]]


@pytest.fixture(scope="module")
def adapter_dir(tiny_model_dir, tmp_path_factory):
    """A LoRA adapter with non-zero random weights, so it really changes the outputs."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    config = LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    model = get_peft_model(base, config)
    out = tmp_path_factory.mktemp("adapter")
    model.save_pretrained(out)
    return out


def test_adapter_changes_outputs_and_cache_identity(tiny_model_dir, adapter_dir):
    plain = load_lm(f"hf:{tiny_model_dir}", cache=None)
    with_adapter = load_lm(f"hf:{tiny_model_dir}+adapter={adapter_dir}", cache=None)
    adapter_only = load_lm(f"hf:{adapter_dir}", cache=None)  # finds its base by itself
    assert "adapter" in with_adapter.identity and "adapter" not in plain.identity
    assert with_adapter.identity == adapter_only.identity
    a = [c[0].text for c in plain.generate(PROMPTS, GREEDY)]
    b = [c[0].text for c in with_adapter.generate(PROMPTS, GREEDY)]
    c = [c[0].text for c in adapter_only.generate(PROMPTS, GREEDY)]
    assert b == c and a != b


def test_model_loads_on_first_call_only(tiny_model_dir, tmp_path):
    from culturalign.lm.cache import CallCache

    cache = CallCache(tmp_path / "c.sqlite")
    load_lm(f"hf:{tiny_model_dir}", cache=cache).generate(PROMPTS, GREEDY)
    again = load_lm(f"hf:{tiny_model_dir}", cache=cache)
    again.generate(PROMPTS, GREEDY)
    assert again.stats.cache_hits == 2 and not again.backend.loaded  # answered without the weights


def test_bad_specs_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="no model folder"):
        load_lm(f"hf:{tmp_path}/missing", cache=None)
    with pytest.raises(ConfigError, match=r"no config\.json"):
        load_lm(f"hf:{tmp_path}", cache=None)
    with pytest.raises(ConfigError, match="unknown dtype"):
        load_lm(f"hf:{tmp_path}+dtype=float8", cache=None)
    with pytest.raises(ConfigError, match="unknown option"):
        load_lm(f"hf:{tmp_path}+temperature=1", cache=None)
    with pytest.raises(ConfigError, match="unknown openai option"):
        load_lm("openai:m@http://127.0.0.1:9/v1+concurency=4", cache=None)


def test_bad_adapters_stop_the_run_instead_of_failing_every_call(tiny_model_dir, tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="no such adapter folder"):
        load_lm(f"hf:{tiny_model_dir}+adapter={tmp_path}/missing", cache=None)
    with pytest.raises(ConfigError, match=r"no adapter_config\.json"):
        load_lm(f"hf:{tiny_model_dir}+adapter={tmp_path}", cache=None)
    with pytest.raises(ConfigError, match="bad option 'adapter='"):
        load_lm(f"hf:{tiny_model_dir}+adapter=", cache=None)
    # a relative name that is not here is tried as a hub id when the model loads: a setup
    # error for the whole run, not one failed call per prompt
    monkeypatch.chdir(tmp_path)
    lm = load_lm(f"hf:{tiny_model_dir}+adapter=runs/none", cache=None)
    with pytest.raises(ConfigError, match="cannot load the adapter 'runs/none'"):
        lm.generate(PROMPTS, GREEDY)
