"""Records of CAReDiO's synthesis and selection stages (paper 002 §3.2-§3.4).

Each stage reads one of these as JSONL and writes the next, so a user can start at any
stage with their own file: general questions (``SynthQuestion``) → culture-adapted
questions (``AdaptedQuestion``) → answered samples (``CulturalSample``) → selection
picks (``SelectionPick``) → training rows (``SFTExample`` / ``PreferencePair``).

A failed step keeps its record with ``error`` set and no text, so the failure is
visible and a later run can fill it; later stages skip such records and count them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

QuestionType = Literal["scenario", "value", "open"]
QUESTION_TYPES: tuple[str, ...] = ("scenario", "value", "open")


def _not_blank(v: str) -> str:
    if not v.strip():
        raise ValueError("must not be empty")
    return v


class SynthQuestion(BaseModel):
    """A general (culture-neutral) question about one topic of the cultural framework.

    Only ``id`` and ``text`` are required, so a plain list of one's own questions is a
    valid input to the adaptation stage.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    text: str
    topic: str | None = None
    level: str | None = None
    qtype: QuestionType | None = None
    source: str | None = None
    model: str | None = None

    @field_validator("id", "text")
    @classmethod
    def _required_text(cls, v: str) -> str:
        return _not_blank(v)


class AdaptedQuestion(BaseModel):
    """A general question rewritten for one target culture (paper 002 §3.2, "Cultural
    Question Adaptation"), with the role-played answers it was compared against and the
    model's reasoning. ``question`` is None when no rewritten question could be parsed
    (``error`` says why)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    general_question_id: str
    general_question: str
    target_culture: str
    question: str | None = None
    reasoning: str | None = None
    probe_answers: dict[str, str] = Field(
        default_factory=dict, description="culture -> its role-played answer to the general question"
    )
    topic: str | None = None
    level: str | None = None
    qtype: QuestionType | None = None
    attempts: int = 1
    error: str | None = None
    model: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.question)


class CulturalSample(BaseModel):
    """One training sample: a question, the target culture's answer, and the answers of
    other cultures to the same question (paper 002 §3.2 "Distinctive Response
    Generation"; §3.3 uses ``other_responses`` for distinctiveness, §3.4 as rejected
    answers).

    ``response`` is the final answer (written with the other cultures' answers in view
    when the synthesis pipeline made it); ``isolated_response`` is the target culture's
    first answer on its own. Human data converted for selection carries its dispreferred
    answers in ``rejected`` instead of ``other_responses``.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    question: str
    target_culture: str
    response: str | None = None
    isolated_response: str | None = None
    other_responses: dict[str, str] = Field(default_factory=dict, description="culture -> answer")
    rejected: list[str] = Field(default_factory=list, description="dispreferred answers (human data)")
    question_id: str | None = None
    general_question: str | None = None
    topic: str | None = None
    level: str | None = None
    qtype: QuestionType | None = None
    source: str | None = None
    model: str | None = None
    error: str | None = None

    @field_validator("id", "question", "target_culture")
    @classmethod
    def _required_text(cls, v: str) -> str:
        return _not_blank(v)

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.response and self.response.strip())


DistinctivenessMethod = Literal["other_cultures", "rejected", "none"]
DistinctivenessSource = Literal["other-cultures", "rejected-answers", "mean-d-fallback", "r-only-fallback"]


class SelectionPick(BaseModel):
    """One selected sample with the scores that chose it (paper 002 §3.3).

    ``r`` is representativeness (the cluster size, or the in-context accuracy),
    ``d`` distinctiveness (mean 1 − cosine to ``d_compared`` other answers), ``s = r·d``.
    ``d_method`` says what ``d`` was computed against: other cultures' answers, the
    sample's own rejected answers (human preference data), or nothing. ``d_source`` says
    how ``d`` came about, so that picks' scores can be compared: measured per Eq. 1
    (``other-cultures``), measured against rejected answers (``rejected-answers``, not
    Eq. 1's quantity), or not measured at all: the culture's mean ``d``
    (``mean-d-fallback``) or 1 when no centre had anything to compare with
    (``r-only-fallback``, ordered by ``r`` alone). ``d_below_k`` flags a ``d`` averaged
    over fewer than the configured k answers (paper 002: k = 4). The rule is documented
    in ``culturalign.select.scores``. Both are None in picks written before they were
    recorded.
    """

    model_config = ConfigDict(extra="forbid")

    rank: int = Field(ge=1, description="1-based position in the selection order of its culture")
    sample_id: str
    culture: str
    r: float
    d: float
    s: float
    cluster_id: int
    cluster_size: int = Field(ge=1)
    d_method: DistinctivenessMethod = "other_cultures"
    d_compared: int = Field(default=0, ge=0, description="how many answers d averages over")
    d_source: DistinctivenessSource | None = Field(
        default=None, description="measured per Eq. 1, against rejected answers, or a fallback"
    )
    d_below_k: bool | None = Field(default=None, description="d averaged over fewer than k answers")
    tokens: int = Field(default=0, ge=0, description="length used for a token budget")
    sample: CulturalSample


__all__ = [
    "QUESTION_TYPES",
    "AdaptedQuestion",
    "CulturalSample",
    "DistinctivenessMethod",
    "DistinctivenessSource",
    "QuestionType",
    "SelectionPick",
    "SynthQuestion",
]
