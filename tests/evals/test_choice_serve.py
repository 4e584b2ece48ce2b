"""A choice benchmark over a real OpenAI-compatible server (``transformers serve`` on
loopback), which returns no log-probabilities: answers come from generating and parsing,
and the results say so."""

from __future__ import annotations

import json

import pytest

from culturalign.paths import package_data

SAMPLE = package_data("data", "sample")


@pytest.mark.slow
@pytest.mark.serve
def test_mcq_over_a_server_without_logprobs_falls_back_to_generate_parse(served_spec, tmp_path):
    from culturalign.datasets import mcq
    from culturalign.evals.choice.mcq import run_mcq
    from culturalign.lm import load_lm

    items = mcq.load(SAMPLE / "choice_mcq.jsonl")[:2]
    lm = load_lm(served_spec(), cache=None)  # the session's transformers serve (tests/conftest.py)
    summary = run_mcq(lm, items, tmp_path)
    assert summary["methods"] == {"generate-parse": 2}
    assert any("generating and parsing" in n for n in summary["notes"])
    records = [json.loads(line) for line in (tmp_path / "items.jsonl").read_text().splitlines()]
    for r in records:
        assert r["method"] == "generate-parse" and r["raw_text"] is not None
        assert r["logprobs"] == [None] * 4  # nothing invented
        # either a parsed letter (one-hot) or a recorded failure, never a silent guess
        assert (r["choice"] is not None and sorted(r["probs"]) == [0, 0, 0, 1]) or r.get("error")
