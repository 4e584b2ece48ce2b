"""A scripted backend for the logic around model calls (parsing, retries, the
refinement loop, fallbacks). It sits behind the real ``LM`` wrapper and the real SQLite
call cache; commands and stages are also tested end to end with real models."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from culturalign.lm.base import Backend, GenRequest, LabelScoreRequest, LabelScoreResult, NotSupported, OnDone
from culturalign.lm.cache import CallCache
from culturalign.lm.cached import LM
from culturalign.records import Completion

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "culturalign" / "data" / "sample"


def text_of(prompt) -> str:
    return prompt if isinstance(prompt, str) else "\n".join(m.content for m in prompt)


class ScriptedBackend(Backend):
    """``reply(request) -> str`` for generation; ``labels(prompt_text) -> {label: logprob|None}``
    for next-token log-probabilities, or None to behave like an API without them."""

    kind = "scripted"

    def __init__(
        self,
        name: str,
        reply: Callable[[GenRequest], str] | None = None,
        labels: Callable[[str], dict[str, float | None]] | None = None,
    ):
        self.name = name
        self.reply = reply or (lambda r: "")
        self.labels = labels
        self.gen_requests: list[GenRequest] = []
        self.label_requests: list[LabelScoreRequest] = []

    def identity(self):
        return {"backend": "scripted", "model": self.name}

    @property
    def supports_logprobs(self) -> bool:
        return self.labels is not None

    def generate(self, requests: Sequence[GenRequest], on_done: OnDone) -> None:
        for i, r in enumerate(requests):
            self.gen_requests.append(r)
            on_done(i, Completion(text=self.reply(r), finish_reason="stop"))

    def label_logprobs(self, requests: Sequence[LabelScoreRequest], on_done: OnDone) -> None:
        if self.labels is None:
            raise NotSupported("the scripted backend shows no log-probabilities")
        for i, r in enumerate(requests):
            self.label_requests.append(r)
            got = self.labels(text_of(r.prompt))
            on_done(i, LabelScoreResult(logprobs={k: got.get(k) for k in r.labels}, method="top_logprobs"))


@pytest.fixture
def scripted(tmp_path):
    """Factory: scripted(name, reply=..., labels=...) -> (LM, backend), with a real cache."""
    cache = CallCache(tmp_path / "scripted-calls.sqlite")

    def make(name: str, reply=None, labels=None):
        backend = ScriptedBackend(name, reply, labels)
        return LM(backend, cache, f"scripted:{name}"), backend

    return make


@pytest.fixture
def sample_dir() -> Path:
    return SAMPLE
