"""Any OpenAI-compatible server: OpenAI, Azure, vLLM, ``transformers serve``, llama.cpp.

Spec: ``openai:MODEL[@BASE_URL][+key=value...]`` with keys

* ``concurrency`` (8): requests in flight at once;
* ``timeout`` (120): seconds to wait for one reply;
* ``max_retries`` (6): retries per call (see ``culturalign.lm.http`` for what is retried);
* ``api_key_env`` (``OPENAI_API_KEY``): the environment variable holding the key;
* ``input_price`` / ``output_price``: USD per million tokens (else ``lm.pricing``'s table);
* ``max_tokens_field``: ``max_tokens`` or ``max_completion_tokens`` (the latter is the
  default for api.openai.com, whose newer models refuse the former);
* ``top_logprobs`` (20): how many alternatives to ask for when reading label log-probs;
* ``logprobs`` (``1``/``0``): declare whether the server returns log-probabilities;
* ``+no_sampling_params``: leave out ``temperature`` and ``top_p`` (reasoning models);
* ``max_top_logprobs``: the most alternatives the server gives (TGI: 5);
* ``+azure`` / ``api_version``: Azure OpenAI (``api-key`` header, deployment path,
  ``api-version`` query; the key from ``AZURE_OPENAI_API_KEY``, the URL from
  ``AZURE_OPENAI_ENDPOINT`` when the spec has no ``@URL``);
* ``rpm``: at most this many requests a minute (retries included).

A server that refuses a field with a 400 naming it (``temperature`` on a reasoning
model, ``max_tokens`` where it wants ``max_completion_tokens``, too many
``top_logprobs``) is adapted to once and the request sent again; see
``openai_variants``, and ``usage()["adapted"]`` for what was changed.

Calls run on asyncio with a semaphore; each result is handed to the cache the moment it
arrives. Log-probabilities come from ``logprobs``/``top_logprobs`` when the server
returns them; when it does not (``transformers serve`` never does) the call raises
``NotSupported``, and evaluation code falls back to generate-and-parse
(``LM.label_logprobs(..., fallback="generate-parse")``).
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from culturalign.errors import ConfigError, CulturalignError
from culturalign.lm.backends import openai_variants as variants
from culturalign.lm.backends.openai_replies import (
    _has_choices,
    _has_text,
    chat_top_logprobs,
    completion_top_logprobs,
    echo_logprobs,
    match_labels,
)
from culturalign.lm.base import (
    Backend,
    GenRequest,
    LabelScoreRequest,
    LabelScoreResult,
    NotSupported,
    OnDone,
    ScoreRequest,
    ScoreResult,
)
from culturalign.lm.http import CallFailed, HttpStats, RetryPolicy, post_json, redact
from culturalign.lm.pricing import price_for
from culturalign.records.generation import Completion, GenerationParams

DEFAULT_BASE_URL = "https://api.openai.com/v1"
KNOWN_OPTIONS = (
    "concurrency",
    "timeout",
    "max_retries",
    "api_key_env",
    "input_price",
    "output_price",
    "max_tokens_field",
    "top_logprobs",
    "logprobs",
    *variants.OPTIONS,
)
NO_LOGPROBS = (
    "the server at {url} returned no log-probabilities; score by generating and parsing "
    "instead (LM.label_logprobs(..., fallback='generate-parse'))"
)


def sample_seed(params: GenerationParams, sample_index: int) -> int:
    """A distinct, reproducible seed per sample, so n samples of one prompt differ."""
    return params.seed * 1_000_003 + sample_index


def _number(name: str, value: str | None, default: float, cast=float) -> Any:
    if value is None or value == "":
        return default
    try:
        return cast(value)
    except ValueError:
        raise ConfigError(f"openai option {name}={value!r} is not a number") from None


def _flag(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.lower() in ("1", "true", "yes", "on")


class OpenAIBackend(Backend):
    kind = "openai"

    def __init__(self, model: str, base_url: str | None = None, **options: str):
        unknown = sorted(set(options) - set(KNOWN_OPTIONS))
        if unknown:
            raise ConfigError(f"unknown openai option(s) {unknown}; known: {', '.join(KNOWN_OPTIONS)}")
        self.model = model
        azure = variants.parse_flag("azure", options.get("azure")) or "api_version" in options
        if azure:
            base_url = base_url or os.environ.get("AZURE_OPENAI_ENDPOINT")
            if not base_url:
                raise ConfigError(
                    "an Azure spec needs the resource's URL: openai:DEPLOYMENT@https://RESOURCE."
                    "openai.azure.com+azure, or AZURE_OPENAI_ENDPOINT"
                )
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"base URL {self.base_url!r} must start with http:// or https://")
        self.concurrency = max(1, _number("concurrency", options.get("concurrency"), 8, int))
        self.timeout = _number("timeout", options.get("timeout"), 120.0)
        self.policy = RetryPolicy(
            max_retries=max(0, _number("max_retries", options.get("max_retries"), 6, int))
        )
        self.azure = None
        if azure:
            self.azure = variants.Azure.build(self.base_url, model, options.get("api_version"))
            self.base_url = self.azure.base_url
        self.key_env = options.get("api_key_env") or ("AZURE_OPENAI_API_KEY" if azure else "OPENAI_API_KEY")
        self._api_key = os.environ.get(self.key_env) or None
        if self._api_key is None and self.base_url == DEFAULT_BASE_URL:
            raise ConfigError(
                f"set {self.key_env} to call {self.base_url} (the key is read from the environment)"
            )
        self.price = price_for(
            model,
            _number("input_price", options.get("input_price"), None),
            _number("output_price", options.get("output_price"), None),
        )
        default_field = "max_completion_tokens" if self.base_url == DEFAULT_BASE_URL else "max_tokens"
        self.max_tokens_field = options.get("max_tokens_field") or default_field
        if self.max_tokens_field not in ("max_tokens", "max_completion_tokens"):
            raise ConfigError("max_tokens_field must be max_tokens or max_completion_tokens")
        self.top_logprobs = _number("top_logprobs", options.get("top_logprobs"), 20, int)
        self._logprobs = _flag(options.get("logprobs"))
        cap = options.get("max_top_logprobs")
        self.quirks = variants.ServerQuirks(
            omit=set(variants.SAMPLING_FIELDS)
            if variants.parse_flag("no_sampling_params", options.get("no_sampling_params"))
            else set(),
            max_top_logprobs=None if cap is None else max(1, _number("max_top_logprobs", cap, 5, int)),
            max_tokens_field=self.max_tokens_field,
        )
        self.limiter = variants.rate_limiter(options.get("rpm"))
        self.http = HttpStats()
        self._rng = random.Random(0)
        self.chunk_size = max(64, self.concurrency * 16)

    # -- identity ----------------------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        # the key, timeouts and concurrency do not change outputs and stay out of cache keys
        return {"backend": "openai", "model": self.model, "base_url": self.base_url}

    @property
    def supports_logprobs(self) -> bool:
        return self._logprobs is not False

    def usage(self) -> dict[str, Any]:
        return {
            "http_requests": self.http.requests,
            "retries": self.http.retries,
            "faults": dict(self.http.faults),
            "adapted": list(self.quirks.notes),
            "price": {
                "input_per_mtok": self.price.input_per_mtok,
                "output_per_mtok": self.price.output_per_mtok,
                "source": self.price.source,
            },
        }

    # -- the event loop -----------------------------------------------------------------
    def _run_all(
        self,
        n: int,
        work: Callable[[Any, int], Awaitable[Any]],
        on_done: OnDone,
        make_error: Callable[[str], Any],
    ) -> None:
        """Run ``work(client, i)`` for i < n with at most ``concurrency`` in flight."""

        async def main() -> None:
            import httpx

            if self.limiter is not None:
                self.limiter.reset_loop()

            limits = httpx.Limits(
                max_connections=self.concurrency, max_keepalive_connections=self.concurrency
            )
            timeout = httpx.Timeout(self.timeout, connect=min(10.0, self.timeout))
            gate = asyncio.Semaphore(self.concurrency)
            async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:

                async def one(i: int) -> None:
                    async with gate:
                        try:
                            result = await work(client, i)
                        except (CulturalignError, NotSupported):
                            raise
                        except CallFailed as exc:
                            result = make_error(str(exc))
                        except Exception as exc:  # an unexpected reply shape: a failed call, recorded
                            result = make_error(redact(f"{type(exc).__name__}: {exc}", self._api_key))
                    on_done(i, result)

                try:
                    async with asyncio.TaskGroup() as group:
                        for i in range(n):
                            group.create_task(one(i))
                except BaseExceptionGroup as eg:
                    raise _first_error(eg) from None

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(main())
            return
        with ThreadPoolExecutor(1) as pool:  # called from inside an event loop (a notebook)
            pool.submit(asyncio.run, main()).result()

    async def _post(self, client: Any, path: str, body: dict[str, Any], check=None) -> dict[str, Any]:
        """One call, in the shape this server takes (``quirks``), sent again after a
        refusal that the quirks learn from (each round changes one thing, so it ends)."""
        while True:
            sent = self.quirks.adapt(body)
            try:
                return await post_json(
                    client,
                    f"{self.base_url}{path}",
                    sent,
                    api_key=self._api_key,
                    policy=self.policy,
                    stats=self.http,
                    rng=self._rng,
                    check=check,
                    headers=self.azure.headers(self._api_key) if self.azure else None,
                    params=self.azure.params() if self.azure else None,
                    limiter=self.limiter,
                )
            except CallFailed as exc:
                if not self.quirks.learn(exc.status, exc.detail, sent) or self.quirks.adapt(body) == sent:
                    raise

    # -- generation ---------------------------------------------------------------------
    def chat_body(self, r: GenRequest) -> dict[str, Any]:
        p = r.params
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [m.model_dump() for m in r.messages],
            "temperature": p.temperature,
            "top_p": p.top_p,
            self.max_tokens_field: p.max_new_tokens,
        }
        if p.stop:
            body["stop"] = list(p.stop)
        if not p.greedy:
            body["seed"] = sample_seed(p, r.sample_index)
        return body

    def generate(self, requests: Sequence[GenRequest], on_done: OnDone) -> None:
        async def work(client: Any, i: int) -> Completion:
            data = await self._post(client, "/chat/completions", self.chat_body(requests[i]), _has_text)
            return self.parse_chat(data)

        self._run_all(len(requests), work, on_done, lambda e: Completion(error=e))

    def parse_chat(self, data: dict[str, Any]) -> Completion:
        choice = data["choices"][0]
        message = choice.get("message") or {}
        text = message.get("content")
        usage = data.get("usage") or {}
        pt, ct = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
        if text is None or not str(text).strip():
            why = message.get("refusal") or f"finish_reason={choice.get('finish_reason')}"
            if choice.get("finish_reason") == "length":
                why += ": the token budget ran out before any text; raise max_new_tokens"
            return Completion(
                error=f"the reply has no text ({why})",
                prompt_tokens=pt,
                completion_tokens=ct,
                cost_usd=self.price.cost(pt, ct),
            )
        return Completion(
            text=text,
            finish_reason=choice.get("finish_reason"),
            prompt_tokens=pt,
            completion_tokens=ct,
            cost_usd=self.price.cost(pt, ct),
        )

    # -- log-probabilities --------------------------------------------------------------
    def label_logprobs(self, requests: Sequence[LabelScoreRequest], on_done: OnDone) -> None:
        if self._logprobs is False:
            raise NotSupported(NO_LOGPROBS.format(url=self.base_url))
        for r in requests:
            if r.prefix and not isinstance(r.prompt, str):
                raise NotSupported(
                    "an answer prefix after a chat prompt needs assistant prefill, which "
                    "chat-completions servers do not offer; pass a raw-string prompt "
                    "(sent to /completions) or use fallback='generate-parse'"
                )

        async def work(client: Any, i: int) -> LabelScoreResult:
            r = requests[i]
            if isinstance(r.prompt, str):
                body = {
                    "model": self.model,
                    "prompt": r.prompt + r.prefix,
                    "max_tokens": 1,
                    "temperature": 0,
                    "logprobs": self.top_logprobs,
                }
                data = await self._post(client, "/completions", body, _has_choices)
                top = completion_top_logprobs(data)
            else:
                body = {
                    "model": self.model,
                    "messages": [m.model_dump() for m in r.prompt],
                    "temperature": 0,
                    self.max_tokens_field: 1,
                    "logprobs": True,
                    "top_logprobs": self.top_logprobs,
                }
                data = await self._post(client, "/chat/completions", body, _has_choices)
                top = chat_top_logprobs(data)
            if top is None:
                self._logprobs = False
                raise NotSupported(NO_LOGPROBS.format(url=self.base_url))
            return LabelScoreResult(logprobs=match_labels(top, r.labels), method="top_logprobs")

        self._run_all(len(requests), work, on_done, lambda e: LabelScoreResult(error=e))

    def score(self, requests: Sequence[ScoreRequest], on_done: OnDone) -> None:
        """Continuation log-probs through ``/completions`` with ``echo`` (vLLM and other
        servers that return prompt log-probs); chat prompts cannot be scored this way."""
        if self._logprobs is False:
            raise NotSupported(NO_LOGPROBS.format(url=self.base_url))
        if any(not isinstance(r.prompt, str) for r in requests):
            raise NotSupported("the openai backend scores continuations of raw-string prompts only")
        requests = [ScoreRequest(r.prompt + r.prefix, r.continuations) for r in requests]  # type: ignore[operator]
        pairs = [(i, k) for i, r in enumerate(requests) for k in range(len(r.continuations))]
        results = [
            ScoreResult(
                logprobs=[0.0] * len(r.continuations),
                num_tokens=[0] * len(r.continuations),
                num_chars=[len(c) for c in r.continuations],
            )
            for r in requests
        ]
        left = [len(r.continuations) for r in requests]

        async def work(client: Any, j: int) -> tuple[int, int, float, int] | str:
            i, k = pairs[j]
            ctx, cont = requests[i].prompt, requests[i].continuations[k]
            body = {
                "model": self.model,
                "prompt": ctx + cont,
                "echo": True,
                "max_tokens": 1,
                "temperature": 0,
                "logprobs": 1,
            }
            data = await self._post(client, "/completions", body, _has_choices)
            got = echo_logprobs(data, len(ctx), len(ctx) + len(cont))  # type: ignore[arg-type]
            if got is None:
                self._logprobs = False
                raise NotSupported(NO_LOGPROBS.format(url=self.base_url))
            return (i, k, *got)

        def collect(j: int, item: Any) -> None:
            i, k = pairs[j]
            if isinstance(item, str):
                results[i].error = results[i].error or item
            else:
                results[i].logprobs[k], results[i].num_tokens[k] = item[2], item[3]
            left[i] -= 1
            if left[i] == 0:
                on_done(i, results[i])

        for i, r in enumerate(requests):
            if not r.continuations:
                on_done(i, results[i])
        self._run_all(len(pairs), work, collect, lambda e: e)


def _first_error(eg: BaseExceptionGroup) -> BaseException:
    for exc in eg.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _first_error(exc)
        if isinstance(exc, CulturalignError | NotSupported):
            return exc
    return eg.exceptions[0]
