"""Training config: the papers' defaults, YAML overrides, located errors, batch planning."""

from __future__ import annotations

import pytest

from culturalign.errors import ConfigError, DataError
from culturalign.train.presets import CARE_LEARNING_RATES, parse_set, resolve_config
from culturalign.train.trainers import plan_batches


def test_care_paper_preset_holds_the_papers_values():
    cfg = resolve_config(None)
    assert cfg.preset == "care-paper"
    # paper 000 appendix B
    assert cfg.dpo.beta == 0.1
    assert cfg.learning_rate in CARE_LEARNING_RATES
    assert (cfg.epochs, cfg.warmup_steps, cfg.lr_scheduler) == (3, 5, "linear")
    assert cfg.effective_batch_size == 128
    assert not cfg.lora.enabled  # CARE fine-tunes all weights
    # paper 003 §5.3 LoRA settings are the LoRA defaults
    assert (cfg.lora.r, cfg.lora.alpha, cfg.lora.dropout) == (8, 16, 0.05)
    assert cfg.lora.target_modules == ["q_proj", "v_proj"]
    assert cfg.qlora.quant_type == "nf4"


def test_culturebank_preset_is_qlora_sft_recipe():
    cfg = resolve_config({"preset": "culturebank-sft"})
    assert cfg.qlora.enabled and cfg.lora.enabled
    assert (cfg.learning_rate, cfg.lr_scheduler, cfg.optimizer) == (1e-4, "cosine", "paged_adamw_32bit")


def test_yaml_overrides_any_field_and_keeps_the_rest(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("preset: cpu-demo\nlearning_rate: 3.0e-5\nlora:\n  r: 16\ntrl:\n  label_smoothing: 0.1\n")
    cfg = resolve_config(path, overrides=parse_set(["dpo.beta=0.2"]))
    assert cfg.preset == "cpu-demo"
    assert cfg.learning_rate == 3e-5
    assert cfg.lora.r == 16 and cfg.lora.alpha == 16 and cfg.lora.enabled  # the rest of the preset's LoRA
    assert cfg.dpo.beta == 0.2
    assert cfg.trl == {"label_smoothing": 0.1}
    assert "learning_rate: 3.0e-05" in cfg.to_yaml()


def test_yaml_errors_are_located_with_line_and_field(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("preset: tiny-test\nlearning_rat: 1e-4\nlora:\n  r: 0\n  dropout: 2\n")
    with pytest.raises(DataError) as info:
        resolve_config(path)
    lines = info.value.lines()
    assert f"{path}:2: learning_rat: unknown setting; did you mean 'learning_rate'?" in lines
    assert any(line.startswith(f"{path}:4: lora.r:") for line in lines)
    assert any(line.startswith(f"{path}:5: lora.dropout:") for line in lines)


def test_invalid_yaml_and_unknown_preset(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("preset: tiny-test\nlora: [1,\n")
    with pytest.raises(DataError) as info:
        resolve_config(path)
    assert info.value.lines()[0].startswith(f"{path}:")
    with pytest.raises(ConfigError, match="did you mean 'cpu-demo'"):
        resolve_config({"preset": "cpu-dem"})
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_set(["learning_rate"])


def test_accumulation_reaches_128_and_is_capped_for_small_data():
    cfg = resolve_config({"per_device_batch_size": 4})
    plan = plan_batches(cfg, n_train=10_000, world=1)
    assert (plan.accumulation, plan.effective, plan.note) == (32, 128, None)
    assert plan_batches(cfg, n_train=10_000, world=8).accumulation == 4  # 4 x 4 x 8 = 128
    small = plan_batches(cfg, n_train=36, world=1)
    assert small.accumulation == 9 and small.effective == 36
    assert "only 36 training examples" in small.note
    fixed = plan_batches(resolve_config({"gradient_accumulation_steps": 3}), n_train=5, world=1)
    assert fixed.accumulation == 3


def test_a_warmup_as_long_as_the_run_shrinks_so_the_model_is_trained():
    """A toy experiment's 6 DPO pairs at the cpu-demo batch make one optimizer step; its
    warm-up of 2 steps put that step at learning rate 0 and the model never moved."""
    toy = resolve_config({"preset": "cpu-demo", "epochs": 1})
    one_step = plan_batches(toy, n_train=6, world=1)
    assert one_step.warmup_steps == 0
    assert "not shorter than the run (1 optimizer step" in one_step.warmup_note
    # 3 epochs of 40 examples at batch 8: 15 steps, the configured 2 warm-up steps stay
    assert plan_batches(resolve_config({"preset": "cpu-demo"}), n_train=40, world=1).warmup_steps == 2
    paper = plan_batches(resolve_config({}), n_train=10_000, world=1)
    assert (paper.warmup_steps, paper.warmup_note) == (resolve_config({}).warmup_steps, None)
    forty = resolve_config({"warmup_steps": 50, "max_steps": 40})
    assert plan_batches(forty, n_train=10_000, world=1).warmup_steps == 4  # a tenth of the run


def test_unknown_trl_field_is_reported_with_its_yaml_line(tmp_path):
    from culturalign.train.trainers import trl_args

    path = tmp_path / "c.yaml"
    path.write_text("preset: tiny-test\ntrl:\n  label_smothing: 0.1\n")
    cfg = resolve_config(path)
    with pytest.raises(
        ConfigError,
        match=r"c.yaml:3: trl.label_smothing: not a DPOConfig field; did you mean 'label_smoothing'",
    ):
        trl_args("dpo", cfg, plan_batches(cfg, 10, 1), tmp_path / "ck", [])
