"""The whole CAReDiO pipeline through the command line with the embedded SmolLM2 model and
tiny budgets: questions → adapt → respond → select → export. SmolLM2-135M is a weak
writer, so the test checks what the pipeline guarantees (records, ids, counts, failures
kept and skipped, selection scores, training rows), not the quality of its prose."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from culturalign.cli import app
from culturalign.io import read_records
from culturalign.paths import package_data
from culturalign.records import (
    AdaptedQuestion,
    CulturalSample,
    PreferencePair,
    SelectionPick,
    SFTExample,
    SynthQuestion,
)

CULTURES = "United Kingdom,China,India"
SAMPLE_QUESTIONS = package_data("data", "sample", "caredio_questions.jsonl")


def invoke(*args: str) -> None:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, f"{args}: {result.output}\n{result.exception!r}"


@pytest.mark.slow
def test_caredio_pipeline_on_the_embedded_model(embedded_dir, tmp_path):
    q, a, s, picks = (tmp_path / n for n in ("q.jsonl", "a.jsonl", "s.jsonl", "picks.jsonl"))
    invoke(
        "synth", "questions", "--model", "embedded", "--topics", "respect_for_elders,dining_etiquette",
        "--k", "2", "--types", "scenario,value", "--rounds", "2", "--max-new-tokens", "48", "--out", str(q),
    )  # fmt: skip
    questions = read_records(q, SynthQuestion)
    assert len(questions) <= 4 and all(
        x.topic in ("respect_for_elders", "dining_etiquette") for x in questions
    )
    log = json.loads((tmp_path / "q.jsonl.run.json").read_text())
    assert log["stats"]["kept"] == len(questions) and log["calls"]["generator"]["requests"] >= 4
    assert log["prompts"]["caredio/questions"]

    # adapt two general questions (generated ones first, topped up from the shipped sample)
    general = tmp_path / "general.jsonl"
    pool = (questions + read_records(SAMPLE_QUESTIONS, SynthQuestion))[:2]
    general.write_text("".join(x.model_dump_json() + "\n" for x in pool))
    invoke(
        "synth", "adapt", "--model", "embedded", "--data", str(general), "--cultures", CULTURES,
        "--targets", "China", "--retries", "1", "--max-new-tokens", "64", "--out", str(a),
    )  # fmt: skip
    adapted = read_records(a, AdaptedQuestion)
    assert [x.id for x in adapted] == [f"{x.id}@china" for x in pool]
    for x in adapted:
        assert set(x.probe_answers) == {"United Kingdom", "China", "India"}
        assert x.ok or (x.error and x.attempts == 2)

    # answer the adapted questions, or the general ones when SmolLM2 adapted none
    source = (
        ["--data", str(a)] if any(x.ok for x in adapted) else ["--data", str(general), "--targets", "China"]
    )
    invoke(
        "synth", "respond", "--model", "embedded", *source, "--cultures", CULTURES,
        "--max-new-tokens", "32", "--out", str(s),
    )  # fmt: skip
    samples = read_records(s, CulturalSample)
    assert samples and all(x.target_culture == "China" for x in samples)
    assert all(set(x.other_responses) == {"United Kingdom", "India"} for x in samples if x.ok)
    assert any(x.ok for x in samples)

    invoke("select", "--data", str(s), "--budget", "1", "--out", str(picks))
    chosen = read_records(picks, SelectionPick)
    assert len(chosen) == 1 and chosen[0].culture == "China"
    p = chosen[0]
    assert p.s == pytest.approx(p.r * p.d) and p.d_compared == 2 and 0 < p.d < 2

    sft, dpo = tmp_path / "sft.jsonl", tmp_path / "dpo.jsonl"
    invoke("synth", "export", "--data", str(picks), "--sft", str(sft), "--dpo", str(dpo))
    assert len(read_records(sft, SFTExample)) == 1
    others = [
        t for t in p.sample.other_responses.values() if t.strip() and t.strip() != p.sample.response.strip()
    ]
    assert len(read_records(dpo, PreferencePair)) == len(others) >= 1  # one per other culture
