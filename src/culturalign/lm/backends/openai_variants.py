"""What OpenAI-compatible servers disagree on, and how the openai backend adapts to it.

"OpenAI-compatible" covers servers that refuse parts of the API:

* reasoning models (OpenAI's o-series and gpt-5, their Azure deployments) answer HTTP 400
  to ``temperature`` and ``top_p`` ("Unsupported parameter") and to ``max_tokens``
  (they want ``max_completion_tokens``). ``+no_sampling_params`` leaves the sampling
  fields out from the start; without it, the first such 400 drops the field it names
  (or switches the token field) for the rest of the run and the request is sent again;
* servers cap how many alternatives they return per token: TGI at 5 (HTTP 422,
  "`top_n_tokens` must be ... <= 5"), OpenAI at 20, OpenAI's legacy completions at 5.
  ``+max_top_logprobs=5`` asks for no more from the start; without it, the first refusal
  that states a maximum lowers the request to it and sends it again;
* Azure OpenAI wants the key in an ``api-key`` header, the deployment in the path and an
  ``api-version`` query parameter (``+azure``, ``+api_version=``);
* shared endpoints limit requests per minute: ``+rpm=N`` spaces requests (retries
  included) by a token bucket, whatever the concurrency.

Every adaptation made on the fly is kept in ``ServerQuirks.notes`` so the run log says
what was sent differently from what was asked.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from culturalign.errors import ConfigError

#: options of an ``openai:`` spec that may be written without ``=value``
FLAGS = ("no_sampling_params", "azure")
OPTIONS = ("no_sampling_params", "max_top_logprobs", "azure", "api_version", "rpm")
SAMPLING_FIELDS = ("temperature", "top_p")
#: fields that may be dropped when a server says it does not take them; ``stop`` is not
#: among them, since leaving it out would change what a reply contains
DROPPABLE = (*SAMPLING_FIELDS, "seed")
AZURE_API_VERSION = "2024-10-21"  # a generally available data-plane version
_REFUSED = re.compile(r"unsupported|not supported|does not support|not allowed|unrecognized|unknown", re.I)
_CAP = re.compile(
    r"(?:<=|≤|at most|maximum(?: value)?(?: is| of)?|max(?:imum)? allowed:?|less than or equal to)\s*(\d+)"
    r"|\[\s*\d+\s*,\s*(\d+)\s*\]",
    re.I,
)


def parse_flag(name: str, value: str | None) -> bool:
    if value is None:
        return False
    low = value.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"openai option {name}={value!r}: write +{name} (or {name}=true/false)")


@dataclass
class ServerQuirks:
    """The request fields this server refuses, learned from the spec and its 400s."""

    omit: set[str] = field(default_factory=set)
    max_top_logprobs: int | None = None
    max_tokens_field: str = "max_tokens"
    notes: list[str] = field(default_factory=list)

    def adapt(self, body: dict[str, Any]) -> dict[str, Any]:
        """The body as this server takes it."""
        out = {k: v for k, v in body.items() if k not in self.omit}
        for name in ("max_tokens", "max_completion_tokens"):
            if name in out and name != self.max_tokens_field:
                out[self.max_tokens_field] = out.pop(name)
        cap = self.max_top_logprobs
        if cap is not None:
            if isinstance(out.get("top_logprobs"), int) and out["top_logprobs"] > cap:
                out["top_logprobs"] = cap
            lp = out.get("logprobs")
            if isinstance(lp, int) and not isinstance(lp, bool) and lp > cap:  # /completions
                out["logprobs"] = cap
        return out

    def learn(self, status: int | None, detail: str, sent: dict[str, Any]) -> bool:
        """Adapt to a refusal of ``sent``; True when the server named something to change.
        Calls in flight meet the same refusal at once: only the first leaves a note."""
        if status not in (400, 422) or not detail:
            return False
        low = detail.lower()
        if "logprob" in low or "top_n_tokens" in low:
            asked = sent.get("top_logprobs", sent.get("logprobs"))
            cap = _stated_cap(detail)
            if not isinstance(asked, int) or isinstance(asked, bool) or cap is None or cap >= asked:
                return False
            if self.max_top_logprobs is None or cap < self.max_top_logprobs:
                self.max_top_logprobs = cap
                self.notes.append(f"asked for {cap} top log-probabilities instead of {asked}: {detail[:160]}")
            return True
        if not _REFUSED.search(detail):
            return False
        if "max_tokens" in low and "max_completion_tokens" in low and "max_tokens" in sent:
            if self.max_tokens_field != "max_completion_tokens":
                self.max_tokens_field = "max_completion_tokens"
                self.notes.append(f"sent max_completion_tokens instead of max_tokens: {detail[:160]}")
            return True
        named = [f for f in DROPPABLE if f in sent and re.search(rf"\b{f}\b", low)]
        new = [f for f in named if f not in self.omit]
        if new:
            self.omit.update(new)
            self.notes.append(f"left out {', '.join(new)}, which this model refuses: {detail[:160]}")
        return bool(named)


def _stated_cap(detail: str) -> int | None:
    for m in _CAP.finditer(detail):
        value = m.group(1) or m.group(2)
        if value is not None:
            return int(value)
    return None


class TokenBucket:
    """At most ``rate`` requests per second on average, ``capacity`` at once after a pause.

    ``clock`` and ``sleep`` are injectable so a test can run minutes of traffic on a fake
    clock; the lock makes concurrent callers take tokens one at a time, in arrival order.
    """

    def __init__(
        self,
        rate: float,
        capacity: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ):
        if rate <= 0:
            raise ConfigError("a request rate must be positive")
        self.rate = rate
        self.capacity = max(1.0, capacity)
        self.tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock: asyncio.Lock | None = None

    async def acquire(self) -> None:
        if self._lock is None:  # made inside the running loop (each backend call has its own)
            self._lock = asyncio.Lock()
        async with self._lock:
            while True:
                now = self._clock()
                self.tokens = min(self.capacity, self.tokens + (now - self._last) * self.rate)
                self._last = now
                if self.tokens >= 1.0:
                    self.tokens -= 1.0
                    return
                await self._sleep((1.0 - self.tokens) / self.rate)

    def reset_loop(self) -> None:
        """Forget the lock of a finished event loop (each ``asyncio.run`` makes a new one)."""
        self._lock = None


def rate_limiter(rpm: str | None) -> TokenBucket | None:
    """``+rpm=N``: N requests a minute, evenly spaced (no burst, so a server that counts
    over a few seconds sees the same rate as one that counts over a minute)."""
    if rpm is None:
        return None
    try:
        value = float(rpm)
    except ValueError:
        raise ConfigError(f"openai option rpm={rpm!r} is not a number") from None
    if value <= 0:
        raise ConfigError(f"openai option rpm={rpm!r} must be positive")
    return TokenBucket(value / 60.0)


@dataclass(frozen=True)
class Azure:
    """How to reach an Azure OpenAI deployment: the URL, the query and the key header."""

    base_url: str
    api_version: str | None

    @classmethod
    def build(cls, base_url: str, model: str, api_version: str | None) -> Azure:
        """``https://RESOURCE.openai.azure.com`` becomes the deployment's URL
        (``.../openai/deployments/MODEL``); a URL that already names a path under
        ``/openai/`` is kept. The ``/openai/v1`` API takes no api-version."""
        base = base_url.rstrip("/")
        if "/openai" not in base:
            base = f"{base}/openai/deployments/{model}"
        if api_version is None and not base.endswith("/openai/v1"):
            api_version = AZURE_API_VERSION
        return cls(base, api_version)

    def headers(self, key: str | None) -> dict[str, str]:
        return {"api-key": key} if key else {}

    def params(self) -> dict[str, str] | None:
        return {"api-version": self.api_version} if self.api_version else None
