"""Records of LM-as-a-judge ratings (CARE, paper 000 §4.1 and appendix C).

One ``Judgment`` per judged response, as written to ``judgments.jsonl``. A judgment
that has no valid rating keeps ``rating=None`` with its replies and the reason, so
it is counted as invalid and never averaged in as a 0 or a -1.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

JudgmentStatus = Literal["ok", "invalid", "skipped"]


class JudgeAttempt(BaseModel):
    """One call to the judge: the reply (or the call's error) and what the parser made of it.

    Whether it came from the call cache is not recorded here (``run.json`` counts cache
    hits), so a rerun writes byte-identical judgments."""

    model_config = ConfigDict(extra="forbid")

    attempt: int = Field(description="0 for the first ask, 1.. for retries")
    seed: int
    temperature: float
    reply: str | None = None
    error: str | None = None
    parse_status: str = Field(description="ok | empty | missing | out_of_range | conflict | call_failed")
    parse_detail: str = ""
    rating: float | None = None


class JudgeSample(BaseModel):
    """One of the k independent judgments of the same response; its last attempt decides."""

    model_config = ConfigDict(extra="forbid")

    sample: int
    rating: float | None = None
    attempts: list[JudgeAttempt] = Field(default_factory=list)
    parsed_rating: float | None = Field(
        None, description="with expected scoring: the number the judge wrote (rating holds the expectation)"
    )
    distribution: list[float] | None = Field(
        None, description="with expected scoring: P(rating = n) for n = 1..10, renormalised over the scale"
    )
    coverage: float | None = Field(
        None, description="with expected scoring: the probability the judge put on 1..10 before renormalising"
    )

    @property
    def valid(self) -> bool:
        return self.rating is not None

    @property
    def reply(self) -> str | None:
        return self.attempts[-1].reply if self.attempts else None


class Judgment(BaseModel):
    """A judge's 1-10 rating of one response against the human reference answer.

    ``rating`` is the median of the valid samples (one sample by default).
    ``status`` is ``ok`` (rated), ``invalid`` (the judge was asked but gave no usable
    rating after all retries, or its calls failed) or ``skipped`` (nothing to judge:
    the response is missing or the item has no reference answer); ``reason`` says why.
    """

    model_config = ConfigDict(extra="forbid")

    item_id: str
    sample_index: int = Field(0, description="which response to the item (several per item: mean or max)")
    question: str
    reference: str | None = None
    response: str | None = None
    category: str | None = None
    scope: str | None = None
    culture: str | None = None
    mode: str = "vanilla"
    lang: str = "native"
    model: str | None = Field(None, description="what produced the response: a model spec or a source name")
    judge: str
    rubric: str | None = Field(None, description="entities_opinion | norms_commonsense | literacy")
    rubric_sha: str | None = None
    rating: float | None = None
    valid: bool = False
    status: JudgmentStatus
    reason: str | None = None
    judge_reply: str | None = Field(None, description="the reply that decided (first sample's last attempt)")
    samples: list[JudgeSample] = Field(default_factory=list)
    attempts: int = Field(0, description="judge calls made for this response, all samples and retries")
    human_rating: float | None = Field(None, description="a human rating of the same response, when known")
    score_method: Literal["parsed", "expected"] = Field(
        "parsed",
        description="parsed: the number the judge wrote; expected: the mean of its 1-10 probabilities",
    )
    score_note: str | None = Field(None, description="why expected scoring was asked for but not used")

    @model_validator(mode="after")
    def _consistent(self) -> Judgment:
        if self.valid != (self.status == "ok"):
            raise ValueError(f"valid={self.valid} does not match status {self.status!r}")
        if self.valid and self.rating is None:
            raise ValueError("a valid judgment needs a rating")
        if not self.valid and self.rating is not None:
            raise ValueError("an invalid or skipped judgment carries no rating")
        if self.rating is not None and not (1 <= self.rating <= 10):
            raise ValueError(f"rating {self.rating:g} is outside 1-10")
        return self
