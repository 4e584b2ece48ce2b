"""``hf:OWNER/NAME`` data in every command that reads data, ``train`` included, loaded
offline from a local ``datasets`` cache (the tests never reach the network)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from culturalign.cli import app
from culturalign.datasets import hub
from culturalign.errors import CulturalignError
from culturalign.train.data import data_kind, load_pairs

PAIRS = [
    {"id": f"p{i}", "question_id": f"q{i}", "prompt": f"What is custom number {i}?",
     "chosen": f"A careful answer about custom {i}.", "rejected": "No idea.", "culture": "Arab"}
    for i in range(12)
]  # fmt: skip


def test_train_reads_hub_pairs(cached_hub_dataset):
    spec = cached_hub_dataset("someone/pairs", PAIRS)
    assert data_kind(spec) == "preference"
    pairs = load_pairs(spec)
    assert [p.prompt[-1].content for p in pairs][:2] == [PAIRS[0]["prompt"], PAIRS[1]["prompt"]]
    assert len(pairs) == 12
    # the fingerprint is over the rows, so a second load gives the same hash
    first = hub.fingerprint(spec)
    hub._load_dataset.cache_clear()
    assert hub.fingerprint(spec) == first and len(first) == 64


def test_train_on_hub_data_and_push_the_adapter(cached_hub_dataset, hub_server, tiny_model_dir, tmp_path):
    """The Hub both ways: pairs from hf:..., the trained adapter pushed with its card."""
    spec = cached_hub_dataset("someone/pairs", PAIRS)
    out = tmp_path / "out"
    args = ["train", "dpo", "--model", f"hf:{tiny_model_dir}", "--data", spec, "--out", str(out),
            "--preset", "tiny-test", "--lora", "--set", "lora.r=4", "--push-to-hub", "me/tiny-dpo"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "culturalign-train.json").read_text())
    assert manifest["data"]["path"] == spec and manifest["data"]["sha256"] == hub.fingerprint(spec)
    files = hub_server.files("me/tiny-dpo", repo_type="model")
    assert files["adapter_model.safetensors"] == (out / "adapter_model.safetensors").read_bytes()
    assert "adapter_config.json" in files and not any(f.startswith("checkpoints/") for f in files)
    card = files["README.md"].decode()
    result_ = manifest["result"]
    before, after = result_["gap_before"]["gap"], result_["gap_after"]["gap"]
    assert f"{before:.4f} before training, {after:.4f} after" in card
    assert manifest["data"]["sha256"] in card and spec in card and 'library_name: "peft"' in card
    # a local base model is named in the text, not in the metadata the Hub checks
    assert f"Base model: `{manifest['base_model']}`" in card and "base_model:" not in card and "DPO" in card


def test_unknown_hub_dataset_is_a_clear_error(cached_hub_dataset, tmp_path):
    result = CliRunner().invoke(
        app, ["train", "dpo", "--data", "hf:nobody/missing", "--out", str(tmp_path / "o")]
    )
    # a CulturalignError is what main() prints plainly with exit status 2
    assert isinstance(result.exception, CulturalignError), result.output
    text = str(result.exception)
    assert "nobody/missing" in text and "offline" in text.lower() and "data file not found" not in text


def test_study_and_synth_export_read_hub_data(cached_hub_dataset, tmp_path):
    """A study's grid draws from hub pairs like from a file, held-out split included."""
    from culturalign.train.studies import Study, load_study_config

    spec = cached_hub_dataset("someone/pairs", PAIRS)
    study = Study("scaling", "embedded", spec, tmp_path / "study", load_study_config())
    assert len(study.pairs) == 12 and study.held and len(study.pool) + len(study.held) == 12
    assert study.held_path.is_file()


def test_synth_export_reads_hub_samples(cached_hub_dataset, tmp_path):
    rows = [
        {"id": f"s{i}-{c}", "question": f"How do people greet at festival {i}?", "target_culture": c,
         "response": f"In {c} culture, greeting number {i}.",
         "other_responses": {o: f"In {o} culture, greeting number {i}." for o in ("UK", "Japan") if o != c}}
        for i in range(3) for c in ("UK", "Japan")
    ]  # fmt: skip
    spec = cached_hub_dataset("someone/samples", rows)
    sft, dpo = tmp_path / "sft.jsonl", tmp_path / "dpo.jsonl"
    result = CliRunner().invoke(
        app, ["synth", "export", "--data", spec, "--sft", str(sft), "--dpo", str(dpo)]
    )
    assert result.exit_code == 0, result.output
    # arrow pads each row's other_responses with the other key as None; it is dropped again
    assert len(sft.read_text().splitlines()) == 6 and len(dpo.read_text().splitlines()) == 6
    bad = cached_hub_dataset("someone/bad-samples", [{"id": "x", "question": "Q?", "response": "A."}])
    result = CliRunner().invoke(app, ["synth", "export", "--data", bad, "--sft", str(sft)])
    assert "row 1" in str(result.exception) and "target_culture" in str(result.exception)
