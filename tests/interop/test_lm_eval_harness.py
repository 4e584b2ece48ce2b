"""lm-evaluation-harness runs the exported tasks on a tiny random model (offline, through
its Python API) and gets the per-option log-probabilities culturalign's evaluators read,
and the same aggregate numbers as culturalign's lm_eval_results.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from culturalign.datasets import culturalbench as cb_loader
from culturalign.datasets import globalopinion
from culturalign.datasets import mcq as mcq_loader
from culturalign.evals.choice.culturalbench import run_culturalbench
from culturalign.evals.choice.mcq import run_mcq
from culturalign.evals.choice.opinions import run_opinions
from culturalign.interop.lm_eval import export_lm_eval
from culturalign.paths import package_data

SAMPLE = package_data("data", "sample")
TASKS = ["culturalign_opinions", "culturalign_mcq_text", "culturalign_culturalbench_easy"]
TOL = 1e-4


def _items(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "items.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def harness_run(tiny_model_dir, tmp_path_factory):
    pytest.importorskip(
        "lm_eval", reason="lm-evaluation-harness is not installed (pip install -e '.[bench]' or '.[dev]')"
    )
    import lm_eval
    from lm_eval.tasks import TaskManager

    root = tmp_path_factory.mktemp("harness")
    data = {
        "opinions": globalopinion.load(SAMPLE / "opinions_globalopinionqa.csv"),
        "mcq": mcq_loader.load(SAMPLE / "choice_mcq.jsonl"),
        "easy": cb_loader.load(SAMPLE / "culturalbench_easy.csv"),
    }
    export_lm_eval(root / "tasks", "opinions", data["opinions"])
    export_lm_eval(root / "tasks", "mcq", data["mcq"], mode="text")
    export_lm_eval(root / "tasks", "culturalbench", data["easy"])
    out = lm_eval.simple_evaluate(
        model="hf",
        model_args=f"pretrained={tiny_model_dir},dtype=float32,device=cpu",
        tasks=TASKS,
        task_manager=TaskManager(include_path=str(root / "tasks"), include_defaults=False),
        limit=16,  # at least every document of these samples
        log_samples=True,
        bootstrap_iters=0,
        verbosity="ERROR",
    )
    from culturalign.lm import load_lm

    lm = load_lm(f"hf:{tiny_model_dir}+dtype=float32+device=cpu", cache=None)
    run_opinions(lm, data["opinions"], root / "op", chat=False, unsteered=False)
    run_mcq(lm, data["mcq"], root / "mcq", mode="text", chat=False)
    run_culturalbench(lm, data["easy"], root / "cb", chat=False)
    return out, root


def _lls(sample: dict) -> list[float]:
    return [float(r[0][0]) for r in sample["resps"]]


def test_per_option_logprobs_equal_culturalign(harness_run):
    out, root = harness_run
    ours = {(r["id"], r["country"]): r for r in _items(root / "op")}
    samples = out["samples"]["culturalign_opinions"]
    assert len(samples) == len(ours) == 12
    for s in samples:
        mine = ours[(s["doc"]["id"], s["doc"]["country"])]
        assert _lls(s) == pytest.approx(mine["logprobs"], abs=TOL)
        assert s["similarity"] == pytest.approx(mine["similarity"], abs=TOL)  # utils.process_opinion

    ours = {r["id"]: r for r in _items(root / "mcq")}
    for s in out["samples"]["culturalign_mcq_text"]:
        assert _lls(s) == pytest.approx(ours[s["doc"]["id"]]["logprobs"], abs=TOL)  # " " + option text

    ours = {r["id"]: r for r in _items(root / "cb")}
    samples = out["samples"]["culturalign_culturalbench_easy"]
    assert len(samples) == len(ours) == 8
    for s in samples:
        assert _lls(s) == pytest.approx(ours[s["doc"]["id"]]["logprobs"], abs=TOL)  # letters after "("


def test_harness_aggregates_equal_lm_eval_results_json(harness_run):
    out, root = harness_run
    for folder, task, metrics in [
        ("op", "culturalign_opinions", ["similarity"]),
        ("mcq", "culturalign_mcq_text", ["acc", "acc_norm"]),
        ("cb", "culturalign_culturalbench_easy", ["acc"]),
    ]:
        ours = json.loads((root / folder / "lm_eval_results.json").read_text())
        for metric in metrics:
            key = f"{metric},none"
            assert ours["results"][task][key] == pytest.approx(out["results"][task][key], abs=TOL), (
                task,
                metric,
            )
        assert ours["n-samples"][task]["effective"] == out["n-samples"][task]["effective"]
