"""The three synthesis stages' logic around the model (parsing, retries, dedup, failures,
resume through the cache), driven by a scripted backend whose answers are known. The
same stages run on real models in test_pipeline.py."""

from __future__ import annotations

import re

import numpy as np
import pytest

from culturalign.errors import ConfigError
from culturalign.io import read_records
from culturalign.lm.base import Backend
from culturalign.lm.cache import CallCache
from culturalign.lm.cached import LM
from culturalign.records import Completion
from culturalign.records.synth import AdaptedQuestion, CulturalSample, SynthQuestion
from culturalign.synth.adapt import adapt_questions
from culturalign.synth.framework import load_framework
from culturalign.synth.questions import generate_questions, split_k
from culturalign.synth.respond import respond
from culturalign.synth.stage import read_adapted


class Scripted(Backend):
    """Answers each chat prompt with ``reply(system, user, seed)``; counts the calls."""

    kind = "scripted"

    def __init__(self, reply):
        self.reply = reply
        self.calls = 0

    def identity(self):
        return {"backend": "scripted"}

    def generate(self, requests, on_done):
        for i, r in enumerate(requests):
            self.calls += 1
            system = next((m.content for m in r.messages if m.role == "system"), "")
            user = r.messages[-1].content
            text = self.reply(system, user, r.params.seed)
            on_done(i, Completion(error="scripted failure") if text is None else Completion(text=text))


def make_lm(tmp_path, reply) -> tuple[LM, Scripted]:
    backend = Scripted(reply)
    return LM(backend, CallCache(tmp_path / "calls.sqlite"), "scripted"), backend


def test_split_k_spreads_questions_over_types():
    assert split_k(6, ["scenario", "value", "open"]) == {"scenario": 2, "value": 2, "open": 2}
    assert split_k(4, ["scenario", "value", "open"]) == {"scenario": 2, "value": 1, "open": 1}


def test_questions_rounds_dedup_and_resume(tmp_path):
    fw = load_framework().select(["food", "gender_roles"])

    def reply(system, user, seed):
        topic = re.search(r"Cultural topic: (.+)", user).group(1)
        kind = "scenario" if "scenario" in user else "value"
        if topic == "Food" and kind == "scenario" and seed == 0:
            return "Sorry, I cannot help with that."  # unparseable in round 1
        # the same question twice (exact duplicate) plus numbered ones
        return (
            f"Here you go:\n1. What do you think about {topic} and {kind}?\n"
            f"2. What do you think about {topic} and {kind}?\n"
            f"3) Is {topic.lower()} handled differently in your family, round {seed}?"
        )

    lm, backend = make_lm(tmp_path, reply)
    out = tmp_path / "q.jsonl"
    qs, stats = generate_questions(lm, fw, k=4, qtypes=["scenario", "value"], max_rounds=3, out=out)
    assert len(qs) == 8  # 2 topics × (2 scenario + 2 value)
    assert stats.unparseable_outputs == 1 and stats.rounds == 2
    assert stats.dropped_exact >= 1
    assert {q.qtype for q in qs} == {"scenario", "value"}
    assert [q.id for q in qs if q.topic == "food"] == [
        "food-scenario-001",
        "food-scenario-002",
        "food-value-001",
        "food-value-002",
    ]
    assert read_records(out, SynthQuestion) == qs
    calls = backend.calls
    lm2, backend2 = make_lm(tmp_path, reply)
    again, _ = generate_questions(lm2, fw, k=4, qtypes=["scenario", "value"], max_rounds=3)
    assert again == qs and backend2.calls == 0 and calls > 0  # everything came from the cache


def test_questions_near_duplicates_by_embedding(tmp_path):
    fw = load_framework().select(["food"])
    lm, _ = make_lm(
        tmp_path,
        lambda s, u, seed: (
            "1. How do you eat rice at home?\n2. How do you eat rice at home, usually?\n3. Who cooks on holidays?"
        ),
    )
    # a stand-in encoder: the first two questions get the same vector
    vecs = {
        "How do you eat rice at home?": [1.0, 0.0],
        "How do you eat rice at home, usually?": [0.99, 0.141],
        "Who cooks on holidays?": [0.0, 1.0],
    }
    qs, stats = generate_questions(
        lm, fw, k=2, qtypes=["open"], encode=lambda texts: np.array([vecs[t] for t in texts]), max_rounds=1
    )
    assert [q.text for q in qs] == ["How do you eat rice at home?", "Who cooks on holidays?"]
    assert stats.dropped_near == 1


def test_adapt_parses_final_question_and_retries(tmp_path):
    def reply(system, user, seed):
        if "Final question:" not in user:  # a role-played probe answer
            culture = re.search(r"background is (.+?):", system).group(1)
            return f"In {culture}, we do it our way."
        target = re.search(r"for a person from (.+?)\. Keep", user).group(1)
        if target == "India" and seed == 0:
            return "Step 1: they differ. Step 2: values."  # no final line: retried
        if target == "Spain":
            return "I refuse."  # never parseable
        return f"Step 1: they differ.\nFinal question: How do families in {target} decide where to live?"

    lm, _ = make_lm(tmp_path, reply)
    qs = [SynthQuestion(id="q1", text="Where should a young couple live?", topic="family_obligations")]
    out = tmp_path / "a.jsonl"
    adapted, stats = adapt_questions(
        lm, qs, cultures=["China", "India", "Spain"], targets=["China", "India", "Spain"], retries=2, out=out
    )
    by = {a.target_culture: a for a in adapted}
    assert (
        by["China"].question == "How do families in China decide where to live?" and by["China"].attempts == 1
    )
    assert by["India"].ok and by["India"].attempts == 2
    assert not by["Spain"].ok and by["Spain"].attempts == 3 and "Final question" in by["Spain"].error
    assert by["China"].probe_answers == {c: f"In {c}, we do it our way." for c in ["China", "India", "Spain"]}
    assert by["China"].reasoning == "Step 1: they differ."
    assert (stats.adapted, stats.unparseable, stats.retried) == (2, 1, 3)
    assert read_records(out, AdaptedQuestion) == adapted
    # the next stage skips the failed adaptation and counts it
    ok, skipped = read_adapted(out, None)
    assert [a.target_culture for a in ok] == ["China", "India"] and skipped == 1


def test_adapt_needs_two_cultures_that_answered(tmp_path):
    def reply(system, user, seed):
        return None if "India" in system else "An answer."

    lm, _ = make_lm(tmp_path, reply)
    qs = [SynthQuestion(id="q1", text="How do you greet elders?")]
    adapted, stats = adapt_questions(lm, qs, cultures=["China", "India"], retries=0)
    assert all(not a.ok and "only 1 culture" in a.error for a in adapted)
    assert stats.failed_probes == 1 and stats.too_few_probes == 2
    with pytest.raises(ConfigError):
        adapt_questions(lm, qs, cultures=["China"])


def test_respond_isolated_then_with_others_in_view(tmp_path):
    def reply(system, user, seed):
        culture = re.search(r"background is (.+?):", system).group(1)
        if "Before you answer" in user:
            shown = re.findall(r"^\[(.+)\]$", user, flags=re.MULTILINE)
            return f"As someone from {culture}, unlike {' and '.join(shown)}, I would ..."
        return f"{culture} alone: ..."

    lm, _ = make_lm(tmp_path, reply)
    qs = [
        AdaptedQuestion(
            id="q1@china",
            general_question_id="q1",
            general_question="G?",
            target_culture="China",
            question="Adapted?",
        )
    ]
    out = tmp_path / "s.jsonl"
    samples, stats = respond(lm, qs, cultures=["United Kingdom", "China", "India"], out=out)
    s = samples[0]
    assert s.question == "Adapted?" and s.general_question == "G?"
    assert s.isolated_response == "China alone: ..."
    assert s.other_responses == {"United Kingdom": "United Kingdom alone: ...", "India": "India alone: ..."}
    assert s.response == "As someone from China, unlike United Kingdom and India, I would ..."
    assert stats.isolated_calls == 3 and stats.contrast_calls == 1 and stats.samples_ok == 1
    assert read_records(out, CulturalSample) == samples
    # contrast_k draws a seeded subset of the other cultures
    few, _ = respond(lm, qs, cultures=["United Kingdom", "China", "India", "Japan"], contrast_k=1, seed=3)
    assert len(few[0].other_responses) == 1


def test_respond_failure_is_kept_with_its_error(tmp_path):
    lm, _ = make_lm(tmp_path, lambda s, u, seed: None if "Before you answer" in u else "alone")
    qs = [
        AdaptedQuestion(
            id="x", general_question_id="x", general_question="G?", target_culture="UK", question="Q?"
        )
    ]
    samples, stats = respond(lm, qs, cultures=["UK", "China"])
    assert not samples[0].ok and samples[0].error == "scripted failure"
    assert samples[0].other_responses == {"China": "alone"} and stats.failed_contrast == 1


def test_general_questions_need_targets_to_be_answered(tmp_path):
    path = tmp_path / "general.jsonl"
    path.write_text('{"id": "g1", "text": "How do you celebrate a birthday?"}\n')
    with pytest.raises(ConfigError, match="--targets"):
        read_adapted(path, None)
    qs, skipped = read_adapted(path, ["Korea", "India"])
    assert [q.id for q in qs] == ["g1@korea", "g1@india"] and skipped == 0
