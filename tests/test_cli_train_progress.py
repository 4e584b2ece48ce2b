"""``culturalign train`` shows one progress line per step with loss and reward margin
(TRL's raw dictionaries go to ``OUT/train.log``); ``-v`` brings TRL's own output back."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from culturalign import progress
from culturalign.cli import app


@pytest.fixture()
def pairs(tmp_path):
    rows = [
        {
            "question_id": f"q{i}",
            "prompt": [{"role": "user", "content": f"Question {i}: is tea polite?"}],
            "chosen": [{"role": "assistant", "content": "In China, tea is offered as respect."}],
            "rejected": [{"role": "assistant", "content": "No. Tea does not matter."}],
        }
        for i in range(12)
    ]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _train(tiny_model_dir, pairs, out, *flags):
    args = [
        *flags,
        "train",
        "dpo",
        "--model",
        f"hf:{tiny_model_dir}",
        "--data",
        str(pairs),
        "--out",
        str(out),
    ]
    args += ["--preset", "tiny-test", "--lora", "--set", "max_steps=4", "--set", "logging_steps=1"]
    try:
        result = CliRunner().invoke(app, args, catch_exceptions=False)
    finally:
        progress.set_verbosity(progress.NORMAL)
    assert result.exit_code == 0, result.output
    return result


def test_training_prints_steps_with_loss_and_margin_and_logs_the_rest(
    tiny_model_dir, pairs, tmp_path, monkeypatch
):
    monkeypatch.setenv("CULTURALIGN_PROGRESS", "1")
    out = tmp_path / "out"
    result = _train(tiny_model_dir, pairs, out)
    lines = [line for line in result.stderr.splitlines() if line.startswith("DPO training: ")]
    assert [line.split(": ", 1)[1].split(" ")[0] for line in lines] == ["1/4", "2/4", "3/4", "4/4"]
    for line in lines:
        assert "/s  ETA " in line and " loss 0." in line and " margin " in line, line
    assert "{'loss'" not in result.output and "it/s]" not in result.output  # no TRL dicts, no tqdm
    logged = [json.loads(line) for line in (out / "train.log").read_text(encoding="utf-8").splitlines()]
    steps = [e for e in logged if "loss" in e]
    assert [e["step"] for e in steps] == [1, 2, 3, 4]
    assert all("rewards/margins" in e and "learning_rate" in e for e in steps)
    assert f"{steps[-1]['loss']:.4f}" in lines[-1]  # the last line shows the last logged loss

    verbose = _train(tiny_model_dir, pairs, tmp_path / "again", "-v")
    assert "{'loss'" in verbose.output or "'loss':" in verbose.output  # TRL's own log dictionaries
    assert "DPO training: " not in verbose.output
    assert (tmp_path / "again" / "train.log").is_file()  # the log is kept either way
