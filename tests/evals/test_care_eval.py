"""``eval care`` end to end on real models: a tiny random one (fast), the embedded SmolLM2
as model and judge, and the ``openai`` backend against a real ``transformers serve``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from culturalign.datasets import load_any
from culturalign.evals.care.judged import run_care_eval
from culturalign.evals.care.stats import CareSummary
from culturalign.io import read_records
from culturalign.lm import load_lm
from culturalign.lm.cache import CallCache
from culturalign.records import GenerationParams, ModelResponse
from culturalign.records.judgment import Judgment

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = FIXTURES / "care_sample.json"
FAST = GenerationParams(temperature=0, max_new_tokens=6)
FAST_JUDGE = GenerationParams(temperature=0, max_new_tokens=6, max_context=8192)
OUTPUTS = ("responses.jsonl", "judgments.jsonl", "summary.json", "table.md", "table.csv", "run.json")


def _cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "culturalign", *args], capture_output=True, text=True, timeout=timeout
    )


def _eval(model_spec, judge_spec, questions, out, cache, **kw):
    model, judge = load_lm(model_spec, cache=cache), load_lm(judge_spec, cache=cache)
    summary = run_care_eval(model, judge, questions, out, params=FAST, judge_params=FAST_JUDGE, **kw)
    return summary, model, judge


def test_twice_on_20_items_calls_models_only_the_first_time(tiny_model_dir, shared_data, tmp_path):
    """The issue's done-when, on the real CARE Chinese test file and a tiny model."""
    data = shared_data / "care" / "Chinese-test.json"
    _, questions = load_any(data)
    cache = CallCache(tmp_path / "calls.sqlite")
    spec = f"hf:{tiny_model_dir}"
    out = tmp_path / "run"

    first, m1, j1 = _eval(spec, spec, questions, out, cache, limit=20, data_path=data)
    assert m1.stats.calls == 20 and j1.stats.calls > 0
    saved = {name: (out / name).read_text(encoding="utf-8") for name in OUTPUTS if name != "run.json"}

    second, m2, j2 = _eval(spec, spec, questions, out, cache, limit=20, data_path=data)
    assert m2.stats.calls == 0 and j2.stats.calls == 0
    assert m2.stats.cache_hits == 20 and j2.stats.cache_hits == j2.stats.requests > 0
    for name in ("judgments.jsonl", "summary.json", "table.md", "table.csv"):
        assert (out / name).read_text(encoding="utf-8") == saved[name], name
    assert first == second

    # layout: one Chinese block, CARE's five categories and the average, invalid counts
    md = (out / "table.md").read_text(encoding="utf-8")
    assert (
        "| Chinese | Entities | Opinion | Norms | C. sense | Literacy | Average | 95% CI | Rated | Invalid |"
        in md
    )
    zh = first.cultures["Chinese"].average
    assert zh.n_items == 20 and zh.n_rated + zh.n_invalid + zh.n_skipped == 20
    assert "| run | " in md and f"| {zh.n_rated} | {zh.n_invalid} |" in md

    judgments = read_records(out / "judgments.jsonl", Judgment)
    responses = read_records(out / "responses.jsonl", ModelResponse)
    assert len(judgments) == len(responses) == 20
    for j in judgments:
        assert j.rating is None if not j.valid else 1 <= j.rating <= 10
        assert (j.attempts >= 1 and j.judge_reply is not None) or j.status == "skipped"
    run = json.loads((out / "run.json").read_text())
    assert run["kind"] == "eval-care" and set(run["models"]) == {"model", "judge"}
    assert run["data"][str(data)] and set(run["prompts"]) == {
        "judge/entities_opinion",
        "judge/norms_commonsense",
        "judge/literacy",
    }
    assert run["calls"]["judge"]["calls"] == 0  # the second run's stats
    assert run["notes"] == []  # a tiny hf judge is not the embedded one


def test_modes_and_languages_reach_the_run(tiny_model_dir, tmp_path):
    _, questions = load_any(SAMPLE)
    spec = f"hf:{tiny_model_dir}"
    summary, _, _ = _eval(spec, spec, questions, tmp_path / "cot", None, mode="cot", lang="en", limit=3)
    assert (summary.mode, summary.lang, summary.counts["judgments"]) == ("cot", "en", 3)
    responses = read_records(tmp_path / "cot" / "responses.jsonl", ModelResponse)
    assert {r.mode for r in responses} == {"cot"} and responses[0].messages[0].role == "system"
    assert json.loads((tmp_path / "cot" / "summary.json").read_text())["mode"] == "cot"


@pytest.mark.slow
def test_cli_embedded_model_and_judge_on_real_care_items(embedded_dir, shared_data, tmp_path):
    """Two real CARE questions, SmolLM2 answering and judging, through the command line."""
    out = tmp_path / "run"
    args = ["eval", "care", "--model", "embedded", "--judge", "embedded"]
    args += ["--data", str(shared_data / "care" / "Chinese-test.json"), "--limit", "2"]
    args += ["--max-new-tokens", "8", "--judge-max-new-tokens", "16", "--judge-retries", "1"]
    proc = _cli(*args, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert all((out / name).is_file() for name in OUTPUTS)
    from culturalign.models.embedded import EMBEDDED_JUDGE_WARNING

    summary = CareSummary.model_validate_json((out / "summary.json").read_text())
    assert EMBEDDED_JUDGE_WARNING in summary.notes
    assert EMBEDDED_JUDGE_WARNING in json.loads((out / "run.json").read_text())["notes"]
    assert EMBEDDED_JUDGE_WARNING in (out / "table.md").read_text()
    assert "weak stand-in" in proc.stdout
    judgments = read_records(out / "judgments.jsonl", Judgment)
    assert len(judgments) == 2
    from culturalign.judge.rubric import RUBRIC_FOR_CATEGORY
    from culturalign.records.question import Category

    # --limit draws across categories (stratified), and each is judged with its own rubric
    assert len({j.category for j in judgments}) == 2
    assert all(
        j.judge.startswith("embedded") and j.rubric == RUBRIC_FOR_CATEGORY[Category(j.category)]
        for j in judgments
    )
    assert all(j.valid or j.reason for j in judgments)


@pytest.mark.slow
@pytest.mark.serve
def test_openai_backend_against_transformers_serve(tiny_model_dir, tmp_path):
    """Model and judge both behind a real OpenAI-compatible server on loopback."""
    from culturalign.testing.server import transformers_serve

    _, questions = load_any(SAMPLE)
    with transformers_serve(tiny_model_dir) as base_url:
        spec = f"openai:{tiny_model_dir}@{base_url}"
        cache = CallCache(tmp_path / "calls.sqlite")
        summary, model, judge = _eval(
            spec, spec, questions, tmp_path / "run", cache, limit=3, judge_retries=1
        )
        assert model.stats.calls == 3 and model.stats.failures == 0
        assert judge.stats.calls >= 3 and judge.stats.failures == 0
        again, model2, judge2 = _eval(
            spec, spec, questions, tmp_path / "run", cache, limit=3, judge_retries=1
        )
    assert model2.stats.calls == 0 and judge2.stats.calls == 0 and again == summary
    judgments = read_records(tmp_path / "run" / "judgments.jsonl", Judgment)
    from culturalign.judge.rubric import RUBRIC_FOR_CATEGORY
    from culturalign.records.question import Category

    # the stratified --limit spreads 3 items over 3 categories; each gets its category's rubric
    assert len({j.category for j in judgments}) == 3
    assert [j.rubric for j in judgments] == [RUBRIC_FOR_CATEGORY[Category(j.category)] for j in judgments]
    assert all(s.attempts[0].reply is not None for j in judgments for s in j.samples)
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["models"]["judge"]["spec"] == spec
