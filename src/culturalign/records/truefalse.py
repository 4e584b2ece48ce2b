"""A question whose options are each judged true or false on their own.

CulturalBench-Hard (paper 002 §4.1) turns every four-option question into four binary
judgements; a question counts as right only when all four are. Some published questions
have more than one true option, which a single gold index (``ChoiceItem.answer``) cannot
hold, hence this record.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class TrueFalseItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    question: str
    options: list[str] = Field(min_length=1)
    truths: list[bool] = Field(description="whether each option is a right answer to the question")
    culture: str | None = None
    topic: str | None = None
    source: str | None = None
    kind: Literal["culturalbench_hard"] = "culturalbench_hard"

    @model_validator(mode="after")
    def _check(self) -> TrueFalseItem:
        if not self.question.strip():
            raise ValueError("question text is empty")
        if len(self.truths) != len(self.options):
            raise ValueError(f"{len(self.truths)} true/false answers for {len(self.options)} options")
        return self
