"""Posting JSON to an OpenAI-compatible server, with retries that survive real networks.

One policy for every HTTP model call (chat, completions, embeddings):

* retried: 408, 409, 429 and every 5xx; timeouts; refused, reset or dropped connections;
  a 200 whose body is truncated or is not JSON, or that the caller's ``check`` rejects
  (no ``choices``, an empty reply);
* waited: the server's ``Retry-After`` (seconds or an HTTP date; ``retry-after-ms`` too)
  when it sends one, else exponential backoff with jitter;
* not retried: other 4xx (a bad request stays bad); 401, 403 and 404 stop the whole run
  (``ConfigError``), since every later call would fail the same way;
* the API key is sent only in a header (``Authorization``, or Azure's ``api-key``) and
  is scrubbed from every message this module produces (``redact``);
* a ``limiter`` (``+rpm=``) is waited on before every request, retries included, so a
  request-rate limit holds however many calls are in flight.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

from culturalign.errors import ConfigError

RETRYABLE_STATUS = frozenset({408, 409, 429}) | frozenset(range(500, 600))
FATAL_STATUS = frozenset({401, 403, 404})
_BEARER = re.compile(r"(Bearer\s+)\S+", re.IGNORECASE)
_KEYLIKE = re.compile(r"\b(sk-[A-Za-z0-9_\-]{4})[A-Za-z0-9_\-*]{8,}")


def redact(text: str, secret: str | None) -> str:
    """Remove an API key (and anything shaped like one) from a message."""
    if secret:
        text = text.replace(secret, "***")
    text = _BEARER.sub(r"\1***", text)
    return _KEYLIKE.sub(r"\1***", text)


def retry_after_seconds(headers: Any, now: float | None = None) -> float | None:
    """The wait a server asks for, from ``retry-after-ms`` or ``Retry-After``; None if absent."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass
class RetryPolicy:
    max_retries: int = 6
    base_delay: float = 0.5  # seconds before the first retry (before jitter)
    max_delay: float = 30.0  # cap on computed backoff
    max_retry_after: float = 300.0  # cap on a server's Retry-After, so a typo cannot stall a run for a day

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential backoff with jitter in [0.5, 1.5) of the nominal delay."""
        nominal = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return nominal * (0.5 + rng.random())


@dataclass
class HttpStats:
    requests: int = 0  # HTTP requests sent, retries included
    retries: int = 0
    faults: dict[str, int] = field(default_factory=dict)  # what went wrong, by kind

    def note(self, kind: str) -> None:
        self.faults[kind] = self.faults.get(kind, 0) + 1


class CallFailed(Exception):
    """A call that stayed failed after its retries (or could not be retried). ``status``
    and ``detail`` (the server's own message) let a caller adapt to a refusal, e.g. a
    400 naming a parameter that this model does not take."""

    def __init__(self, message: str, status: int | None = None, detail: str = ""):
        super().__init__(message)
        self.status = status
        self.detail = detail


class ResponseError(Exception):
    """A 200 response whose content is unusable (set by a caller's parser); ``kind`` names
    the fault in ``HttpStats.faults``."""

    def __init__(self, message: str, kind: str = "bad_body"):
        super().__init__(message)
        self.kind = kind


async def post_json(
    client: Any,
    url: str,
    body: dict[str, Any],
    *,
    api_key: str | None,
    policy: RetryPolicy,
    stats: HttpStats,
    rng: random.Random,
    check: Any = None,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    limiter: Any = None,
) -> dict[str, Any]:
    """POST ``body`` and return the parsed JSON, retrying what a retry can fix.

    ``check(data)`` may raise ``ResponseError`` for a body that parsed but is unusable
    (e.g. no ``choices``); that counts as a retryable fault, like a truncated body.
    ``headers`` replace the default ``Authorization: Bearer`` header (Azure sends the key
    as ``api-key``); ``params`` go in the query string (Azure's ``api-version``);
    ``limiter.acquire()`` is awaited before each attempt.
    """
    import httpx

    if headers is None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    attempt = 0
    while True:
        attempt += 1
        if limiter is not None:
            await limiter.acquire()
        stats.requests += 1
        wait: float | None = None
        try:
            resp = await client.post(url, json=body, headers=headers, params=params)
        except httpx.TimeoutException as exc:
            problem, kind = f"timed out ({type(exc).__name__})", "timeout"
        except httpx.TransportError as exc:
            problem, kind = f"connection failed ({type(exc).__name__}: {exc})", "connection"
        else:
            status = resp.status_code
            if status == 200:
                try:
                    data = resp.json()
                    if not isinstance(data, dict):
                        raise ResponseError("the body is JSON but not an object")
                    if check is not None:
                        check(data)
                    return data
                except (ValueError, ResponseError) as exc:
                    snippet = resp.text[:120].replace("\n", " ")
                    problem = f"unusable response body ({exc}): {snippet!r}"
                    kind = exc.kind if isinstance(exc, ResponseError) else "bad_body"
            else:
                detail = _error_detail(resp)
                problem, kind = f"HTTP {status}: {detail}", f"http_{status}"
                if status in FATAL_STATUS:
                    stats.note(kind)
                    raise ConfigError(redact(f"{url} answered {problem}", api_key))
                if status not in RETRYABLE_STATUS:
                    stats.note(kind)
                    raise CallFailed(redact(problem, api_key), status, redact(detail, api_key))
                wait = retry_after_seconds(resp.headers)
        stats.note(kind)
        if attempt > policy.max_retries:
            tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
            raise CallFailed(redact(f"{problem} (gave up after {tries})", api_key))
        stats.retries += 1
        delay = policy.backoff(attempt, rng) if wait is None else min(wait, policy.max_retry_after)
        await asyncio.sleep(delay)


def _error_detail(resp: Any) -> str:
    """The server's own error message, shortened; the raw body when it is not JSON."""
    try:
        data = resp.json()
    except (ValueError, json.JSONDecodeError):
        return resp.text[:200].replace("\n", " ") or resp.reason_phrase
    if isinstance(data, dict):
        err = data.get("error", data.get("detail", data))
        if isinstance(err, dict):
            err = err.get("message", err)
        return str(err)[:300]
    return str(data)[:300]
