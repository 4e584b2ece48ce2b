"""What the multi-GPU path depends on, checked in one CPU process: the training
arguments are built before the model loads (ZeRO-3's sharded init and FSDP's rank-0
loading are read by ``from_pretrained``), every process checks the output folder before
the main one writes to it, the full-fine-tuning reference is loaded on its own (not
deep-copied), gradient checkpointing is on for GPU runs, QLoRA is configured for sharded
training, the held-out gap is skipped under sharding, and the training data is a file
every process can see."""

from __future__ import annotations

import pytest

from culturalign.train import models, outputs, run, trainers
from culturalign.train.presets import PRESETS, resolve_config
from culturalign.train.run import train


def test_training_arguments_come_before_the_model_and_the_barrier_before_writes(
    tiny_spec, pairs_file, tmp_path, monkeypatch
):
    calls: list[str] = []

    def spy(module, name, label):
        real = getattr(module, name)

        def wrapper(*a, **kw):
            calls.append(label)
            return real(*a, **kw)

        monkeypatch.setattr(module, name, wrapper)

    spy(run, "check_out_dir", "check folder")
    spy(trainers, "trl_args", "training arguments")
    spy(trainers, "wait_for_everyone", "barrier")
    spy(models, "load_model", "load model")
    spy(run, "write_manifest", "write manifest")
    train("dpo", tiny_spec, pairs_file, tmp_path / "out", config={"preset": "tiny-test", "max_steps": 1})
    first = {label: calls.index(label) for label in dict.fromkeys(calls)}
    assert first["check folder"] < first["barrier"] < first["write manifest"]
    assert first["training arguments"] < first["barrier"] < first["load model"]


def test_full_fine_tuning_reference_is_loaded_again_not_copied(tiny_spec, pairs_file, tmp_path, monkeypatch):
    loads: list[str] = []
    real = models.load_model

    def counting(spec, **kw):
        loads.append(spec)
        return real(spec, **kw)

    def no_deepcopy(*a, **kw):
        raise AssertionError("the reference must not be a deepcopy (ZeRO-3 cannot copy partitioned weights)")

    monkeypatch.setattr(models, "load_model", counting)
    monkeypatch.setattr(models, "frozen_copy", no_deepcopy)
    res = train(
        "dpo", tiny_spec, pairs_file, tmp_path / "full", config={"preset": "tiny-test", "max_steps": 2}
    )
    assert loads == [tiny_spec, tiny_spec]  # the policy, then its reference
    assert any("loaded again" in n for n in res.notes)


def test_gradient_checkpointing_is_on_for_gpu_runs():
    for name in PRESETS:
        cfg = resolve_config({"preset": name})
        if name in ("care-paper", "culturebank-sft"):
            assert trainers.gradient_checkpointing(cfg, on_gpu=True), name
        assert not trainers.gradient_checkpointing(cfg, on_gpu=False), name
    off = resolve_config({"preset": "care-paper", "gradient_checkpointing": False})
    assert not trainers.gradient_checkpointing(off, on_gpu=True)
    cfg = resolve_config({"preset": "tiny-test"})
    args = trainers.trl_args("dpo", cfg, trainers.plan_batches(cfg, 8, 1), tmp_dir(), [])
    assert args.gradient_checkpointing is False  # this is a CPU


def tmp_dir():
    import tempfile
    from pathlib import Path

    return Path(tempfile.mkdtemp()) / "ck"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"ACCELERATE_USE_DEEPSPEED": "true", "ACCELERATE_DEEPSPEED_ZERO_STAGE": "2"}, None),
        ({"ACCELERATE_USE_DEEPSPEED": "true", "ACCELERATE_DEEPSPEED_ZERO_STAGE": "3"}, "ZeRO-3"),
        ({"ACCELERATE_USE_FSDP": "true"}, "FSDP"),
    ],
)
def test_sharding_is_read_from_accelerates_environment(env, expected, monkeypatch):
    for k in ("ACCELERATE_USE_DEEPSPEED", "ACCELERATE_DEEPSPEED_ZERO_STAGE", "ACCELERATE_USE_FSDP"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert models.sharded_training() == expected


def test_qlora_under_sharding_stores_4bit_weights_in_the_compute_dtype(monkeypatch):
    import torch

    q = resolve_config({"preset": "culturebank-sft"}).qlora
    plain = models.quantization_kwargs(q, None)
    assert "device_map" in plain and plain["quantization_config"].bnb_4bit_quant_storage == torch.uint8
    sharded = models.quantization_kwargs(q, "FSDP")
    assert "device_map" not in sharded
    assert sharded["quantization_config"].bnb_4bit_quant_storage == torch.bfloat16
    assert sharded["dtype"] == torch.bfloat16


def test_heldout_gap_is_skipped_under_sharding(tiny_model_dir, monkeypatch):
    from culturalign.train.data import load_pairs
    from culturalign.train.run import _gap

    loaded = models.load_model(f"hf:{tiny_model_dir}")
    cfg = resolve_config({"preset": "tiny-test"})
    from train_helpers import make_pairs, write_jsonl

    held = load_pairs(write_jsonl(tmp_dir().parent / "p.jsonl", make_pairs(4)))
    assert _gap(loaded.model, loaded.tokenizer, held, cfg) is not None
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    assert _gap(loaded.model, loaded.tokenizer, held, cfg) is None  # no rank-0-only forward on shards


def test_training_data_is_a_file_every_process_sees(tmp_path):
    from train_helpers import make_pairs, write_jsonl

    from culturalign.train import data as d

    cfg = resolve_config({"preset": "tiny-test"})
    args = trainers.trl_args("dpo", cfg, trainers.plan_batches(cfg, 8, 1), tmp_path / "ck", [])
    pairs = d.load_pairs(write_jsonl(tmp_path / "p.jsonl", make_pairs(6)))
    ds = trainers.file_backed(d.to_dataset(pairs), tmp_path / "ck" / "train-data", args)
    assert ds.cache_files and all(str(tmp_path) in f["filename"] for f in ds.cache_files)
    # TRL puts its reference log-probability cache next to that file, so one path for all
    assert ds._get_cache_file_path("abc").startswith(str(tmp_path))


def test_merge_happens_from_disk_after_the_adapter_is_saved(tiny_spec, pairs_file, tmp_path, monkeypatch):
    merged_from: list[str] = []
    real = outputs.merge_saved_adapter

    def spy(spec, adapter_dir, out_dir):
        assert (adapter_dir / "adapter_config.json").is_file()  # saved by the trainer first
        merged_from.append(spec)
        return real(spec, adapter_dir, out_dir)

    monkeypatch.setattr(outputs, "merge_saved_adapter", spy)
    out = tmp_path / "merged"
    res = train("dpo", tiny_spec, pairs_file, out, lora=True, merge=True, config={"preset": "tiny-test"})
    assert merged_from == [tiny_spec]
    assert (out / "model.safetensors").is_file() and not (out / "adapter_config.json").exists()
    assert run.heldout_gap(out, out / "heldout.jsonl") == pytest.approx(res.gap_after.gap, rel=1e-4, abs=1e-3)


def test_under_fsdp_precompute_gets_an_explicit_reference(tiny_spec, pairs_file, tmp_path, monkeypatch):
    """TRL reloads a reference from the base path under FSDP even to precompute; ours
    hands it the starting model loaded from the spec instead."""
    import torch

    from culturalign.train import data as d

    cfg = resolve_config({"preset": "tiny-test", "dpo": {"precompute_ref_log_probs": True}})
    args = trainers.trl_args("dpo", cfg, trainers.plan_batches(cfg, 8, 1), tmp_path / "ck", [])
    loaded = models.load_model(tiny_spec)
    kw = {
        "model": loaded.model,
        "tokenizer": loaded.tokenizer,
        "train_dataset": d.to_dataset(d.load_pairs(pairs_file)),
        "args": args,
        "cfg": cfg,
        "model_spec": tiny_spec,
    }
    notes: list[str] = []
    assert trainers.build_trainer("dpo", notes=notes, **kw).ref_model is None  # plain precompute
    monkeypatch.setattr(models, "sharded_training", lambda: "FSDP")
    notes = []
    ref = trainers.build_trainer("dpo", notes=notes, **kw).ref_model
    assert ref is not None and any("loaded again" in n for n in notes)
    start = dict(models.load_model(tiny_spec).model.named_parameters())
    for name, p in ref.named_parameters():
        assert torch.equal(p.cpu(), start[name]) and not p.requires_grad, name
