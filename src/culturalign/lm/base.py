"""The LM contract: three list-taking calls, each result delivered as it arrives.

* ``generate``  chat completions for many message lists (n samples each);
* ``score``     log P(continuation | prompt) for given continuations (choice benchmarks);
* ``label_logprobs``  log-probabilities of the next token over a small label set
  (option letters, Yes/No).

A ``Backend`` implements the three calls for one kind of model. ``LM`` (in
``culturalign.lm.cached``) wraps any backend with the SQLite call cache, progress and
usage accounting; evaluation code only ever sees an ``LM``.

Prompts are either chat message tuples (rendered with the model's chat template) or a
raw string (no template), which is what base-model style scoring needs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from culturalign.records.generation import ChatMessage, Completion, GenerationParams

Prompt = tuple[ChatMessage, ...] | str


def as_prompt(prompt: Sequence[ChatMessage] | Sequence[dict] | str) -> Prompt:
    """Normalise a prompt into the hashable form requests carry."""
    if isinstance(prompt, str):
        return prompt
    return tuple(m if isinstance(m, ChatMessage) else ChatMessage(**m) for m in prompt)


def prompt_json(prompt: Prompt) -> Any:
    return prompt if isinstance(prompt, str) else [m.model_dump() for m in prompt]


@dataclass(frozen=True)
class GenRequest:
    messages: tuple[ChatMessage, ...]
    params: GenerationParams
    sample_index: int = 0


@dataclass(frozen=True)
class ScoreRequest:
    """Score each continuation after the prompt. For a chat prompt the continuation is
    the start of the assistant turn (after the template's generation prompt), after
    ``prefix``: text forced into that turn first and not scored (a judge's commentary
    before its rating)."""

    prompt: Prompt
    continuations: tuple[str, ...]
    prefix: str = ""


@dataclass
class ScoreResult:
    logprobs: list[float] = field(default_factory=list)  # summed token log-probs per continuation
    num_tokens: list[int] = field(default_factory=list)
    num_chars: list[int] = field(default_factory=list)
    error: str | None = None
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class LabelScoreRequest:
    """Next-token log-probabilities over ``labels`` after the prompt (plus ``prefix``,
    text forced at the start of the assistant turn, e.g. ``"Answer:"``)."""

    prompt: Prompt
    labels: tuple[str, ...]
    prefix: str = ""


@dataclass
class LabelScoreResult:
    # label -> log-probability under the full vocabulary; None where the backend could
    # not see it (an API's top_logprobs that omit it). Never a made-up number.
    logprobs: dict[str, float | None] = field(default_factory=dict)
    method: str = "logits"  # "logits" | "top_logprobs" | "prompt_logprobs" | "generate-parse"
    raw_text: str | None = None
    error: str | None = None
    cached: bool = False
    # the label chosen: the most probable visible one, or the one parsed from a reply
    choice: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


OnDone = Callable[[int, Any], None]


class NotSupported(Exception):
    """The backend cannot do this kind of call (e.g. log-probs over an API without them)."""


class Backend(ABC):
    """One kind of model. Implementations call ``on_done(i, result)`` for request ``i``
    as soon as it is finished, so the cache can store it before the next one starts."""

    kind: str = "base"
    #: how many requests ``LM`` hands over at once (progress and cache writes happen between)
    chunk_size: int = 16

    @abstractmethod
    def identity(self) -> dict[str, Any]:
        """What makes outputs differ: backend, model name or path, weights hash, base URL."""

    @abstractmethod
    def generate(self, requests: Sequence[GenRequest], on_done: OnDone) -> None: ...

    def score(self, requests: Sequence[ScoreRequest], on_done: OnDone) -> None:
        raise NotSupported(f"the {self.kind} backend cannot score continuations")

    def label_logprobs(self, requests: Sequence[LabelScoreRequest], on_done: OnDone) -> None:
        raise NotSupported(f"the {self.kind} backend cannot read next-token log-probabilities")

    # True when the model is known to write English only (``translation.language_warning``);
    # None: unknown, which is every backend that does not say
    english_only: bool | None = None

    @property
    def supports_logprobs(self) -> bool:
        return True

    def usage(self) -> dict[str, Any]:
        """Extra accounting the backend keeps (e.g. retries); merged into run stats."""
        return {}

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


REPLACEMENT_CHAR = "\ufffd"


def trim_partial_char(text: str) -> str:
    """``text`` without trailing U+FFFD characters.

    A byte-level BPE model writes a character like 茶 as several byte tokens; when
    generation stops between them (the token budget, a stop string, end of sequence)
    the decoder turns the incomplete bytes into U+FFFD. That is half a character, not
    something the model said, so it is cut. (A model that really meant to end on a
    replacement character loses it; no real reply does.)"""
    return text.rstrip(REPLACEMENT_CHAR)


def completion_error(exc: BaseException) -> Completion:
    return Completion(error=f"{type(exc).__name__}: {exc}")
