"""The papers' studies as grids of train + evaluate on the tiny model, with real
evaluations: the held-out gap, and CARE's judge pipeline (tiny model as a stand-in judge)."""

from __future__ import annotations

import csv
import json

import pytest
from train_helpers import make_pairs, write_jsonl

from culturalign.errors import ConfigError, DataError
from culturalign.train.studies import load_study_config, run_algorithms, run_mixing, run_scaling


def _cfg(**kw):
    return load_study_config(None, eval_name="gap", train_overrides={"preset": "tiny-test"}, **kw)


def _rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def test_scaling_study_grows_the_gap_with_more_pairs(tiny_spec, tmp_path):
    data = write_jsonl(tmp_path / "pairs.jsonl", make_pairs(30))
    out = tmp_path / "scaling"
    table = run_scaling(tiny_spec, data, out, [0, 0.5, 1], _cfg())
    gaps = [r["gap"] for r in table.rows]
    assert [r["pairs"] for r in table.rows] == [0, 12, 24]
    assert gaps[1] > gaps[0] + 1 and gaps[2] > gaps[0] + 1  # the 0% row is the vanilla model
    assert (out / "study.png").stat().st_size > 0
    md = (out / "study.md").read_text()
    assert "| fraction | pairs | gap |" in md and "24 pairs to train on, 6 held out" in md
    assert [float(r["gap"]) for r in _rows(out / "study.csv")] == pytest.approx(gaps)
    # every cell trained against the same held-out pairs
    held = (out / "data" / "heldout.jsonl").read_text()
    assert (
        json.loads((out / "cells" / "050pct" / "model" / "culturalign-train.json").read_text())["result"][
            "n_heldout"
        ]
        == 6
    )
    assert (out / "cells" / "100pct" / "model" / "heldout.jsonl").read_text() == held
    # a rerun reuses finished cells
    (out / "cells" / "050pct" / "model" / "model.safetensors").unlink()
    again = run_scaling(tiny_spec, data, out, [0, 0.5, 1], _cfg())
    assert [r["gap"] for r in again.rows] == gaps


def test_mixing_study_scores_native_and_foreign_separately(tiny_spec, tmp_path):
    data = write_jsonl(tmp_path / "pairs.jsonl", make_pairs(24))
    table = run_mixing(tiny_spec, data, tmp_path / "mixing", None, _cfg())
    assert [r["training data"] for r in table.rows] == ["vanilla", "native", "foreign", "mixed"]
    n = table.rows[1]["pairs"]
    assert n == table.rows[2]["pairs"] == table.rows[3]["pairs"] > 0
    for row in table.rows[1:]:
        assert row["native/gap"] > table.rows[0]["native/gap"]
        assert row["foreign/gap"] > table.rows[0]["foreign/gap"]
    assert any(f"mixed = {n // 2} native + {n - n // 2} foreign" in note for note in table.notes)


def test_mixing_needs_marked_pairs(tiny_spec, tmp_path):
    data = write_jsonl(tmp_path / "pairs.jsonl", make_pairs(12, marks=False))
    with pytest.raises(DataError, match="0 native, 0 foreign and 12 unmarked"):
        run_mixing(tiny_spec, data, tmp_path / "m", None, _cfg())


def test_algorithm_study_reports_changes_over_vanilla(tiny_spec, tmp_path):
    data = write_jsonl(tmp_path / "pairs.jsonl", make_pairs(20))
    out = tmp_path / "algos"
    table = run_algorithms(tiny_spec, data, out, ["dpo", "kto", "simpo"], _cfg())
    assert [r["method"] for r in table.rows] == ["vanilla", "dpo", "kto", "simpo"]
    for row in table.rows[1:]:
        assert row["delta/gap"] == pytest.approx(row["gap"] - table.rows[0]["gap"])
        assert row["delta/gap"] > 1, row["method"]
    md = (out / "study.md").read_text()
    # the change carries its paired interval over the 4 held-out pairs
    assert f"| dpo | {table.rows[1]['pairs']} | {table.rows[1]['delta/gap']:+.3f} [" in md
    dpo = table.changes["dpo"]["gap"]
    assert dpo["n"] == 4 and dpo["delta"] == pytest.approx(table.rows[1]["delta/gap"], abs=1e-4)
    assert dpo["ci_low"] <= dpo["delta"] <= dpo["ci_high"]
    csv_dpo = _rows(out / "study.csv")[1]
    assert (
        float(csv_dpo["delta/gap CI low"]) == pytest.approx(dpo["ci_low"]) and csv_dpo["delta/gap n"] == "4"
    )
    with pytest.raises(ConfigError, match="unknown ppo"):
        run_algorithms(tiny_spec, data, out, ["ppo"], _cfg())


def test_study_config_yaml_is_validated_with_lines(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text("method: dpo\ntrain:\n  preset: tiny-test\n  lora:\n    rank: 4\neval:\n  name: gap\n")
    with pytest.raises(DataError) as info:
        load_study_config(path)
    assert info.value.lines() == [f"{path}:5: lora.rank: unknown setting; did you mean 'lora.r'?"]
    path.write_text("method: dpo\ntrain:\n  preset: tiny-test\neval:\n  name: gap\n  judgee: x\n")
    with pytest.raises(DataError) as info:
        load_study_config(path)
    assert info.value.lines() == [f"{path}:6: eval.judgee: unknown setting"]
    path.write_text("method: dpo\ntrain:\n  preset: tiny-test\n  learning_rate: 0.01\neval:\n  name: care\n")
    cfg = load_study_config(path, eval_data="q.jsonl", eval_limit=3)
    assert (cfg.train.learning_rate, cfg.eval.name, str(cfg.eval.data), cfg.eval.limit) == (
        0.01,
        "care",
        "q.jsonl",
        3,
    )


def test_scaling_study_with_the_care_evaluation(tiny_spec, tmp_path):
    """The evaluation named in the config runs for real: responses are generated by each
    cell's model and judged by CARE's judge pipeline (the tiny model is a weak stand-in)."""
    pytest.importorskip("culturalign.evals.care.judged")
    from culturalign.paths import package_data

    questions = package_data("data", "sample", "care_questions.jsonl")
    cfg = load_study_config(None, train_overrides={"preset": "tiny-test"})
    cfg.eval = cfg.eval.model_copy(
        update={
            "name": "care",
            "data": questions,
            "judge": tiny_spec,
            "limit": 2,
            "max_new_tokens": 6,
            "lang": "en",
            "judge_max_new_tokens": 8,
            "judge_retries": 0,
        }
    )
    data = write_jsonl(tmp_path / "pairs.jsonl", make_pairs(12))
    out = tmp_path / "care-study"
    table = run_scaling(tiny_spec, data, out, [0, 1], cfg)
    assert len(table.rows) == 2
    for row in table.rows:  # every answer was judged: rated, or counted invalid
        assert row["rated"] + row["invalid"] == 2
    for cell in ("000pct", "100pct"):
        responses = (out / "cells" / cell / "eval" / "responses.jsonl").read_text().splitlines()
        assert len(responses) == 2
        assert (out / "cells" / cell / "eval" / "summary.json").is_file()
    model_spec = json.loads((out / "cells" / "100pct" / "eval" / "summary.json").read_text())["model"]
    assert model_spec == f"hf:{out / 'cells' / '100pct' / 'model'}"


def test_algorithm_study_with_a_choice_benchmark_as_its_evaluation(tiny_spec, tmp_path):
    """Any choice benchmark can be a study's evaluation; its headline numbers become columns."""
    from culturalign.paths import package_data

    data = write_jsonl(tmp_path / "pairs.jsonl", make_pairs(12))
    cfg = load_study_config(
        None,
        eval_name="opinions",
        eval_data=package_data("data", "sample", "opinions_wvs"),
        eval_limit=3,
        train_overrides={"preset": "tiny-test", "epochs": 1},
    )
    table = run_algorithms(tiny_spec, data, tmp_path / "algos", ["dpo"], cfg)
    sims = [r["culture_sim"] for r in table.rows]
    assert len(sims) == 2 and all(0 < s <= 1 for s in sims)
    summary = json.loads(next((tmp_path / "algos").rglob("summary.json")).read_text())
    assert summary["culture_sim"] in sims or any(abs(summary["culture_sim"] - s) < 1e-9 for s in sims)
