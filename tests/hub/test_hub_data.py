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


def test_train_command_on_hub_data(cached_hub_dataset, tiny_model_dir, tmp_path):
    spec = cached_hub_dataset("someone/pairs", PAIRS)
    out = tmp_path / "out"
    args = ["train", "dpo", "--model", f"hf:{tiny_model_dir}", "--data", spec, "--out", str(out),
            "--preset", "tiny-test", "--lora", "--set", "lora.r=4"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads((out / "culturalign-train.json").read_text())["data"]
    assert data["path"] == spec and data["sha256"] == hub.fingerprint(spec)


def test_unknown_hub_dataset_is_a_clear_error(cached_hub_dataset, tmp_path):
    result = CliRunner().invoke(
        app, ["train", "dpo", "--data", "hf:nobody/missing", "--out", str(tmp_path / "o")]
    )
    # a CulturalignError is what main() prints plainly with exit status 2
    assert isinstance(result.exception, CulturalignError), result.output
    text = str(result.exception)
    assert "nobody/missing" in text and "offline" in text.lower() and "data file not found" not in text
