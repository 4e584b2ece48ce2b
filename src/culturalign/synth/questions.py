"""Stage 1: general questions for every topic of the cultural framework (paper 002 §3.2).

Self-instruct style: each (topic, question type) prompt asks for a batch of questions
that people of different cultures would answer differently; later rounds show the
questions already kept for that topic and type and ask for new ones, until ``k``
questions per topic are collected or the rounds run out. Near-duplicates (same
normalised text, or embedding cosine above a threshold across all topics) are dropped.
Three types, as in the paper: scenario-based, value-oriented and open-ended.

Every generation goes through the cached ``LM``: a rerun pays only for what is missing
and gives the same questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from culturalign.io import write_records
from culturalign.lm.cached import LM
from culturalign.records.generation import GenerationParams
from culturalign.records.synth import QUESTION_TYPES, SynthQuestion
from culturalign.synth import templates
from culturalign.synth.dedup import Encode, NearDuplicateFilter
from culturalign.synth.framework import Framework
from culturalign.synth.parse import parse_question_list
from culturalign.synth.stage import DEFAULT_CULTURES

QTYPE_TEXT = {
    "scenario": (
        "scenario-based questions",
        "Each one sketches a concrete everyday situation in one or two sentences and asks what "
        "the reader would do, say or feel in it.",
    ),
    "value": (
        "value-oriented questions",
        "Each one asks how far the reader agrees with a belief or principle, or how much "
        "something matters to them, and why.",
    ),
    "open": (
        "open-ended questions",
        "Each one invites the reader to explain in their own words how they see something, or "
        "how it is usually done where they live.",
    ),
}
DEFAULT_PARAMS = GenerationParams(temperature=0.9, top_p=0.95, max_new_tokens=512)
SHOWN_EXISTING = 5  # questions already kept that a later round shows, self-instruct style


def split_k(k: int, qtypes: Sequence[str]) -> dict[str, int]:
    """``k`` questions per topic spread over the types as evenly as possible (earlier
    types take the remainder)."""
    base, extra = divmod(k, len(qtypes))
    return {t: base + (1 if i < extra else 0) for i, t in enumerate(qtypes)}


@dataclass
class QuestionStats:
    prompts: int = 0
    rounds: int = 0
    parsed: int = 0
    unparseable_outputs: int = 0
    failed_calls: int = 0
    dropped_exact: int = 0
    dropped_near: int = 0
    kept: int = 0
    short_topics: dict[str, int] = field(default_factory=dict)  # "topic/type" -> how many missing

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def generate_questions(
    lm: LM,
    framework: Framework,
    *,
    k: int = 6,
    qtypes: Sequence[str] = QUESTION_TYPES,
    params: GenerationParams | None = None,
    max_rounds: int = 4,
    example_cultures: Sequence[str] = DEFAULT_CULTURES,
    encode: Encode | None = None,
    dedup_threshold: float = 0.9,
    template_dir: str | Path | None = None,
    out: str | Path | None = None,
) -> tuple[list[SynthQuestion], QuestionStats]:
    """``k`` questions per topic; returns them (in framework order) and what happened."""
    from culturalign.errors import ConfigError

    bad = [t for t in qtypes if t not in QTYPE_TEXT]
    if bad or not qtypes:
        raise ConfigError(f"unknown question type(s) {bad}; choose from {', '.join(QTYPE_TEXT)}")
    if k < 1:
        raise ConfigError("k (questions per topic) must be at least 1")
    params = params or DEFAULT_PARAMS
    template = templates.load("questions", template_dir)
    need = {(t.id, qt): n for t in framework.topics for qt, n in split_k(k, qtypes).items() if n > 0}
    kept: dict[tuple[str, str], list[str]] = {key: [] for key in need}
    filt = NearDuplicateFilter(encode, dedup_threshold)
    stats = QuestionStats()
    topics = {t.id: t for t in framework.topics}

    for rnd in range(max_rounds):
        todo = [key for key in need if len(kept[key]) < need[key]]
        if not todo:
            break
        stats.rounds += 1
        prompts = []
        for tid, qt in todo:
            topic = topics[tid]
            missing = need[(tid, qt)] - len(kept[(tid, qt)])
            # ask for a few more than missing: some will be duplicates or unparseable
            ask = missing + (1 if missing < 3 else missing // 3)
            shown = kept[(tid, qt)][-SHOWN_EXISTING:]
            existing = (
                "\nThese questions are already written; yours must be different from them:\n"
                + "\n".join(f"- {q}" for q in shown)
                + "\n"
                if shown
                else ""
            )
            name, instruction = QTYPE_TEXT[qt]
            prompts.append(
                templates.render_chat(
                    template,
                    topic=topic.name,
                    level=topic.level_name,
                    description=topic.description,
                    n=ask,
                    qtype_name=name,
                    qtype_instruction=instruction,
                    example_cultures=", ".join(example_cultures),
                    existing=existing,
                )
            )
        stats.prompts += len(prompts)
        round_params = params.model_copy(update={"seed": params.seed + rnd})
        outputs = lm.generate(prompts, round_params, desc=f"questions (round {rnd + 1})")
        for (tid, qt), samples in zip(todo, outputs, strict=True):
            c = samples[0]
            if not c.ok:
                stats.failed_calls += 1
                continue
            found = parse_question_list(c.text or "")
            if not found:
                stats.unparseable_outputs += 1
                continue
            stats.parsed += len(found)
            room = need[(tid, qt)] - len(kept[(tid, qt)])
            for q, ok in zip(found, filt.admit(found, limit=room), strict=True):
                if ok:
                    kept[(tid, qt)].append(q)

    questions: list[SynthQuestion] = []
    for (tid, qt), texts in kept.items():
        topic = topics[tid]
        if len(texts) < need[(tid, qt)]:
            stats.short_topics[f"{tid}/{qt}"] = need[(tid, qt)] - len(texts)
        for i, text in enumerate(texts):
            questions.append(
                SynthQuestion(
                    id=f"{tid}-{qt}-{i + 1:03d}",
                    text=text,
                    topic=tid,
                    level=topic.level,
                    qtype=qt,  # type: ignore[arg-type]
                    source="caredio-self-instruct",
                    model=lm.spec,
                )
            )
    stats.dropped_exact, stats.dropped_near, stats.kept = (
        filt.dropped_exact,
        filt.dropped_near,
        len(questions),
    )
    if out is not None:
        write_records(Path(out), questions)
    return questions, stats
