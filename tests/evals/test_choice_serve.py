"""A choice benchmark over a real OpenAI-compatible server (``transformers serve`` on
loopback), which returns no log-probabilities: answers come from generating and parsing,
and the results say so."""

from __future__ import annotations

import importlib.util
import json

import pytest

from culturalign.paths import package_data

SAMPLE = package_data("data", "sample")


@pytest.mark.slow
@pytest.mark.serve
def test_mcq_over_a_server_without_logprobs_falls_back_to_generate_parse(embedded_dir, tmp_path):
    missing = [m for m in ("fastapi", "uvicorn", "openai") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"transformers serve needs transformers[serving] ({', '.join(missing)} missing)")
    from culturalign.datasets import mcq
    from culturalign.evals.mcq import run_mcq
    from culturalign.lm import load_lm
    from culturalign.testing_server import transformers_serve

    items = mcq.load(SAMPLE / "choice_mcq.jsonl")[:2]
    with transformers_serve(embedded_dir) as url:
        lm = load_lm(f"openai:{embedded_dir}@{url}", cache=None)
        summary = run_mcq(lm, items, tmp_path)
    assert summary["methods"] == {"generate-parse": 2}
    assert any("generating and parsing" in n for n in summary["notes"])
    records = [json.loads(line) for line in (tmp_path / "items.jsonl").read_text().splitlines()]
    for r in records:
        assert r["method"] == "generate-parse" and r["raw_text"] is not None
        assert r["logprobs"] == [None] * 4  # nothing invented
        # either a parsed letter (one-hot) or a recorded failure, never a silent guess
        assert (r["choice"] is not None and sorted(r["probs"]) == [0, 0, 0, 1]) or r.get("error")
