"""``LM``: any backend plus the call cache, de-duplication, progress and accounting.

This is the only object evaluation, synthesis and selection code talks to. Results
come back in request order; a failed call is a result with ``error`` set (never an
empty string), stored as a failure and retried by the next run.

An empty or whitespace-only reply is a failed call too, whichever backend produced it
(a server's ``"content": ""``, a local model's immediate end-of-sequence): it is
classified here, once, so no caller can mistake it for an answer, judge it, or find it
cached as a success. A success stored by an older version with empty text is read back
as missing and asked again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from culturalign.errors import CulturalignError
from culturalign.io import stable_hash
from culturalign.lm.base import (
    Backend,
    GenRequest,
    LabelScoreRequest,
    LabelScoreResult,
    NotSupported,
    ScoreRequest,
    ScoreResult,
    as_prompt,
    prompt_json,
)
from culturalign.lm.cache import CallCache
from culturalign.lm.labels import FALLBACK_PARAMS, best_label, parse_label
from culturalign.progress import track
from culturalign.records.generation import ChatMessage, Completion, GenerationParams

log = logging.getLogger(__name__)


@dataclass
class CallStats:
    requests: int = 0  # everything asked for
    cache_hits: int = 0
    calls: int = 0  # sent to the backend
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


EMPTY_REPLY = "empty reply"


def classify_completion(c: Completion) -> Completion:
    """``c``, or a failure in its place when it carries no usable text.

    Token counts and cost are kept: an empty reply was still paid for."""
    if c.error is not None:
        return c if c.text is None else c.model_copy(update={"text": None})
    if c.text is None or not c.text.strip():
        what = f"{len(c.text)} whitespace characters" if c.text else "no text"
        why = f"{EMPTY_REPLY} ({what}; finish_reason={c.finish_reason})"
        return c.model_copy(update={"text": None, "error": why})
    return c


def _stored_completion(d: dict[str, Any]) -> Completion | None:
    """A cached generation, or None when it holds no usable text (so it is asked again)."""
    c = Completion.model_validate(d)
    return c if classify_completion(c).error is None else None


class LM:
    def __init__(self, backend: Backend, cache: CallCache | None, spec: str):
        self.backend = backend
        self.cache = cache
        self.spec = spec
        self.stats = CallStats()
        self._identity = backend.identity()
        self._model_key = json.dumps(self._identity, sort_keys=True)

    # -- identity -------------------------------------------------------------------------
    @property
    def identity(self) -> dict[str, Any]:
        return dict(self._identity)

    @property
    def name(self) -> str:
        return self.spec

    @property
    def supports_logprobs(self) -> bool:
        return self.backend.supports_logprobs

    # -- the three calls --------------------------------------------------------------------
    def generate(
        self,
        prompts: Sequence[Sequence[ChatMessage] | Sequence[dict]],
        params: GenerationParams | None = None,
        n: int = 1,
        desc: str = "generate",
        on_result: Callable[[int, int, Completion], None] | None = None,
    ) -> list[list[Completion]]:
        """Chat completions: ``n`` samples for each prompt, as ``[prompt][sample]``."""
        params = params or GenerationParams()
        reqs = [GenRequest(as_prompt(p), params, k) for p in prompts for k in range(n)]  # type: ignore[arg-type]

        def key(r: GenRequest) -> dict[str, Any]:
            # greedy samples are identical, so they share one cache entry
            return {
                "messages": prompt_json(r.messages),
                "params": r.params.model_dump(mode="json"),
                "sample": 0 if r.params.greedy else r.sample_index,
            }

        def relay(i: int, c: Completion) -> None:
            if on_result is not None:
                on_result(i // n, i % n, c)

        flat = self._run(
            "generate",
            reqs,
            key,
            self.backend.generate,
            decode=_stored_completion,
            encode=lambda c: c.model_dump(exclude={"cached"}),
            error_of=lambda c: c.error,
            make_error=lambda e: Completion(error=e),
            desc=desc,
            on_result=relay,
            classify=classify_completion,
        )
        for c in flat:
            if not c.cached:
                self.stats.prompt_tokens += c.prompt_tokens
                self.stats.completion_tokens += c.completion_tokens
                self.stats.cost_usd += c.cost_usd
        return [flat[i * n : (i + 1) * n] for i in range(len(prompts))]

    def score(
        self,
        prompts: Sequence[Sequence[ChatMessage] | str],
        continuations: Sequence[Sequence[str]],
        desc: str = "score",
        prefixes: Sequence[str] | None = None,
    ) -> list[ScoreResult]:
        """log P(continuation | prompt + prefix) summed over the continuation's tokens.

        ``prefixes`` (one per prompt) are forced at the start of the assistant turn and
        not scored. Backends that cannot prefill a chat turn raise ``NotSupported``."""
        prefixes = list(prefixes) if prefixes is not None else [""] * len(prompts)
        reqs = [
            ScoreRequest(as_prompt(p), tuple(c), x)
            for p, c, x in zip(prompts, continuations, prefixes, strict=True)
        ]

        def key(r: ScoreRequest) -> dict[str, Any]:
            k = {"prompt": prompt_json(r.prompt), "continuations": list(r.continuations)}
            if r.prefix:  # only when set, so calls cached before prefixes existed still hit
                k["prefix"] = r.prefix
            return k

        return self._run(
            "score",
            reqs,
            key,
            self.backend.score,
            decode=lambda d: ScoreResult(**d),
            encode=lambda r: {k: v for k, v in asdict(r).items() if k != "cached"},
            error_of=lambda r: r.error,
            make_error=lambda e: ScoreResult(error=e),
            desc=desc,
        )

    def label_logprobs(
        self,
        prompts: Sequence[Sequence[ChatMessage] | str],
        labels: Sequence[str],
        prefix: str = "",
        desc: str = "score labels",
        fallback: str | None = None,
    ) -> list[LabelScoreResult]:
        """Next-token log-probabilities of each label after each prompt.

        A backend that cannot see log-probabilities raises ``NotSupported``; with
        ``fallback="generate-parse"`` the prompts are instead answered greedily and the
        first label in each reply is returned as ``choice`` (``method="generate-parse"``,
        every log-probability None: nothing is invented).
        """
        if fallback not in (None, "generate-parse"):
            raise ValueError(f"unknown fallback {fallback!r}; use None or 'generate-parse'")
        reqs = [LabelScoreRequest(as_prompt(p), tuple(labels), prefix) for p in prompts]
        try:
            results = self._run(
                "labels",
                reqs,
                lambda r: {"prompt": prompt_json(r.prompt), "labels": list(r.labels), "prefix": r.prefix},
                self.backend.label_logprobs,
                decode=lambda d: LabelScoreResult(**d),
                encode=lambda r: {k: v for k, v in asdict(r).items() if k != "cached"},
                error_of=lambda r: r.error,
                make_error=lambda e: LabelScoreResult(error=e),
                desc=desc,
            )
        except NotSupported:
            if fallback is None:
                raise
            return self._labels_by_generation(reqs, desc)
        for r in results:
            if r.ok and r.choice is None:
                r.choice = best_label(r.logprobs)
        return results

    def _labels_by_generation(self, reqs: list[LabelScoreRequest], desc: str) -> list[LabelScoreResult]:
        """The generate-and-parse fallback: a short greedy reply, then the first label in it."""
        chats = [
            (ChatMessage(role="user", content=r.prompt + r.prefix),)
            if isinstance(r.prompt, str)
            else r.prompt
            for r in reqs
        ]
        replies = self.generate(chats, FALLBACK_PARAMS, desc=f"{desc} (generate-parse)")
        out = []
        for r, (c,) in zip(reqs, replies, strict=True):
            res = LabelScoreResult(
                logprobs=dict.fromkeys(r.labels),
                method="generate-parse",
                raw_text=c.text,
                error=c.error,
                cached=c.cached,
            )
            if c.ok:
                res.choice = parse_label(c.text or "", r.labels)
                if res.choice is None:
                    res.error = f"no label among {list(r.labels)} in the reply {(c.text or '')[:80]!r}"
            out.append(res)
        return out

    def summary(self) -> dict[str, Any]:
        """Call statistics plus what the backend counted (retries, HTTP faults, price)."""
        return {"model": self.spec, **self.stats.as_dict(), **self.backend.usage()}

    # -- machinery ----------------------------------------------------------------------------
    def cache_key(self, kind: str, request_key: dict[str, Any]) -> str:
        return stable_hash({"kind": kind, "model": self._identity, "request": request_key})

    def _run(
        self,
        kind,
        reqs,
        key_fn,
        call,
        *,
        decode,
        encode,
        error_of,
        make_error,
        desc,
        on_result=None,
        classify=None,
    ):
        """``decode`` may return None for a stored result that is no longer acceptable
        (it is then asked again); ``classify`` turns a fresh result into a failure where
        it must count as one, before it is stored or counted."""
        n = len(reqs)
        results: list[Any] = [None] * n
        keys = [self.cache_key(kind, key_fn(r)) for r in reqs]
        self.stats.requests += n
        # identical requests are made once and shared
        first_of: dict[str, int] = {}
        followers: dict[int, list[int]] = {}
        for i, k in enumerate(keys):
            if k in first_of:
                followers.setdefault(first_of[k], []).append(i)
            else:
                first_of[k] = i
        stored = self.cache.get_many(first_of) if self.cache is not None else {}
        log.debug(
            "%s [%s]: %d requests, %d distinct, %d stored in the call cache", desc, self.spec, n, len(first_of),
            len(stored),
        )  # fmt: skip

        with track(n, f"{desc} [{self.spec}]") as bar:

            def deliver(i: int, res: Any, cached: bool) -> None:
                for j in [i, *followers.get(i, [])]:
                    results[j] = res
                    if on_result is not None:
                        on_result(j, res)
                failed = error_of(res) is not None
                bar.advance(1 + len(followers.get(i, [])), cached=int(cached), failed=int(failed))

            missing: list[int] = []
            rejected: set[str] = set()  # stored successes no longer accepted: replaced, not kept
            for k, i in first_of.items():
                res = decode(stored[k]) if k in stored else None
                if k in stored and res is None:
                    rejected.add(k)
                if res is not None:
                    res.cached = True
                    self.stats.cache_hits += 1 + len(followers.get(i, []))
                    deliver(i, res, True)
                else:
                    missing.append(i)

            size = max(1, self.backend.chunk_size) if missing else 1  # (reading it may load a model)
            for start in range(0, len(missing), size):
                chunk = missing[start : start + size]
                seen: set[int] = set()

                def done(j: int, res: Any, chunk=chunk, seen=seen) -> None:
                    i = chunk[j]
                    if i in seen:
                        return
                    seen.add(i)
                    if classify is not None:
                        res = classify(res)
                    err = error_of(res)
                    self.stats.calls += 1
                    if err is not None:
                        self.stats.failures += 1
                    if self.cache is not None:
                        self.cache.put(
                            keys[i],
                            kind,
                            self._model_key,
                            None if err else encode(res),
                            err,
                            replace=keys[i] in rejected,
                        )
                    deliver(i, res, False)

                try:
                    call([reqs[i] for i in chunk], done)
                except KeyboardInterrupt:
                    raise
                except (NotSupported, CulturalignError):
                    # not a failed call but a setup problem (a missing feature, a rejected
                    # key): stop; what already arrived is stored and the next run resumes
                    raise
                except Exception as exc:  # a backend crash fails the rest of its chunk, recorded
                    message = f"{type(exc).__name__}: {exc}"
                    for j, i in enumerate(chunk):
                        if i not in seen:
                            done(j, make_error(message))
                for j, i in enumerate(chunk):  # a backend that forgot an item
                    if i not in seen:
                        done(j, make_error("backend returned no result"))
        return results

    def close(self) -> None:
        self.backend.close()
