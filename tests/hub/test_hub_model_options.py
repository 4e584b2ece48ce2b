"""``hf:`` model spec options: device_map, trust_remote_code, attn_implementation and
load_in_4bit (a plain error on a CPU), and the hub commit resolved once per process."""

from __future__ import annotations

import pytest

from culturalign.errors import ConfigError
from culturalign.lm import fingerprint, load_lm
from culturalign.lm.backends.hf_options import LoadOptions
from culturalign.lm.registry import make_backend, parse_spec


def test_options_reach_from_pretrained_and_the_identity(tiny_model_dir):
    spec = parse_spec(f"hf:{tiny_model_dir}+device_map=cpu+attn_implementation=eager+trust_remote_code")
    assert spec.options["trust_remote_code"] == "true"
    backend = make_backend(spec)
    assert backend.load_options == LoadOptions(
        device_map="cpu", trust_remote_code=True, attn_implementation="eager"
    )
    plain = make_backend(parse_spec(f"hf:{tiny_model_dir}"))
    # the attention kernel can change the numbers: its own cache key; where layers sit does not
    assert backend.identity() == {**plain.identity(), "attention": "eager"}
    # the model really loads through accelerate's placement and scores as the plain load does
    lm = load_lm(spec, cache=None)
    placed = lm.score(["The sky is"], [[" blue", " green"]])[0]
    assert lm.backend.model.config._attn_implementation == "eager" and lm.backend.device == "cpu"
    again = load_lm(f"hf:{tiny_model_dir}", cache=None).score(["The sky is"], [[" blue", " green"]])[0]
    assert placed.ok and placed.logprobs == pytest.approx(again.logprobs, abs=1e-4)


def test_load_in_4bit_on_a_cpu_is_a_plain_error(tiny_model_dir, monkeypatch):
    monkeypatch.setattr(fingerprint, "_gpu_present", lambda: False)
    with pytest.raises(ConfigError, match="load_in_4bit needs a CUDA GPU"):
        make_backend(parse_spec(f"hf:{tiny_model_dir}+load_in_4bit"))


def test_4bit_kwargs_and_identity():
    opts = LoadOptions(load_in_4bit=True)
    import torch

    kw = opts.from_pretrained_kwargs(torch.bfloat16)
    assert kw["device_map"] == "auto" and kw["quantization_config"].load_in_4bit
    assert kw["quantization_config"].bnb_4bit_quant_type == "nf4"
    assert kw["quantization_config"].bnb_4bit_compute_dtype == torch.bfloat16
    assert opts.identity() == {"quantization": "bnb-nf4"} and opts.places_layers


@pytest.mark.parametrize(
    "spec, message",
    [
        ("hf:x/y+attn_implementation=fast", "use one of eager, sdpa"),
        ("hf:x/y+trust_remote_code=maybe", r"write \+trust_remote_code"),
        ("hf:x/y+device", r"write \+key=value"),
        ("hf:x/y+quantize=4", "unknown option"),
    ],
)
def test_bad_options_say_what_to_write(spec, message):
    with pytest.raises(ConfigError, match=message):
        make_backend(parse_spec(spec))


def test_hub_commit_resolved_once_per_process(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    ref = tmp_path / "hub" / "models--me--m" / "refs" / "main"
    ref.parent.mkdir(parents=True)
    ref.write_text("a" * 40)
    reads = []
    real = fingerprint.hub_revision
    monkeypatch.setattr(fingerprint, "hub_revision", lambda *a: reads.append(a) or real(*a))
    assert [fingerprint.resolve_hub_revision("me/m") for _ in range(3)] == ["a" * 40] * 3
    assert len(reads) == 1
