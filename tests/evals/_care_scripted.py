"""A scripted judge backend for testing the logic around a model (retries, medians,
caching), wrapped in the real ``LM`` with the real SQLite call cache."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from culturalign.lm.base import Backend, GenRequest, OnDone
from culturalign.lm.cache import CallCache
from culturalign.lm.cached import LM
from culturalign.records import Completion

Script = Callable[[GenRequest], str | None]


class ScriptedBackend(Backend):
    kind = "scripted"

    def __init__(self, script: Script, name: str = "scripted-judge"):
        self.script = script
        self.name = name
        self.seen: list[GenRequest] = []

    def identity(self) -> dict:
        return {"backend": "scripted", "model": self.name}

    def generate(self, requests: Sequence[GenRequest], on_done: OnDone) -> None:
        for i, r in enumerate(requests):
            self.seen.append(r)
            text = self.script(r)
            on_done(
                i,
                Completion(text=text) if text is not None else Completion(error="HTTP 500: scripted failure"),
            )


def scripted_lm(script: Script, cache: CallCache | None, name: str = "scripted-judge") -> LM:
    return LM(ScriptedBackend(script, name), cache, spec=f"scripted:{name}")
