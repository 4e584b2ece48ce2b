"""Every trainer runs a few steps on the tiny model and learns: the mean log-probability
gap between chosen and rejected answers on held-out pairs rises (logged losses are too
noisy to judge learning, KTO's especially)."""

from __future__ import annotations

import json

import pytest
import yaml

from culturalign.io import fingerprint_file
from culturalign.train.run import heldout_gap, train

CASES = {
    "dpo": ("dpo", {}, False),
    "dpo-lora": ("dpo", {"learning_rate": 2e-2}, True),
    "dpo-precomputed-ref": ("dpo", {"dpo": {"precompute_ref_log_probs": True}}, False),
    "kto": ("kto", {}, False),
    "simpo": ("simpo", {}, False),
    "sft": ("sft", {}, False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_trainer_raises_the_heldout_gap(case, tiny_spec, pairs_file, tmp_path):
    method, extra, lora = CASES[case]
    out = tmp_path / "out"
    result = train(method, tiny_spec, pairs_file, out, config={"preset": "tiny-test", **extra}, lora=lora)
    assert result.steps > 0 and result.n_heldout >= 4
    before, after = result.gap_before.gap, result.gap_after.gap
    assert after > before + 1.0, f"{case}: held-out gap {before:.2f} -> {after:.2f}"
    manifest = json.loads((out / "culturalign-train.json").read_text())
    assert manifest["status"] == "finished" and manifest["method"] == method
    assert manifest["data"]["sha256"] == fingerprint_file(pairs_file)
    assert not (out / "checkpoints").exists()  # removed once finished
    for name in (
        "curves.csv",
        "curves.png",
        "train-config.yaml",
        "heldout.jsonl",
        "run.json",
        "tokenizer.json",
    ):
        assert (out / name).is_file(), name
    saved = "adapter_config.json" if lora else "model.safetensors"
    assert (out / saved).is_file()


def test_lora_output_is_usable_as_hf_dir(tiny_spec, tiny_model_dir, pairs_file, tmp_path):
    from culturalign.lm import load_lm
    from culturalign.records import ChatMessage, GenerationParams

    out = tmp_path / "lora"
    result = train("dpo", tiny_spec, pairs_file, out, config={"preset": "tiny-test"}, lora=True)
    adapter = json.loads((out / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == str(tiny_model_dir.resolve())
    assert (adapter["r"], adapter["lora_alpha"], adapter["lora_dropout"]) == (8, 16, 0.05)
    assert sorted(adapter["target_modules"]) == ["q_proj", "v_proj"]
    assert yaml.safe_load((out / "train-config.yaml").read_text())["lora"]["enabled"] is True
    header = (out / "curves.csv").read_text().splitlines()[0].split(",")
    assert {"step", "loss", "rewards/margins", "rewards/accuracies"} <= set(header)
    # the folder loads through the shared LM layer as hf:DIR, and the gap matches
    lm = load_lm(f"hf:{out}", cache=None)
    (completion,) = lm.generate(
        [[ChatMessage(role="user", content="tea?")]], GenerationParams(temperature=0, max_new_tokens=4)
    )[0]
    assert completion.ok
    assert heldout_gap(out, out / "heldout.jsonl") == pytest.approx(result.gap_after.gap, rel=1e-4, abs=1e-3)


def test_reference_model_is_the_in_memory_start_not_the_disk_copy(tiny_model_dir, pairs_file, tmp_path):
    """TRL reloads the reference from config._name_or_path when none is given; ours must
    be the model actually being trained, even when it differs from what is on disk."""
    import torch

    from culturalign.train import data as d
    from culturalign.train.models import load_model
    from culturalign.train.presets import resolve_config
    from culturalign.train.trainers import build_trainer, plan_batches, trl_args

    cfg = resolve_config({"preset": "tiny-test"})
    loaded = load_model(f"hf:{tiny_model_dir}")
    with torch.no_grad():
        for p in loaded.model.parameters():
            p.mul_(1.5)  # now the in-memory model differs from the checkpoint on disk
    notes: list[str] = []
    args = trl_args("dpo", cfg, plan_batches(cfg, 10, 1), tmp_path / "ck", notes)
    trainer = build_trainer(
        "dpo",
        model=loaded.model,
        tokenizer=loaded.tokenizer,
        train_dataset=d.to_dataset(d.load_pairs(pairs_file)),
        args=args,
        cfg=cfg,
        notes=notes,
    )
    ref = dict(trainer.ref_model.named_parameters())
    for name, param in trainer.model.named_parameters():
        assert torch.equal(ref[name], param), name
        assert not ref[name].requires_grad
    assert args.bf16 is False and args.use_cpu is True and args.gradient_checkpointing is False
    assert "frozen copy" in notes[-1]


def test_merge_and_training_on_top_of_an_adapter(tiny_spec, pairs_file, tmp_path):
    merged = train(
        "dpo",
        tiny_spec,
        pairs_file,
        tmp_path / "merged",
        config={"preset": "tiny-test"},
        lora=True,
        merge=True,
    )
    assert (tmp_path / "merged" / "model.safetensors").is_file()
    assert not (tmp_path / "merged" / "adapter_config.json").exists()
    assert heldout_gap(tmp_path / "merged", tmp_path / "merged" / "heldout.jsonl") == pytest.approx(
        merged.gap_after.gap, rel=1e-4, abs=1e-3
    )
    # an adapter-only folder as the starting model: its adapter is folded in first, and
    # the new run is saved as full weights (an adapter over the old base would be wrong)
    first = train("sft", tiny_spec, pairs_file, tmp_path / "sft", config={"preset": "tiny-test"}, lora=True)
    second = train(
        "dpo",
        f"hf:{tmp_path / 'sft'}",
        pairs_file,
        tmp_path / "dpo",
        config={"preset": "tiny-test"},
        lora=True,
    )
    assert any("merged the adapter" in n for n in second.notes)
    assert second.gap_before.gap == pytest.approx(first.gap_after.gap, rel=1e-4, abs=1e-3)
    assert (tmp_path / "dpo" / "model.safetensors").is_file()


def test_kto_on_unpaired_rows(tiny_spec, tmp_path):
    from train_helpers import make_pairs, write_jsonl

    rows = []
    for p in make_pairs(24):
        rows.append(
            {"question_id": p["question_id"], "prompt": p["prompt"], "completion": p["chosen"], "label": True}
        )
        rows.append(
            {
                "question_id": p["question_id"],
                "prompt": p["prompt"],
                "completion": p["rejected"],
                "label": False,
            }
        )
    data = write_jsonl(tmp_path / "unpaired.jsonl", rows)
    result = train("kto", tiny_spec, data, tmp_path / "kto", config={"preset": "tiny-test"})
    assert result.n_train + result.n_heldout == 48
    assert result.gap_before.accuracy is None  # unpaired: desirable mean minus undesirable mean
    assert result.gap_after.gap > result.gap_before.gap + 1.0
