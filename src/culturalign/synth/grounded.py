"""Situation-grounded question generation with self-refinement (paper 003 §4.1, Fig. 2).

For each knowledge item a generator model writes, as JSON, a consulting scenario, a
client persona and a question that relates to the knowledge only indirectly. A
checker model answers two yes/no checks on each candidate:

* relevance: does a good answer to the question need the knowledge?
* indirectness: does the question avoid stating the behaviour?

Both scores are P(Yes) (``culturalign.lm.yesno``). A candidate is accepted when
both reach ``threshold``. Otherwise the generator is asked to revise it, told which
check failed (``refine="revise"``, the paper's choice), or simply asked again
(``refine="regenerate"``), until ``max_attempts`` candidates were checked; then the
best one is kept, ranked by the weaker of its two scores (a question is only as good
as its worse property), earlier candidates winning ties.

A reply that is not valid JSON with the three keys does not count as an attempt: it is
retried up to ``json_retries`` times with a new seed, so neither the model's sampler
nor the call cache replays the same failure. Greedy settings switch to
``retry_temperature`` for those retries, since a greedy retry would repeat itself.

Knowledge most of its sources disagree with (CultureBank agreement or norm below 0.5)
is never grounded as a norm: it is given to the prompts as its negation, or left out
(``records.knowledge.grounding`` has the rule). The result counts both
(``GroundedSynthResult.knowledge``), each question says its ``knowledge_stance``, and
the left-out items are listed in ``OUT.left_out.jsonl`` with the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from culturalign.errors import ConfigError
from culturalign.io import JsonlAppender, write_records
from culturalign.lm.cached import LM
from culturalign.lm.yesno import YesNoScore, ask_yes_no
from culturalign.records.generation import ChatMessage, GenerationParams
from culturalign.records.knowledge import (
    CandidateScore,
    GroundedQuestion,
    Grounding,
    KnowledgeCounts,
    KnowledgeItem,
    ground_all,
)
from culturalign.synth import grounded_prompts as gp

KEYS = ("scenario", "persona", "question")
MIN_QUESTION_CHARS = 12


@dataclass(frozen=True)
class RefineConfig:
    threshold: float = 0.5
    max_attempts: int = 3
    json_retries: int = 2
    refine: Literal["revise", "regenerate"] = "revise"
    params: GenerationParams = field(
        default_factory=lambda: GenerationParams(temperature=0.7, max_new_tokens=256)
    )
    retry_temperature: float = 0.7

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise ConfigError(f"--threshold must be between 0 and 1, not {self.threshold:g}")
        if self.max_attempts < 1:
            raise ConfigError(f"--max-attempts must be at least 1, not {self.max_attempts}")
        if self.json_retries < 0:
            raise ConfigError(f"--json-retries must be 0 or more, not {self.json_retries}")
        if self.refine not in ("revise", "regenerate"):
            raise ConfigError(f"--refine must be 'revise' or 'regenerate', not {self.refine!r}")
        if self.retry_temperature <= 0:
            raise ConfigError("the retry temperature must be above 0, or retries repeat the same reply")


class GroundedSynthFailure(BaseModel):
    """A knowledge item that produced no usable question, and why."""

    model_config = ConfigDict(extra="forbid")

    knowledge_id: str
    reason: str
    json_failures: int = 0


@dataclass
class GroundedSynthResult:
    questions: list[GroundedQuestion]
    failures: list[GroundedSynthFailure]
    knowledge: KnowledgeCounts = field(default_factory=KnowledgeCounts)
    left_out: list[Grounding] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        note = self.knowledge.note()
        return [note] if note else []

    @property
    def accepted(self) -> int:
        return sum(q.accepted for q in self.questions)


# -- pure parts ----------------------------------------------------------------------------

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


def parse_question_json(text: str | None) -> tuple[dict[str, str] | None, str | None]:
    """(fields, None) for the first JSON object with the three keys, else (None, why).

    Code fences, text before or after the object, key case and surrounding spaces are
    forgiven; a missing or empty key is not.
    """
    if not text or not text.strip():
        return None, "empty reply"
    fenced = _FENCE.findall(text)
    sources = [*fenced, text]
    decoder = json.JSONDecoder()
    found_object = False
    for source in sources:
        for match in re.finditer(r"\{", source):
            try:
                obj, _ = decoder.raw_decode(source, match.start())
            except json.JSONDecodeError:
                continue
            if not isinstance(obj, dict):
                continue
            found_object = True
            fields = {str(k).strip().lower(): v for k, v in obj.items()}
            values = {k: fields.get(k) for k in KEYS}
            bad = [k for k, v in values.items() if not isinstance(v, str) or not v.strip()]
            if bad:
                continue
            out = {k: re.sub(r"\s+", " ", str(v)).strip() for k, v in values.items()}
            if len(out["question"]) < MIN_QUESTION_CHARS:
                continue
            return out, None
    if found_object:
        return None, "JSON object without non-empty 'scenario', 'persona' and 'question'"
    return None, "no JSON object in the reply"


def combined_score(relevance: float | None, indirectness: float | None) -> float:
    """The weaker of the two checks; an unscored check counts below any score."""
    if relevance is None or indirectness is None:
        return -1.0
    return min(relevance, indirectness)


def passes(c: CandidateScore, threshold: float) -> bool:
    return (
        c.relevance is not None
        and c.indirectness is not None
        and combined_score(c.relevance, c.indirectness) >= threshold
    )


def pick_best(history: Sequence[CandidateScore]) -> int:
    """Index of the candidate to keep: highest combined score, earliest on ties."""
    return max(
        range(len(history)), key=lambda i: (combined_score(history[i].relevance, history[i].indirectness), -i)
    )


def should_stop(history: Sequence[CandidateScore], threshold: float, max_attempts: int) -> bool:
    """Stop once the latest candidate passes both checks or the attempts are spent."""
    return bool(history) and (passes(history[-1], threshold) or len(history) >= max_attempts)


def attempt_params(
    base: GenerationParams, attempt: int, retry: int, retry_temperature: float
) -> GenerationParams:
    """Decoding settings for one generation: a fresh seed for every (attempt, retry), and
    a sampling temperature when a greedy setting would otherwise repeat itself."""
    update: dict = {"seed": base.seed + 1000 * (attempt - 1) + retry}
    if base.greedy and (retry > 0 or attempt > 1):
        update["temperature"] = retry_temperature
    return base.model_copy(update=update)


# -- the loop ------------------------------------------------------------------------------


@dataclass
class _Item:
    item: KnowledgeItem
    knowledge: str
    stance: str = "stated"
    drafts: list[dict[str, str]] = field(default_factory=list)
    history: list[CandidateScore] = field(default_factory=list)
    methods: list[set[str]] = field(default_factory=list)
    json_failures: int = 0
    last_json_error: str | None = None
    done: bool = False


class _Prompts:
    def __init__(self, template_dir: str | Path | None):
        self.question = gp.load("question", template_dir)
        self.revise = gp.load("revise", template_dir)
        self.feedback = {
            "relevance": gp.render_text(gp.load("feedback_relevance", template_dir)),
            "indirectness": gp.render_text(gp.load("feedback_indirectness", template_dir)),
        }
        self.relevance = gp.load("check_relevance", template_dir)
        self.indirectness = gp.load("check_indirectness", template_dir)

    def generation(self, s: _Item, threshold: float, refine: str) -> list[ChatMessage]:
        if not s.history or refine == "regenerate":
            return gp.render_chat(self.question, knowledge=s.knowledge)
        last, draft = s.history[-1], s.drafts[-1]
        failed = [
            self.feedback[name]
            for name, score in (("relevance", last.relevance), ("indirectness", last.indirectness))
            if score is None or score < threshold
        ]
        return gp.render_chat(
            self.revise,
            knowledge=s.knowledge,
            draft=json.dumps(draft, ensure_ascii=False),
            feedback=" Also, ".join(failed) or self.feedback["relevance"],
        )


def _final(s: _Item, threshold: float) -> GroundedQuestion:
    best = pick_best(s.history)
    c, draft = s.history[best], s.drafts[best]
    methods = s.methods[best]
    return GroundedQuestion(
        id=f"{s.item.id}-q",
        knowledge_id=s.item.id,
        knowledge=s.knowledge,
        cultural_group=s.item.cultural_group,
        topic=s.item.topic,
        scenario=draft["scenario"],
        persona=draft["persona"],
        question=draft["question"],
        relevance=c.relevance,
        indirectness=c.indirectness,
        attempts=len(s.history),
        accepted=passes(c, threshold),
        score_source=(next(iter(methods)) if len(methods) == 1 else "mixed") if methods else None,
        json_failures=s.json_failures,
        threshold=threshold,
        history=s.history,
        knowledge_stance="negated" if s.stance == "negated" else "stated",
    )


def _generate_drafts(
    generator: LM, prompts: _Prompts, active: list[_Item], attempt: int, config: RefineConfig
) -> list[tuple[_Item, dict[str, str]]]:
    """One valid draft per item where possible, retrying invalid JSON with new seeds."""
    got: list[tuple[_Item, dict[str, str]]] = []
    waiting = list(active)
    messages = {id(s): prompts.generation(s, config.threshold, config.refine) for s in active}
    for retry in range(config.json_retries + 1):
        if not waiting:
            break
        params = attempt_params(config.params, attempt, retry, config.retry_temperature)
        label = f"grounded questions (attempt {attempt}" + (f", JSON retry {retry})" if retry else ")")
        replies = generator.generate([messages[id(s)] for s in waiting], params, desc=label)
        still: list[_Item] = []
        for s, samples in zip(waiting, replies, strict=True):
            c = samples[0]
            fields, why = parse_question_json(c.text) if c.ok else (None, f"model call failed: {c.error}")
            if fields is None:
                s.json_failures += 1
                s.last_json_error = why
                still.append(s)
            else:
                got.append((s, fields))
        waiting = still
    return got


def _check(
    checker: LM, prompts: _Prompts, drafts: list[tuple[_Item, dict[str, str]]]
) -> list[tuple[YesNoScore, YesNoScore]]:
    msgs = []
    for s, d in drafts:
        msgs.append(gp.render_chat(prompts.relevance, knowledge=s.knowledge, question=d["question"]))
        msgs.append(gp.render_chat(prompts.indirectness, knowledge=s.knowledge, question=d["question"]))
    scores = ask_yes_no(checker, msgs, desc="question checks")
    return [(scores[2 * i], scores[2 * i + 1]) for i in range(len(drafts))]


def synthesize_grounded(
    generator: LM,
    checker: LM,
    items: Sequence[KnowledgeItem],
    config: RefineConfig | None = None,
    *,
    out: str | Path | None = None,
    template_dir: str | Path | None = None,
) -> GroundedSynthResult:
    """Generate one checked question per knowledge item (see the module docstring).

    Items run in lock step so each round is one batched call per model. Finished
    questions are appended to ``OUT.partial`` as they settle; ``out`` itself is written
    at the end, in input order, with failures in ``OUT.failed.jsonl``.
    """
    config = config or RefineConfig()
    prompts = _Prompts(template_dir)
    kept, left_out, counts = ground_all(items)
    states = [_Item(item, g.text or "", g.stance) for item, g in kept]
    failures: dict[int, GroundedSynthFailure] = {}
    partial = None
    if out is not None:  # a salvage copy for a killed run; the call cache makes a rerun cheap
        Path(str(out) + ".partial").unlink(missing_ok=True)
        partial = JsonlAppender(Path(str(out) + ".partial"))
    try:
        for attempt in range(1, config.max_attempts + 1):
            active = [s for s in states if not s.done]
            if not active:
                break
            drafts = _generate_drafts(generator, prompts, active, attempt, config)
            drafted = {id(s) for s, _ in drafts}
            for s in active:
                if id(s) in drafted:
                    continue
                s.done = True  # JSON retries spent: keep what earlier attempts produced
                if not s.history:
                    failures[id(s)] = GroundedSynthFailure(
                        knowledge_id=s.item.id,
                        reason=f"no valid JSON after {s.json_failures} tries (last: {s.last_json_error})",
                        json_failures=s.json_failures,
                    )
                elif partial is not None:
                    partial.write(_final(s, config.threshold))
            for (s, draft), (rel, ind) in zip(drafts, _check(checker, prompts, drafts), strict=True):
                s.drafts.append(draft)
                s.history.append(
                    CandidateScore(
                        attempt=attempt,
                        question=draft["question"],
                        relevance=rel.p_yes,
                        indirectness=ind.p_yes,
                        revised=attempt > 1 and config.refine == "revise",
                    )
                )
                s.methods.append({x.method for x in (rel, ind) if x.ok and x.method})
                if should_stop(s.history, config.threshold, config.max_attempts):
                    s.done = True
                    if partial is not None:
                        partial.write(_final(s, config.threshold))
    finally:
        if partial is not None:
            partial.close()
    questions = [_final(s, config.threshold) for s in states if s.history]
    result = GroundedSynthResult(
        questions, [failures[id(s)] for s in states if id(s) in failures], counts, left_out
    )
    if out is not None:
        out = Path(out)
        write_records(out, questions)
        for suffix, records in ((".failed.jsonl", result.failures), (".left_out.jsonl", result.left_out)):
            side = out.with_name(out.name + suffix)
            if records:
                write_records(side, records)
            else:
                side.unlink(missing_ok=True)
        Path(str(out) + ".partial").unlink(missing_ok=True)
    return result
