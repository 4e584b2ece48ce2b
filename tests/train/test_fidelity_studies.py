"""The fidelity studies: effects over seeds checked by hand, the survey selection scores,
and the benchmark's --quick run end to end on the tiny random model."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from culturalign.records import ChoiceItem
from culturalign.train.study_opinion import did_scores
from culturalign.train.study_seeds import VERDICTS, effect_line, fidelity_verdict, seeded_effect
from culturalign.train.study_selection import rank_survey_questions, survey_distinctiveness

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_fidelity.py"


def test_seeded_effect_mean_interval_and_verdicts():
    # two seeds, two items: differences 1, 3 and 3, 5 -> mean 3; every resample lies in [1, 5]
    up = seeded_effect([{"a": 1.0, "b": 3.0}, {"a": 3.0, "b": 5.0}])
    assert up["value"] == 3.0 and up["per_seed"] == [2.0, 4.0]
    assert 1.0 <= up["ci_low"] <= 3.0 <= up["ci_high"] <= 5.0
    assert up["verdict"] == "reproduced" and up["n_seeds"] == 2 and up["n_items"] == 2
    down = seeded_effect([{"a": -1.0, "b": -2.0}])
    assert down["verdict"] == "not reproduced"
    mixed = seeded_effect([{"a": -1.0, "b": 1.0, "c": 0.5}, {"a": 1.0, "b": -1.0}])
    assert mixed["verdict"] == "inconclusive"
    assert mixed["n_items"] == 2 and mixed["left_out_items"] == 1  # "c" was not scored for seed 2
    one = seeded_effect([{"a": 2.0}])
    assert one["value"] == 2.0 and one["ci_low"] is None and one["verdict"] == "inconclusive"
    assert "(1 seeds x 1 items) inconclusive" in effect_line("x", one)


def test_verdict_reads_only_the_interval():
    assert fidelity_verdict({"ci_low": 0.01, "ci_high": 0.2}) == "reproduced"
    assert fidelity_verdict({"ci_low": -0.2, "ci_high": -0.01}) == "not reproduced"
    assert fidelity_verdict({"ci_low": 0.0, "ci_high": 0.2}) == "inconclusive"
    assert fidelity_verdict({"ci_low": None, "ci_high": None}) == "inconclusive"


def test_difference_in_differences_by_hand():
    before = {"T": {"q1": 0.5, "q2": 0.6}, "C": {"q1": 0.7, "q2": 0.7}}
    after = {"T": {"q1": 0.6, "q2": 0.6}, "C": {"q1": 0.65, "q2": 0.8}}
    got = did_scores(before, after, "T", "C")
    assert got == pytest.approx({"q1": 0.1 - (-0.05), "q2": 0.0 - 0.1})


def _opinion(qid: str, question: str, mine: list[float], other: list[float]) -> ChoiceItem:
    return ChoiceItem(
        id=qid,
        question=question,
        options=["yes", "no"],
        target_distributions={"Nigeria": mine, "Germany": other},
        source="wvs",
        kind="opinion",
    )


def test_distinctiveness_is_the_js_distance_to_the_others():
    same = _opinion("Q1", "q", [0.6, 0.4], [0.6, 0.4])
    apart = _opinion("Q2", "q", [1.0, 0.0], [0.0, 1.0])
    assert survey_distinctiveness(same, "Nigeria") == pytest.approx(0.0, abs=1e-9)
    assert survey_distinctiveness(apart, "Nigeria") == pytest.approx(1.0)


def test_rank_keeps_one_question_per_cluster_ranked_by_r_times_d():
    # Q1-Q3 share a direction (one cluster of 3), Q4 stands alone
    items = [
        _opinion("Q1", "police", [0.9, 0.1], [0.5, 0.5]),
        _opinion("Q2", "courts", [0.8, 0.2], [0.6, 0.4]),
        _opinion("Q3", "press", [0.7, 0.3], [0.6, 0.4]),
        _opinion("Q4", "religion", [1.0, 0.0], [0.0, 1.0]),
    ]
    vectors = {"police": [1.0, 0.0], "courts": [0.99, 0.14], "press": [0.98, 0.2], "religion": [0.0, 1.0]}

    def encode(texts):
        return np.asarray([vectors[t] for t in texts], dtype=np.float32)

    ranking = rank_survey_questions(items, "Nigeria", encode, theta=0.9)
    assert [row["r"] for row in ranking] == [3, 1] or [row["r"] for row in ranking] == [1, 3]
    assert {row["id"] for row in ranking} == {"Q2", "Q4"}  # Q2 sits nearest the cluster's centroid
    rows = {row["id"]: row for row in ranking}
    assert rows["Q4"]["d"] == pytest.approx(1.0) and rows["Q4"]["s"] == pytest.approx(1.0)
    assert rows["Q2"]["s"] == pytest.approx(3 * rows["Q2"]["d"], abs=1e-5)
    assert [row["s"] for row in ranking] == sorted((row["s"] for row in ranking), reverse=True)


def test_benchmark_quick_runs_every_effect(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CULTURALIGN_PROGRESS", "0")
    spec = importlib.util.spec_from_file_location("bench_fidelity", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--quick", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "bench_fidelity.json").read_text())
    assert len(result["headline"]) == 6 and result["seeds"] == [0]
    assert set(result["headline"]) == set(result["descriptions"])
    printed = capsys.readouterr().out.splitlines()
    for name in result["headline"]:
        line = next(x for x in printed if x.startswith(name + ": "))
        assert line.rsplit(" ", 1)[-1] in ("reproduced", "inconclusive") or line.endswith("not reproduced")
    for effect in result["headline"].values():
        assert effect["verdict"] in VERDICTS and effect["n_seeds"] == 1 and effect["n_items"] >= 1
    for study in ("care", "opinion", "selection"):
        saved = json.loads((tmp_path / study / "fidelity.json").read_text())
        assert saved["effects"] and saved["notes"]
    # the held-out questions of the opinion study are the export's held-out side, never trained on
    split = json.loads((tmp_path / "opinion" / "data" / "split.json").read_text())
    scored = {
        json.loads(line)["id"]
        for line in (tmp_path / "opinion" / "cells" / "seed0" / "opinions" / "items.jsonl")
        .read_text()
        .splitlines()
    }
    assert scored and scored <= set(split["heldout"]) and not scored & set(split["train"])


def test_study_commands_refuse_bad_input_with_exit_2(tmp_path):
    import subprocess
    import sys

    from culturalign.paths import package_data

    wvs = package_data("data", "sample", "opinions_wvs")
    for args in (
        ["study", "opinion", "-d", str(wvs), "--target", "XYZ", "--out", str(tmp_path / "a")],
        [
            "study",
            "opinion",
            "-d",
            str(wvs),
            "--target",
            "Japan",
            "--control",
            "JPN",
            "--out",
            str(tmp_path / "b"),
        ],
        [
            "study",
            "selection",
            "-d",
            str(wvs),
            "--target",
            "Japan",
            "--budget",
            "50",
            "--out",
            str(tmp_path / "c"),
        ],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "culturalign", *args], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr and proc.stderr.strip()


def test_reference_choice_questions_leave_out_what_training_saw():
    from culturalign.paths import package_data
    from culturalign.records import CulturalQuestion
    from culturalign.train.study_care_effect import load_preference_pairs, unseen_questions

    pairs = load_preference_pairs(package_data("data", "sample", "care_prefs.jsonl"))
    # 47 questions; 3 give no best-vs-worst pair (their responses are not far enough apart)
    assert len(pairs) == 44 and all(p.chosen_rating > p.rejected_rating for p in pairs)
    trained_text = pairs[0].prompt[-1].content
    fresh = CulturalQuestion(
        id="new", text="A question nobody trained on?", culture="Chinese", language="en", reference_answer="x"
    )
    clash = CulturalQuestion(
        id="other-id", text=trained_text, culture="Chinese", language="en", reference_answer="y"
    )
    same_id = CulturalQuestion(
        id=pairs[1].question_id, text="Reworded?", culture="Chinese", language="en", reference_answer="z"
    )
    kept, left_out = unseen_questions([fresh, clash, same_id], pairs)
    assert [q.id for q in kept] == ["new"] and left_out == 2


def test_study_opinion_command_end_to_end(tiny_model_dir, tmp_path):
    import subprocess
    import sys

    from culturalign.paths import package_data

    out = tmp_path / "study"
    args = [
        "study", "opinion", "--model", f"hf:{tiny_model_dir}", "-d", str(package_data("data", "sample", "opinions_wvs")),
        "--target", "Japan", "--control", "DEU", "--seeds", "1", "--answers-per-question", "2",
        "--preset", "tiny-test", "--set", "max_steps=1", "--set", "max_length=512", "--out", str(out),
    ]  # fmt: skip
    env = {**__import__("os").environ, "CULTURALIGN_PROGRESS": "0", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "culturalign", *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("opinion_target_minus_control: ")
    saved = json.loads((out / "fidelity.json").read_text())
    assert saved["effects"]["opinion_target_minus_control"]["n_seeds"] == 1
    assert (out / "fidelity.md").read_text().startswith("# Opinion alignment toward Japan")
