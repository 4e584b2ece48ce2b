"""Preference data in TRL's conversational formats (paper 000 §4.1).

A ``PreferencePair`` serialises to exactly the columns TRL's DPO/CPO trainers read
(``prompt``, ``chosen``, ``rejected`` as message lists) plus our provenance fields,
which the trainers ignore.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator

from culturalign.records.generation import ChatMessage


class PreferencePair(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question_id: str
    prompt: list[ChatMessage]
    chosen: list[ChatMessage]
    rejected: list[ChatMessage]
    chosen_rating: float | None = None
    rejected_rating: float | None = None
    culture: str | None = None
    category: str | None = None
    associated_culture: str | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> PreferencePair:
        if (
            self.chosen_rating is not None
            and self.rejected_rating is not None
            and self.chosen_rating <= self.rejected_rating
        ):
            raise ValueError(
                f"chosen rating {self.chosen_rating:g} is not above rejected rating {self.rejected_rating:g}"
            )
        return self


class SFTExample(BaseModel):
    """A prompt with the answer to imitate (TRL's conversational prompt-completion format).

    Written by CARE SFT (reference answers), CAReDiO export and the grounded λ filter;
    read by ``culturalign train sft``. Provenance fields are dropped before TRL sees them.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    prompt: list[ChatMessage]
    completion: list[ChatMessage]
    culture: str | None = None
    category: str | None = None
    source: str | None = None
    entailment: float | None = None  # grounded export: the plain answer's score that selected it


class UnpairedExample(BaseModel):
    """One completion labelled desirable or not, for KTO (TRL's unpaired preference format)."""

    model_config = ConfigDict(extra="forbid")

    question_id: str
    prompt: list[ChatMessage]
    completion: list[ChatMessage]
    label: bool
    rating: float | None = None
    culture: str | None = None
    category: str | None = None
