"""`study lr` (CARE's rate grid, chosen on held-out pairs, then trained on all of them),
`study sizes` (002 Fig. 2: the top k in selection-rank order), and held-out pairs given
up front (`--heldout`): 100% of the data is then all of it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from train_helpers import make_pairs, write_jsonl

from culturalign.errors import ConfigError
from culturalign.train.studies import load_study_config, run_scaling
from culturalign.train.study_lr import choose_rate, parse_rates, run_lr
from culturalign.train.study_sizes import parse_sizes, ranked_ids, run_sizes, top_k


def _cfg(method: str = "dpo"):
    return load_study_config(None, eval_name="gap", train_overrides={"preset": "tiny-test"}, method=method)


def test_lr_study_chooses_on_heldout_then_trains_on_everything(tiny_spec, tmp_path):
    data = write_jsonl(tmp_path / "pairs.jsonl", make_pairs(16))
    held = write_jsonl(tmp_path / "held.jsonl", make_pairs(4, start=100))
    out = tmp_path / "lr"
    table = run_lr(tiny_spec, data, out, _cfg(), [1e-6, 5e-3], heldout=held)
    by_rate = {r["learning rate"]: r for r in table.rows}
    assert set(by_rate) == {1e-6, 5e-3}
    # the tiny model learns at 5e-3 and hardly moves at 1e-6: the grid must pick the former
    assert by_rate[5e-3]["gap"] > by_rate[1e-6]["gap"] + 0.5
    assert by_rate[5e-3]["chosen"] == "yes" and by_rate[1e-6]["chosen"] == ""
    final = json.loads((out / "final" / "lr.json").read_text())
    assert final["chosen"]["learning rate"] == 5e-3 and final["final"]["pairs"] == 20
    manifest = json.loads((out / "final" / "model" / "culturalign-train.json").read_text())
    assert manifest["result"]["n_train"] == 20 and manifest["result"]["n_heldout"] == 0
    assert manifest["config"]["learning_rate"] == 5e-3
    md = (out / "study.md").read_text()
    assert "16 pairs to train on, 4 held out from held.jsonl (--heldout)" in md
    assert "chosen: learning rate 0.005 by gap (higher is better) on 4 held-out pairs" in md
    assert (out / "study.png").stat().st_size > 0


def test_choose_rate_and_parse_errors():
    rows = [{"learning rate": 1e-7, "loss": 0.5}, {"learning rate": 5e-7, "loss": 0.2}]
    assert choose_rate(rows, "loss")["learning rate"] == 5e-7  # lower loss wins
    tie = [{"learning rate": 9e-7, "gap": 1.0}, {"learning rate": 1e-7, "gap": 1.0}]
    assert choose_rate(tie, "gap")["learning rate"] == 1e-7  # a tie goes to the gentler rate
    assert parse_rates("1e-7, 5e-7,9e-7") == [1e-7, 5e-7, 9e-7]
    with pytest.raises(ConfigError, match="--rates 'fast': write comma-separated numbers"):
        parse_rates("fast")
    with pytest.raises(ConfigError, match="must be positive"):
        parse_rates("0,1e-7")
    with pytest.raises(ConfigError, match="--sizes '10,x'"):
        parse_sizes("10,x")


def test_top_k_follows_the_file_order_per_culture():
    from culturalign.records import PreferencePair

    rows = []
    for culture in ("Chinese", "German"):
        for i, row in enumerate(make_pairs(5, marks=False)):
            row = {**row, "question_id": f"{culture}-{4 - i}", "culture": culture}  # rank order, not sorted
            rows += [row, {**row, "rejected": [{"role": "assistant", "content": "another culture"}]}]
    pairs = [PreferencePair.model_validate(r) for r in rows]
    assert ranked_ids(pairs)["German"] == [f"German-{k}" for k in (4, 3, 2, 1, 0)]
    two = top_k(pairs, 2)
    assert [p.question_id for p in two] == ["Chinese-4"] * 2 + ["Chinese-3"] * 2 + ["German-4"] * 2 + [
        "German-3"
    ] * 2
    assert len(top_k(pairs, 2, one_per_sample=True)) == 4


def test_sizes_study_grows_the_topk_cells(tiny_spec, tmp_path):
    data = write_jsonl(tmp_path / "ranked.jsonl", make_pairs(12, marks=False))
    held = write_jsonl(tmp_path / "held.jsonl", make_pairs(4, start=50))
    out = tmp_path / "sizes"
    table = run_sizes(tiny_spec, data, out, [0, 4, 12], _cfg("sft"), heldout=held)
    assert [r["pairs"] for r in table.rows] == [0, 4, 12]
    assert table.reference == "0"
    cell = (out / "data" / "top00004.jsonl").read_text().splitlines()
    assert [json.loads(x)["question_id"] for x in cell] == ["q0", "q1", "q2", "q3"]  # the top 4, in order
    assert table.rows[2]["gap"] > table.rows[0]["gap"]  # SFT on chosen answers widens the gap


def test_scaling_with_heldout_file_trains_on_all_pairs(tiny_spec, tmp_path):
    data = write_jsonl(tmp_path / "pairs.jsonl", make_pairs(12))
    held = write_jsonl(tmp_path / "held.jsonl", make_pairs(4, start=40))
    table = run_scaling(tiny_spec, data, tmp_path / "scaling", [0, 1], _cfg(), heldout=held)
    assert [r["pairs"] for r in table.rows] == [0, 12]  # 100% is every pair of --data
    assert any("held out from held.jsonl (--heldout)" in n for n in table.notes)
    # without --heldout the split is named in the notes, with how to avoid it
    carved = run_scaling(tiny_spec, data, tmp_path / "carved", [0, 1], _cfg())
    note = carved.notes[0]
    assert "split off pairs.jsonl by question before any share was drawn" in note
    assert "pass --heldout FILE to train on all 12" in note


def test_cli_study_lr_rejects_bad_rates_before_training(tmp_path):
    data = write_jsonl(tmp_path / "pairs.jsonl", make_pairs(4))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "culturalign",
            "study",
            "lr",
            "--data",
            str(data),
            "--out",
            str(tmp_path / "o"),
            "--rates",
            "1e-7,fast",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "--rates '1e-7,fast': write comma-separated numbers" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "o").exists()


def test_train_summary_says_where_heldout_items_came_from(pairs_file, tmp_path):
    from pathlib import Path

    from culturalign.train.presets import resolve_config
    from culturalign.train.run import heldout_note, load_training_data

    cfg = resolve_config({"preset": "tiny-test"})
    train_items, held, _ = load_training_data("dpo", pairs_file, cfg)
    note = heldout_note(held, Path(pairs_file), cfg)
    assert note == (
        f"held out: {len(held)} items split off pairs.jsonl by question (heldout.fraction 0.2) "
        "and not trained on; pass --heldout FILE to train on every item"
    )
    assert len(train_items) + len(held) == 24
    extra = write_jsonl(tmp_path / "extra.jsonl", make_pairs(3, start=90))
    cfg = resolve_config({"preset": "tiny-test", "heldout": {"file": str(extra)}})
    train_items, held, _ = load_training_data("dpo", pairs_file, cfg)
    assert len(train_items) == 24 and len(held) == 3
    assert heldout_note(held, Path(pairs_file), cfg).startswith(f"held out: 3 items from {extra} (--heldout)")
    off = resolve_config({"preset": "tiny-test", "heldout": {"measure": False}})
    assert "heldout.measure is off" in heldout_note([], Path(pairs_file), off)
