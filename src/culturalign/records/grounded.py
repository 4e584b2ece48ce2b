"""Records of the grounded evaluation and the training data drawn from it (paper 003 §4.2, §5.2.1).

``GroundedEvalItem`` is one line of a run's ``items.jsonl``: the plain answer, the
knowledge-augmented answer, and the judge's knowledge-entailment score for each.
``SFTExample`` is TRL's conversational prompt-completion format (``prompt`` and
``completion`` as message lists) and ``KnowledgeText`` its language-modelling format
(``text``), each with provenance fields the trainer ignores.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class JudgedAnswer(BaseModel):
    """One answer and the judge's verdict on it.

    ``entailment`` is P(Yes) to "does this answer reflect the knowledge?"; with a judge
    that shows no probabilities it is 1.0 or 0.0 from the parsed verdict and ``method``
    says so. None means no score could be had (``error`` says why); it is never 0.
    """

    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    error: str | None = None
    entailment: float | None = None
    method: str | None = Field(default=None, description="'logprob' | 'parsed verdict' | None")
    judge_error: str | None = None


class GroundedEvalItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question_id: str
    knowledge_id: str
    cultural_group: str | None = None
    topic: str | None = None
    knowledge: str
    question: str
    plain: JudgedAnswer
    augmented: JudgedAnswer | None = None


class KnowledgeText(BaseModel):
    """One knowledge description as plain training text (paper 003 §4.2.2, first SFT step)."""

    model_config = ConfigDict(extra="forbid")

    text: str
    knowledge_id: str
    culture: str | None = None
    category: str | None = None
    source: str | None = None
