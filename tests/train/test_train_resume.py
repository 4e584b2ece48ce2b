"""Checkpoints and --resume: a run stopped mid-way continues from its newest checkpoint
and ends where an uninterrupted run ends; a folder never mixes two different runs."""

from __future__ import annotations

import csv
import json

import pytest
from transformers import TrainerCallback

from culturalign.errors import ConfigError
from culturalign.train.run import train

CONFIG = {"preset": "tiny-test", "save_steps": 3, "keep_checkpoints": False}


class Interrupt(Exception):
    pass


class StopAt(TrainerCallback):
    """Raises after an optimizer step, like a kill between two steps."""

    def __init__(self, step: int):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise Interrupt(f"stopped at step {state.global_step}")


class FirstStep(TrainerCallback):
    def __init__(self):
        self.first = None

    def on_step_end(self, args, state, control, **kwargs):
        if self.first is None:
            self.first = state.global_step


def _losses(path):
    with open(path) as fh:
        return {int(r["step"]): float(r["loss"]) for r in csv.DictReader(fh) if r.get("loss")}


def test_interrupted_run_resumes_from_its_checkpoint(tiny_spec, pairs_file, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(Interrupt):
        train("dpo", tiny_spec, pairs_file, out, config=CONFIG, callbacks=[StopAt(4)])
    manifest = json.loads((out / "culturalign-train.json").read_text())
    assert manifest["status"] == "interrupted"
    assert (out / "checkpoints" / "checkpoint-3").is_dir()
    assert max(_losses(out / "curves.csv")) == 3  # the partial curves are kept (step 4 died before its log)

    # the same command without --resume refuses to overwrite the unfinished run
    with pytest.raises(ConfigError, match=r"unfinished dpo run .*checkpoint-3.*--resume"):
        train("dpo", tiny_spec, pairs_file, out, config=CONFIG)
    # resuming with other settings is refused too
    with pytest.raises(ConfigError, match="settings changed: learning_rate"):
        train("dpo", tiny_spec, pairs_file, out, config={**CONFIG, "learning_rate": 1e-3}, resume=True)

    first = FirstStep()
    resumed = train("dpo", tiny_spec, pairs_file, out, config=CONFIG, resume=True, callbacks=[first])
    assert first.first == 4  # continued after checkpoint-3, not from step 1
    assert any("resumed from checkpoint-3" in n for n in resumed.notes)

    straight = train("dpo", tiny_spec, pairs_file, tmp_path / "straight", config=CONFIG)
    assert resumed.steps == straight.steps == 10
    a, b = _losses(out / "curves.csv"), _losses(tmp_path / "straight" / "curves.csv")
    assert sorted(a) == sorted(b) == list(range(1, 11))
    for step in range(5, 11):  # after the resume point the run matches the uninterrupted one
        assert a[step] == pytest.approx(b[step], rel=1e-3, abs=1e-5), step
    assert resumed.gap_after.gap == pytest.approx(straight.gap_after.gap, rel=1e-3)

    # a finished folder: --resume returns its result, without --resume it is refused
    again = train("dpo", tiny_spec, pairs_file, out, config=CONFIG, resume=True)
    assert again.steps == 10 and again.gap_after == resumed.gap_after
    with pytest.raises(ConfigError, match="already holds a finished dpo run"):
        train("dpo", tiny_spec, pairs_file, out, config=CONFIG)
    # ... but only when it was trained the same way: other settings are not its result
    # (before, a finished folder was handed back whatever was asked)
    with pytest.raises(ConfigError, match="cannot reuse the finished run: settings changed: learning_rate"):
        train("dpo", tiny_spec, pairs_file, out, config={**CONFIG, "learning_rate": 1e-3}, resume=True)


def test_foreign_folder_is_not_overwritten(tiny_spec, pairs_file, tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not empty"):
        train("dpo", tiny_spec, pairs_file, out, config=CONFIG)
