"""Records of model calls: chat messages, decoding settings, completions, responses."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str


class GenerationParams(BaseModel):
    """Decoding settings. Defaults are CARE's inference settings (paper 000 appendix B).

    ``temperature == 0`` means greedy decoding. ``max_context`` bounds prompt plus
    completion, like vLLM's ``max_model_len=2048`` in the paper.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float = Field(default=0.7, ge=0)
    top_p: float = Field(default=1.0, gt=0, le=1)
    max_new_tokens: int = Field(default=1024, ge=1)
    max_context: int = Field(default=2048, ge=16)
    seed: int = 0
    stop: tuple[str, ...] = ()

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


class Completion(BaseModel):
    """The result of one model call (one sample). A failed call keeps its error and no text."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    error: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and self.text is not None


class ModelResponse(BaseModel):
    """One generated answer to one item, as written by ``culturalign generate``.

    Failures are kept as failures (``error`` set, ``text`` None) so a later run can fill
    them; they are never turned into empty answers.
    """

    model_config = ConfigDict(extra="forbid")

    item_id: str
    model: str
    mode: str = "vanilla"
    lang: str = "native"
    sample_index: int = 0
    messages: list[ChatMessage]
    text: str | None = None
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    # copied from the question so that downstream tables need not re-join
    culture: str | None = None
    category: str | None = None
    geographic_scope: str | None = None
    question: str | None = None
    reference_answer: str | None = None
