"""Cultural knowledge and situation-grounded questions (paper 003 §4.1, CultureBank).

A ``KnowledgeItem`` holds one CultureBank record (cultural group, context, actor,
behaviour, ...) or one free-text description. Prompts never see the raw fields: they
see ``describe(item)``, a short English paragraph (paper 003 §4.2.2 turns each record
into "a short, descriptive paragraph" the same way, there with an LLM; ours is a fixed
rule so the text is reproducible and costs nothing).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field


class KnowledgeItem(BaseModel):
    """One piece of cultural knowledge, structured as CultureBank does or as free text.

    ``eval_scenario``/``eval_persona``/``eval_question`` carry the question a published
    CultureBank release already pairs with the record, so such a file can be evaluated
    without generating questions first.
    """

    model_config = ConfigDict(extra="ignore")

    id: str
    cultural_group: str | None = None
    context: str | None = None
    goal: str | None = None
    relation: str | None = None
    actor: str | None = None
    actor_behavior: str | None = None
    recipient: str | None = None
    recipient_behavior: str | None = None
    other_descriptions: str | None = None
    topic: str | None = None
    agreement: float | None = None
    description: str | None = Field(default=None, description="free-text knowledge, if given as such")
    eval_scenario: str | None = None
    eval_persona: str | None = None
    eval_question: str | None = None

    @property
    def is_structured(self) -> bool:
        return bool(self.actor_behavior)


class CandidateScore(BaseModel):
    """One checked candidate of the self-refinement loop (paper 003 Fig. 2)."""

    model_config = ConfigDict(extra="forbid")

    attempt: int
    question: str
    relevance: float | None = None
    indirectness: float | None = None
    revised: bool = Field(default=False, description="written as a revision of the previous candidate")


class GroundedQuestion(BaseModel):
    """An indirect, situation-grounded question generated from a knowledge item.

    ``relevance`` and ``indirectness`` are the checker's P(Yes) for the kept candidate;
    ``accepted`` says whether both reached the threshold (otherwise the best candidate
    after ``attempts`` tries was kept); ``history`` lists every checked candidate.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    knowledge_id: str
    knowledge: str
    cultural_group: str | None = None
    topic: str | None = None
    scenario: str
    persona: str
    question: str
    relevance: float | None = None
    indirectness: float | None = None
    attempts: int = 1
    accepted: bool = True
    score_source: str | None = Field(
        default=None,
        description="'logprob', 'parsed verdict', 'mixed', or 'given' (a release's own question)",
    )
    json_failures: int = Field(default=0, description="generations rejected as invalid JSON")
    threshold: float | None = None
    history: list[CandidateScore] = Field(default_factory=list)


# -- describe: structured record -> short paragraph ----------------------------------------

_GROUP_WORDS = ("people", "speakers", "community", "communities", "immigrants", "users", "families")


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = re.sub(r"\s+", " ", str(value)).strip()
    return text or None


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def _group_phrase(group: str) -> str:
    """'In Japanese culture' for a demonym, 'Among Americans' for a plural or a longer name."""
    lowered = group.lower()
    if lowered.endswith("s") or len(group.split()) > 2 or any(w in lowered for w in _GROUP_WORDS):
        return f"Among {group}"
    if lowered.endswith("culture"):
        return f"In {group}"
    return f"In {group} culture"


def describe(item: KnowledgeItem) -> str:
    """The short description a prompt sees.

    A given description (free text, or a release's own ``eval_whole_desc``) is used as
    it is. Otherwise the structured fields become two to five plain sentences: who does
    what in which context, how the other side responds, why, and how widely the sources
    agree. Topic is left out: it labels the knowledge rather than stating it.
    """
    given = _clean(item.description)
    if given:
        return given
    behavior = _clean(item.actor_behavior)
    group = _clean(item.cultural_group)
    if not behavior:
        raise ValueError(f"knowledge item {item.id} has neither a description nor an actor behaviour")
    opening = _group_phrase(group) if group else "In this cultural group"
    context = _clean(item.context)
    actor = _clean(item.actor) or "people"
    first = f"{opening}, {context}, {actor} {behavior}" if context else f"{opening}, {actor} {behavior}"
    recipient = _clean(item.recipient)
    if recipient and not _clean(item.recipient_behavior) and recipient.lower() not in behavior.lower():
        first += f" (toward {recipient})"
    parts = [_sentence(first)]
    if recipient and (rb := _clean(item.recipient_behavior)):
        parts.append(_sentence(f"{recipient} in turn {rb}"))
    if relation := _clean(item.relation):
        parts.append(_sentence(f"The relationship involved: {relation}"))
    if goal := _clean(item.goal):
        parts.append(_sentence(f"The aim is {goal}" if goal.lower().startswith("to ") else f"Goal: {goal}"))
    if other := _clean(item.other_descriptions):
        parts.append(_sentence(other))
    if item.agreement is not None:
        parts.append(f"About {round(100 * item.agreement)}% of the sources that mention it agree.")
    return " ".join(parts)
