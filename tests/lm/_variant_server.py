"""A local stand-in for the OpenAI-compatible servers that refuse parts of the API.

One ThreadingHTTPServer on 127.0.0.1 whose behaviour is set per test:

* ``reasoning``: answers 400 with OpenAI's "Unsupported parameter" error to
  ``temperature``, ``top_p`` and ``max_tokens`` (as o-series and gpt-5 models do);
* ``max_top_logprobs``: answers 422 with TGI's validation message when more alternatives
  are asked for than it gives, else returns that many (tokens ``A``, ``B``, ...);
* ``azure``: serves only ``/openai/deployments/NAME/...`` with an ``api-version`` query
  and the key in an ``api-key`` header (401 otherwise, like Azure).

Every request is recorded (path, query, headers, body, arrival time) so a test checks
what the client sent, not only what it got back.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKENS = [chr(ord("A") + i) for i in range(26)]


@dataclass
class Seen:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


@dataclass
class Behaviour:
    reasoning: bool = False
    max_top_logprobs: int | None = None
    azure_key: str | None = None  # set: behave as Azure, expecting this api-key
    seen: list[Seen] = field(default_factory=list)


def _error(status: int, message: str, param: str | None = None) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"message": message, "type": "invalid_request_error", "param": param}}


def _answer(
    b: Behaviour, path: str, query: dict[str, list[str]], headers: dict[str, str], body: dict
) -> tuple[int, dict]:
    if b.azure_key is not None:
        if headers.get("api-key") != b.azure_key or "authorization" in headers:
            return _error(401, "Access denied due to invalid subscription key or wrong API endpoint.")
        if not path.startswith("/openai/deployments/") or not query.get("api-version"):
            return _error(404, "Resource not found")
    if b.reasoning:
        for name in ("temperature", "top_p"):
            if name in body:
                return _error(400, f"Unsupported parameter: '{name}' is not supported with this model.", name)
        if "max_tokens" in body:
            return _error(
                400,
                "Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead.",
                "max_tokens",
            )
    chat = path.endswith("/chat/completions")
    asked = body.get("top_logprobs") if chat else body.get("logprobs")
    if isinstance(asked, int) and b.max_top_logprobs is not None and asked > b.max_top_logprobs:
        return _error(
            422,
            f"Input validation error: `top_n_tokens` must be >= 0 and <= {b.max_top_logprobs}. Given: {asked}",
        )
    usage = {"prompt_tokens": 7, "completion_tokens": 1, "total_tokens": 8}
    n = int(asked) if isinstance(asked, int) and not isinstance(asked, bool) and asked > 0 else 0
    # a fixed distribution over A, B, C, ...: p(k) proportional to 2^-k
    z = sum(2.0**-k for k in range(len(TOKENS)))
    alts = [(TOKENS[k], math.log(2.0**-k / z)) for k in range(min(n, len(TOKENS)))]
    if chat:
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": "A. The first option, by custom."},
            "finish_reason": "stop",
        }
        if body.get("logprobs") and n:
            top = [{"token": t, "logprob": v} for t, v in alts]
            choice["logprobs"] = {"content": [{"token": "A", "logprob": alts[0][1], "top_logprobs": top}]}
        return 200, {"object": "chat.completion", "choices": [choice], "usage": usage}
    choice = {"index": 0, "text": "A", "finish_reason": "length"}
    if n:
        choice["logprobs"] = {"tokens": ["A"], "top_logprobs": [dict(alts)]}
    return 200, {"object": "text_completion", "choices": [choice], "usage": usage}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.loads(raw or b"{}")
        headers = {k.lower(): v for k, v in self.headers.items()}
        query = parse_qs(parts.query)
        b = self.server.behaviour
        with self.server.lock:
            b.seen.append(Seen(parts.path, query, headers, body, time.monotonic()))
        status, data = _answer(b, parts.path, query, headers, body)
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:  # quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    behaviour: Behaviour
    lock: threading.Lock


@contextmanager
def variant_server(**kwargs: Any) -> Iterator[tuple[str, Behaviour]]:
    """``(http://127.0.0.1:PORT, behaviour)``: the root URL (no ``/v1``) and the record."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.behaviour = Behaviour(**kwargs)
    server.lock = threading.Lock()
    thread = threading.Thread(target=server.serve_forever, name="variant-openai", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.behaviour
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
