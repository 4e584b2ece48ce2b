"""Cultural knowledge and situation-grounded questions (paper 003 §4.1, CultureBank)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class KnowledgeItem(BaseModel):
    """One piece of cultural knowledge, structured as CultureBank does or as free text.

    Structured records are turned into a short description (``describe``) before any
    prompt sees them.
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


class GroundedQuestion(BaseModel):
    """An indirect, situation-grounded question generated from a knowledge item."""

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
    score_source: str | None = Field(default=None, description="'logprob' or 'parsed verdict'")
