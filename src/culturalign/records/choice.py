"""Items scored from a model's own probabilities: multiple choice, opinion
distributions, NLI, and short answers (papers 002 §4.1 and 003 §5.2)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DISTRIBUTION_TOLERANCE = 0.02


class ChoiceItem(BaseModel):
    """A question with options, and either a gold answer or per-group target distributions.

    ``target_distributions`` maps a group (usually a country) to shares over ``options``;
    groups that did not see an option carry 0 there. Shares must sum to about 1.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    question: str
    options: list[str] = Field(min_length=2)
    answer: int | None = Field(default=None, description="0-based index of the gold option")
    target_distributions: dict[str, list[float]] | None = None
    culture: str | None = None
    language: str | None = None
    source: str | None = None
    topic: str | None = None
    kind: Literal["mcq", "opinion", "culturalbench_easy", "culturalbench_hard"] = "mcq"

    @model_validator(mode="after")
    def _check(self) -> ChoiceItem:
        if not self.question.strip():
            raise ValueError("question text is empty")
        if self.answer is None and not self.target_distributions:
            raise ValueError("needs either a gold answer or target distributions")
        if self.answer is not None and not (0 <= self.answer < len(self.options)):
            raise ValueError(f"answer index {self.answer} is outside the {len(self.options)} options")
        for group, dist in (self.target_distributions or {}).items():
            if len(dist) != len(self.options):
                raise ValueError(
                    f"distribution for {group!r} has {len(dist)} values for {len(self.options)} options"
                )
            if any((not math.isfinite(p)) or p < 0 for p in dist):
                raise ValueError(f"distribution for {group!r} has a negative or non-finite share")
            total = sum(dist)
            if abs(total - 1.0) > DISTRIBUTION_TOLERANCE:
                raise ValueError(f"distribution for {group!r} sums to {total:.3f}, not about 1")
        return self


NLILabel = Literal["E", "N", "C"]


class NLIItem(BaseModel):
    """A premise/hypothesis pair with several annotators' labels per culture (CALI)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    premise: str
    hypothesis: str
    labels: dict[str, list[NLILabel]] = Field(description="culture -> annotators' labels")
    source: str | None = None

    def gold(self, culture: str) -> NLILabel | None:
        """Majority label of one culture's annotators; None on a tie for first place."""
        votes = self.labels.get(culture) or []
        counts = {lab: votes.count(lab) for lab in ("E", "N", "C")}
        best = max(counts.values(), default=0)
        winners = [lab for lab, c in counts.items() if c == best and c > 0]
        return winners[0] if len(winners) == 1 else None


class AnswerAnnotation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: list[str]
    en_answers: list[str] = Field(default_factory=list)
    count: int = 1


class ShortAnswerItem(BaseModel):
    """A short-answer question with annotated answers in both languages (BLEnD)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    region: str
    language: str
    question: str
    question_en: str | None = None
    topic: str | None = None
    annotations: list[AnswerAnnotation] = Field(default_factory=list)
    idk_count: int = 0
    source: str | None = None
