"""Question generation: JSON parsing and retries, the refinement loop's stopping rule,
the choice of the best candidate."""

from __future__ import annotations

import json
import math

import pytest

from culturalign.errors import ConfigError
from culturalign.io import read_records
from culturalign.lm import load_lm
from culturalign.records import GenerationParams
from culturalign.records.knowledge import CandidateScore, GroundedQuestion, KnowledgeItem
from culturalign.synth.grounded import (
    GroundedSynthFailure,
    RefineConfig,
    attempt_params,
    parse_question_json,
    pick_best,
    should_stop,
    synthesize_grounded,
)

ITEM = KnowledgeItem(
    id="de-sun",
    cultural_group="German",
    context="on Sundays",
    actor="most shops",
    actor_behavior="stay closed",
    topic="Shopping",
)


def draft(question: str) -> str:
    return json.dumps({"scenario": "Relocation", "persona": "A newcomer to Berlin.", "question": question})


def checker_labels(relevance, indirectness):
    """Label log-probabilities giving the chosen P(Yes) to each of the two checks,
    looked up by the question in the prompt."""

    def labels(text: str) -> dict[str, float]:
        question = text.split("Question: ", 1)[1].split("\n", 1)[0]
        table = relevance if "have to draw on the knowledge" in text else indirectness
        p = table[question]
        return {"Yes": math.log(p), "No": math.log(1 - p)}

    return labels


# -- pure parts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        draft("Where do I buy food on my first Sunday?"),
        "Sure! Here it is:\n```json\n"
        + draft("Where do I buy food on my first Sunday?")
        + "\n```\nHope it helps.",
        'Note {this is not json}. {"Scenario": " Relocation ", "PERSONA": "A newcomer.", '
        '"question": "Where do I buy food on my first Sunday?"} trailing words',
    ],
)
def test_parse_accepts_fences_and_surrounding_text(text):
    fields, why = parse_question_json(text)
    assert why is None
    assert fields["question"] == "Where do I buy food on my first Sunday?"
    assert fields["scenario"] == "Relocation"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty reply"),
        ("Scenario: relocation. Question: where to shop?", "no JSON object"),
        ('{"scenario": "x", "persona": "y"}', "without non-empty"),
        ('{"scenario": "x", "persona": "y", "question": ""}', "without non-empty"),
        (
            '{"scenario": "x", "persona": ["y"], "question": "Where do I shop on Sundays?"}',
            "without non-empty",
        ),
        ('{"scenario": "x", "persona": "y", "question": "Where do', "no JSON object"),
    ],
)
def test_parse_rejects_what_is_not_a_complete_answer(text, reason):
    fields, why = parse_question_json(text)
    assert fields is None and reason in why


def test_stopping_rule_and_best_candidate():
    low = CandidateScore(attempt=1, question="a", relevance=0.9, indirectness=0.2)
    mid = CandidateScore(attempt=2, question="b", relevance=0.4, indirectness=0.45)
    unscored = CandidateScore(attempt=3, question="c", relevance=None, indirectness=0.99)
    good = CandidateScore(attempt=4, question="d", relevance=0.5, indirectness=0.7)
    assert not should_stop([], 0.5, 3)
    assert not should_stop([low], 0.5, 3)
    assert not should_stop([low, mid], 0.5, 3)
    assert should_stop([low, mid, unscored], 0.5, 3)  # attempts spent
    assert should_stop([low, good], 0.5, 3)  # both checks reach the threshold (≥)
    # the weaker score decides; an unscored check ranks below everything
    assert pick_best([low, mid, unscored]) == 1
    tie = CandidateScore(attempt=5, question="e", relevance=0.45, indirectness=0.4)
    assert pick_best([mid, tie]) == 0  # earlier wins a tie


def test_every_attempt_and_retry_gets_its_own_seed():
    base = GenerationParams(temperature=0.7, seed=3)
    seeds = {attempt_params(base, a, r, 0.7).seed for a in (1, 2, 3) for r in (0, 1, 2)}
    assert len(seeds) == 9
    greedy = GenerationParams(temperature=0)
    assert attempt_params(greedy, 1, 0, 0.8).greedy
    assert attempt_params(greedy, 1, 1, 0.8).temperature == 0.8


def test_bad_settings_are_config_errors():
    with pytest.raises(ConfigError, match="threshold"):
        RefineConfig(threshold=1.5)
    with pytest.raises(ConfigError, match="max-attempts"):
        RefineConfig(max_attempts=0)
    with pytest.raises(ConfigError, match="refine"):
        RefineConfig(refine="polish")  # type: ignore[arg-type]


# -- the loop, around scripted models -----------------------------------------------------


def test_invalid_json_is_retried_with_a_new_seed(scripted, tmp_path):
    calls = []

    def reply(req):
        calls.append(req.params.seed)
        return (
            "I think a good scenario is a relocation"
            if len(calls) == 1
            else draft("How do I plan my first weekend?")
        )

    gen, _ = scripted("gen", reply=reply)
    chk, _ = scripted(
        "chk",
        labels=checker_labels(
            {"How do I plan my first weekend?": 0.8}, {"How do I plan my first weekend?": 0.9}
        ),
    )
    result = synthesize_grounded(gen, chk, [ITEM], RefineConfig(json_retries=2), out=tmp_path / "q.jsonl")
    (q,) = result.questions
    assert q.json_failures == 1 and q.attempts == 1 and q.accepted
    assert len(set(calls)) == 2  # the retry was a different request, not a cache replay
    assert q.score_source == "logprob"
    assert (q.relevance, q.indirectness) == (pytest.approx(0.8), pytest.approx(0.9))
    assert read_records(tmp_path / "q.jsonl", GroundedQuestion) == result.questions
    assert not (tmp_path / "q.jsonl.partial").exists()


def test_item_without_valid_json_is_a_recorded_failure(scripted, tmp_path):
    gen, backend = scripted("gen", reply=lambda r: "no json here")
    chk, _ = scripted("chk", labels=lambda t: {"Yes": -1.0, "No": -1.0})
    result = synthesize_grounded(gen, chk, [ITEM], RefineConfig(json_retries=2), out=tmp_path / "q.jsonl")
    assert result.questions == []
    (f,) = result.failures
    assert f.json_failures == 3 and "no valid JSON after 3 tries" in f.reason
    assert len(backend.gen_requests) == 3
    assert read_records(tmp_path / "q.jsonl.failed.jsonl", GroundedSynthFailure) == [f]


def test_revision_is_told_which_check_failed_and_stops_when_both_pass(scripted):
    first, second = "Should I greet shop staff in German?", "How do I plan my first weekend in Munich?"
    prompts = []

    def reply(req):
        prompts.append(req.messages[-1].content)
        return draft(first) if len(prompts) == 1 else draft(second)

    gen, _ = scripted("gen", reply=reply)
    chk, _ = scripted("chk", labels=checker_labels({first: 0.2, second: 0.7}, {first: 0.9, second: 0.6}))
    config = RefineConfig(max_attempts=4, threshold=0.5)
    (q,) = synthesize_grounded(gen, chk, [ITEM], config).questions
    assert q.question == second and q.accepted and q.attempts == 2
    assert [c.question for c in q.history] == [first, second]
    assert q.history[1].revised
    assert "does not depend on the knowledge" in prompts[1]  # relevance failed
    assert "gives the knowledge away" not in prompts[1]  # indirectness passed
    assert first in prompts[1]  # the draft being revised
    assert len(prompts) == 2  # stopped as soon as both checks passed


def test_best_candidate_is_kept_when_none_passes(scripted):
    questions = ["Q one about my stay?", "Q two about my stay?", "Q three about my stay?"]
    n = []

    def reply(req):
        n.append(1)
        return draft(questions[len(n) - 1])

    gen, _ = scripted("gen", reply=reply)
    chk, _ = scripted(
        "chk",
        labels=checker_labels(
            dict(zip(questions, [0.3, 0.45, 0.9], strict=True)),
            dict(zip(questions, [0.9, 0.4, 0.1], strict=True)),
        ),
    )
    config = RefineConfig(max_attempts=3, threshold=0.5, refine="regenerate")
    (q,) = synthesize_grounded(gen, chk, [ITEM], config).questions
    assert not q.accepted and q.attempts == 3
    assert q.question == questions[1]  # min scores 0.3, 0.4, 0.1
    assert not any(c.revised for c in q.history)


def test_tiny_random_model_yields_invalid_json_and_each_retry_is_a_new_call(tiny_model_dir, tmp_path):
    """A real model whose replies are never JSON: every try is a fresh model call."""
    lm = load_lm(f"hf:{tiny_model_dir}", cache=tmp_path / "calls.sqlite")
    params = GenerationParams(temperature=0.7, max_new_tokens=12)
    config = RefineConfig(json_retries=2, max_attempts=2, params=params)
    result = synthesize_grounded(lm, lm, [ITEM], config)
    assert result.questions == [] and result.failures[0].json_failures == 3
    assert lm.stats.calls == 3 and lm.stats.cache_hits == 0
    again = load_lm(f"hf:{tiny_model_dir}", cache=tmp_path / "calls.sqlite")
    synthesize_grounded(again, again, [ITEM], config)
    assert again.stats.calls == 0 and again.stats.cache_hits == 3  # a rerun costs nothing
