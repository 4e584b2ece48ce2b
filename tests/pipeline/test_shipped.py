"""The shipped experiments at their smallest size on the tiny random model, a kill and
resume of the multi-stage CAReDiO experiment, and prompt changes in fingerprints."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from culturalign.pipeline.runner import Runner, run_experiment


def tiny(model, *more: str) -> list[str]:
    return [f"models.base=hf:{model}", f"judge=hf:{model}", *more]


def caredio_overrides(model) -> list[str]:
    s = "stages"
    return tiny(
        model,
        f"{s}.questions.rounds=1", f"{s}.questions.generation.max_new_tokens=16",
        f"{s}.adapt.generation.max_new_tokens=16", f"{s}.respond.generation.max_new_tokens=12",
        f"{s}.sft.config.preset=tiny-test", f"{s}.dpo.config.preset=tiny-test",
        f"{s}.opinions.limit=2", f"{s}.culturalbench.limit=2",
        f"{s}.culturebank.limit=2", f"{s}.culturebank.generation.max_new_tokens=6",
        f"{s}.culturebank.judge_generation.max_new_tokens=8", f"{s}.culturebank.options.judge_retries=0",
        f"{s}.prism.limit=2", f"{s}.prism.generation.max_new_tokens=6",
        f"{s}.prism.judge_generation.max_new_tokens=8", f"{s}.prism.options.judge_retries=0",
    )  # fmt: skip


def grounded_overrides(model) -> list[str]:
    s = "stages"
    # the random model writes no valid JSON question: evaluate on the sample's own questions
    return tiny(
        model,
        f"{s}.questions.limit=2", f"{s}.questions.generation.max_new_tokens=16",
        f"{s}.before.data=sample:culturebank_eval.jsonl", f"{s}.after.data=sample:culturebank_eval.jsonl",
        f"{s}.before.limit=3", f"{s}.after.limit=3",
        f"{s}.before.generation.max_new_tokens=8", f"{s}.after.generation.max_new_tokens=8",
        f"{s}.dpo.config.preset=tiny-test", f"{s}.sft-knowledge.config.preset=tiny-test",
        f"{s}.sft-two-step.config.preset=tiny-test",
        f"{s}.rubric.data=sample:culturebank_eval.jsonl", f"{s}.rubric.limit=2",
        f"{s}.rubric.generation.max_new_tokens=6", f"{s}.rubric.judge_generation.max_new_tokens=8",
        f"{s}.rubric.options.judge_retries=0",
    )  # fmt: skip


def care_overrides(model) -> list[str]:
    return tiny(
        model,
        "train.dpo.config.preset=tiny-test", "generation.max_new_tokens=6",
        "evaluations.0.limit=2", "evaluations.0.modes=[vanilla, cot]",
        "evaluations.0.judge_generation.max_new_tokens=8", "evaluations.0.options.judge_retries=0",
        # the random judge writes no rating: read its probabilities, so the tables have numbers
        "evaluations.0.options.judge_score=expected",
        "evaluations.1.limit=2",
    )  # fmt: skip


def _info(run_dir) -> dict:
    return {k: v["info"] for k, v in json.loads((run_dir / "stages.json").read_text()).items()}


@pytest.mark.slow
def test_caredio_runs_every_stage_kind(tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    result = run_experiment("caredio", out, overrides=caredio_overrides(tiny_model_dir))
    assert result["ran"][:6] == [
        "synth-questions:questions", "synth-adapt:adapt", "synth-respond:respond",
        "select:select", "export:sft-data", "export:dpo-data",
    ]  # fmt: skip
    info = _info(out)
    # the random model adapts nothing: respond answers the general sample questions, and says so
    assert "answered the general questions" in info["synth-respond:respond"]["note"]
    assert info["select:select"]["picks"] == 4  # budget 2 for each of the 2 target cultures
    assert info["export:sft-data"]["rows"] == 4 and info["export:dpo-data"]["rows"] > 0
    assert {"train:sft", "train:dpo", "eval:culturalbench:dpo:vanilla-native", "report"} <= info.keys()
    for bench in ("culturebank", "prism"):  # judged 1-5, one run per model
        for model in ("base", "sft", "dpo"):
            assert info[f"eval:{bench}:{model}:vanilla-native"]["items"] == 2
    assert (out / "train" / "dpo" / "adapter_config.json").exists()
    assert (out / "stages" / "select" / "picks.jsonl").exists() and (out / "report.html").exists()
    assert "--set stages.sft.config.preset=tiny-test" in (out / "experiment.yaml").read_text()


@pytest.mark.slow
def test_grounded_trains_dpo_and_two_step_sft(tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    run_experiment("grounded", out, overrides=grounded_overrides(tiny_model_dir))
    info = _info(out)
    assert info["export:knowledge-text"]["rows"] == 17
    assert info["export:dpo-data"]["rows"] == 3
    # step 2 starts from the step-1 model
    assert info["train:sft-two-step"]["model_spec"] == f"hf:{out / 'train' / 'sft-knowledge'}"
    for model in ("dpo", "sft-two-step"):
        summary = json.loads((out / "eval" / "after" / model / "vanilla-native" / "summary.json").read_text())
        assert summary["overall"]["plain"]["n"] == 3
    # the 1-5 rubric: one run per criterion for each model, all three criteria in stages.json
    for model in ("base", "dpo", "sft-two-step"):
        rated = info[f"eval:rubric:{model}:vanilla-native"]
        assert rated["items"] == 2 and set(rated["metrics"]) == {"usefulness", "awareness", "coherence"}
        criteria = json.loads(
            (out / "eval" / "rubric" / model / "vanilla-native" / "criteria.json").read_text()
        )
        assert set(criteria) == {"grounded_usefulness", "grounded_awareness", "grounded_coherence"}


@pytest.mark.slow
def test_care_writes_the_care_tables(tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    run_experiment("care", out, overrides=care_overrides(tiny_model_dir))
    report = (out / "report.md").read_text()
    for block in (
        "By category (mode vanilla",
        "Change against base",
        "By geographic scope",
        "By prompting mode",
    ):
        assert block in report

    # a changed training setting retrains: the finished folder is set aside, not handed back
    model_dir = out / "train" / "dpo"
    before = json.loads((model_dir / "culturalign-train.json").read_text())
    run_experiment(
        "care", out, overrides=[*care_overrides(tiny_model_dir), "train.dpo.config.learning_rate=0.002"]
    )
    after = json.loads((model_dir / "culturalign-train.json").read_text())
    assert (out / "train" / "dpo.stale" / "culturalign-train.json").exists()
    assert before["config"]["learning_rate"] != after["config"]["learning_rate"] == 0.002


KILLER = """\
import os, signal, sys
from culturalign.pipeline.stages import StageBook
_record = StageBook.record
def record(self, stage, *a, **k):
    _record(self, stage, *a, **k)
    if stage.name == 'export:dpo-data':
        os.kill(os.getpid(), signal.SIGKILL)
StageBook.record = record
from culturalign.cli import main
sys.argv = ['culturalign', 'run', *sys.argv[1:]]
main()
"""


@pytest.mark.slow
def test_caredio_resumes_after_a_kill(tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "CULTURALIGN_CACHE": str(tmp_path / "calls.sqlite")}
    args = ["caredio", "--out", str(out)]
    for o in caredio_overrides(tiny_model_dir):
        args += ["--set", o]

    def run(script: list[str]):
        return subprocess.run(
            [sys.executable, *script, *args], capture_output=True, text=True, env=env, timeout=600
        )

    killed = run(["-c", KILLER])
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    done = json.loads((out / "stages.json").read_text())
    assert "export:dpo-data" in done and "train:sft" not in done
    second = run(["-m", "culturalign", "run"])
    assert second.returncode == 0, second.stderr[-2000:]
    for stage in ("synth-questions:questions", "synth-respond:respond", "select:select", "export:dpo-data"):
        assert f"{stage}: unchanged, skipped" in second.stderr
    assert "report" in json.loads((out / "stages.json").read_text())
    third = run(["-m", "culturalign", "run"])
    text = " ".join(third.stdout.split())  # rich wraps the line wherever the terminal ends
    assert third.returncode == 0 and "0 stages ran, 21 skipped" in text and "0 model calls" in text


def test_a_changed_builtin_prompt_reruns_only_the_stages_that_send_it(tiny_model_dir, tmp_path, monkeypatch):
    from culturalign.pipeline import assets
    from culturalign.pipeline.overrides import load_with_overrides

    exp_file = tmp_path / "exp.yaml"
    exp_file.write_text(
        f"name: p\nmodels: {{base: 'hf:{tiny_model_dir}'}}\nstages:\n"
        "  - {name: wvs, kind: evaluate, eval: opinions, data: 'sample:opinions_wvs', limit: 2}\n"
    )
    choice = tmp_path / "choice"
    choice.mkdir()
    (choice / "opinion.txt").write_text("v1")
    monkeypatch.setitem(assets.ASSETS, "choice", lambda: [choice])
    exp, _, _ = load_with_overrides(exp_file, [])

    def run():
        return Runner(exp, exp_file, tmp_path / "run", cache=None).run()

    assert run()["ran"] == ["eval:wvs:base:vanilla-native", "report"]
    assert run()["ran"] == []
    monkeypatch.setitem(assets.ASSETS, "caredio", lambda: [tmp_path])  # a prompt this run does not send
    assert run()["ran"] == []
    (choice / "opinion.txt").write_text("v2")
    # the evaluation runs again; its results are the same bytes, so the report stays
    assert run()["ran"] == ["eval:wvs:base:vanilla-native"]
    monkeypatch.setattr("culturalign.__version__", "99.0")  # an upgrade re-runs everything once
    assert len(run()["ran"]) == 2


def test_rubrics_are_found_where_this_version_keeps_them():
    from culturalign.pipeline.assets import asset_hashes, rubric_dir

    assert any(rubric_dir().glob("*.txt")) or any(rubric_dir().glob("*.md"))
    h = asset_hashes("eval:care")
    assert set(h) == {"modes", "translate", "rubrics"} and all(v != "missing" for v in h.values())
