"""A fault-injecting HTTP proxy on loopback, for testing clients against a real server.

``FaultProxy(upstream)`` listens on 127.0.0.1, forwards each request to the real server
and, for a seeded random share of requests (``rate``), misbehaves instead:

* ``429``        Too Many Requests with ``Retry-After`` (nothing forwarded);
* ``500``        an Internal Server Error with a JSON error body (nothing forwarded);
* ``slow``       holds the request for ``slow_seconds`` (past the client's timeout) and
                 forwards it only if the client is still waiting;
* ``truncated``  forwards, then sends the real headers and half the real body and hangs up;
* ``garbage``    a 200 whose body is an HTML page, not JSON (nothing forwarded);
* ``drop``       reads the request and closes the connection without a reply;
* ``401``        (only when asked for: it is not transient) an authentication error that,
                 like some real APIs, quotes the key it was sent, to test redaction.

and, for the replies a server sends with status 200 that a client must not take for
answers (``REPLY_KINDS``, in ``HOSTILE_KINDS`` with the transport faults above):

* ``empty`` / ``blank`` / ``null``  forwards, then sets every choice's text to ``""``,
                 whitespace, or ``null``;
* ``nochoices``  a 200 JSON object without ``choices`` (nothing forwarded);
* ``badjson``    a 200 ``application/json`` body that is cut-off JSON (nothing forwarded).

It speaks just enough HTTP/1.1 for JSON APIs: one request per connection, bodies framed
by Content-Length (or chunked, from the upstream). ``stats`` counts requests, forwards
and each fault; ``log`` keeps each request's body with what it got (``"ok"`` or the
fault), so a test can tell which requests a re-run repeated. ``by_body=True`` draws a
request's fault from its body and how many times that body came before, not from arrival
order, so concurrent clients meet the same faults on every run. Use it as a context
manager: ``with FaultProxy(url, rate=0.3) as proxy: ... proxy.url ...``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import threading
from collections import Counter
from urllib.parse import urlsplit

FAULT_KINDS = ("429", "500", "slow", "truncated", "garbage", "drop")  # transient: a retry can succeed
REPLY_KINDS = ("empty", "blank", "null", "nochoices", "badjson")  # 200s that carry no answer
#: what issue 17's hostile-server test mixes: unusable 200s, a cut body, 429, 500, drops
HOSTILE_KINDS = (*REPLY_KINDS, "truncated", "429", "500", "drop")
ALL_KINDS = (*FAULT_KINDS, *REPLY_KINDS, "401")
_BLANKED = {"empty": "", "blank": " \n\t ", "null": None}


class FaultProxy:
    def __init__(
        self,
        upstream: str,
        *,
        rate: float = 0.3,
        seed: int = 0,
        kinds: tuple[str, ...] = FAULT_KINDS,
        retry_after: str = "1",
        slow_seconds: float = 5.0,
        by_body: bool = False,
    ):
        unknown = set(kinds) - set(ALL_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {ALL_KINDS}")
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http:// URL, not {upstream!r}")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.path_prefix = parts.path.rstrip("/")
        self.rate = rate
        self.kinds = tuple(kinds)
        self.retry_after = retry_after
        self.slow_seconds = slow_seconds
        self.stats: Counter[str] = Counter()
        self.log: list[tuple[bytes, str]] = []  # (request body, "ok" or the fault), in order
        self._rng = random.Random(seed)
        self._seed = seed
        # by_body: the fault for a request depends on its body and how often that body came
        # before, not on arrival order, so concurrent clients meet the same faults every run
        self._by_body = by_body
        self._seen: Counter[bytes] = Counter()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        """The proxy's base URL, with the upstream's path (e.g. ``/v1``)."""
        return f"http://127.0.0.1:{self.port}{self.path_prefix}"

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> FaultProxy:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(asyncio.start_server(self._handle, "127.0.0.1", 0), self._loop)
        self._server = fut.result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._loop is None:
            return

        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(10)
        self._loop.close()
        self._loop = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- one connection ---------------------------------------------------------------------
    def _pick(self, body: bytes) -> str | None:
        rng = self._rng
        if self._by_body:
            digest = hashlib.sha256(body).hexdigest()
            rng = random.Random(f"{self._seed}:{digest}:{self._seen[body]}")
            self._seen[body] += 1
        if self.kinds and rng.random() < self.rate:
            return rng.choice(self.kinds)
        return None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await _read_request(reader)
            if request is None:
                return
            self.stats["requests"] += 1
            fault = self._pick(request[2])
            if fault is not None:
                self.stats[fault] += 1
            self.log.append((request[2], fault or "ok"))
            if fault == "drop":
                writer.transport.abort()
                return
            if fault == "429":
                body = json.dumps({"error": {"message": "rate limited by the fault proxy"}}).encode()
                await _respond(writer, 429, "Too Many Requests", body, {"Retry-After": self.retry_after})
                return
            if fault == "401":
                sent = next((v for k, v in request[1] if k.lower() == "authorization"), "")
                message = f"Incorrect API key provided: {sent.removeprefix('Bearer ')}"
                body = json.dumps({"error": {"message": message}}).encode()
                await _respond(writer, 401, "Unauthorized", body)
                return
            if fault == "500":
                body = json.dumps({"error": {"message": "injected internal error"}}).encode()
                await _respond(writer, 500, "Internal Server Error", body)
                return
            if fault == "nochoices":
                body = json.dumps({"id": "fault", "object": "chat.completion", "usage": {}}).encode()
                await _respond(writer, 200, "OK", body)
                return
            if fault == "badjson":
                await _respond(writer, 200, "OK", b'{"id": "fault", "choices": [{"message": {"content": "cut')
                return
            if fault == "garbage":
                body = b"<html><body><h1>502 upstream hiccup</h1></body></html>"
                await _respond(writer, 200, "OK", body, {"Content-Type": "text/html"})
                return
            if fault == "slow":
                try:  # a client that gave up closes its side: reading then returns b""
                    gone = await asyncio.wait_for(reader.read(1), self.slow_seconds) == b""
                except TimeoutError:
                    gone = False
                if gone:
                    return
            reply = await self._forward(request)
            self.stats["forwarded"] += 1
            if fault in _BLANKED:
                reply = _blank_choices(reply, _BLANKED[fault])
            if fault == "truncated":
                head, _, body = reply.partition(b"\r\n\r\n")
                writer.write(head + b"\r\n\r\n" + body[: len(body) // 2])
                await writer.drain()
                writer.transport.abort()
                return
            writer.write(reply)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            if not writer.is_closing():
                writer.close()

    async def _forward(self, request: tuple[str, list[tuple[str, str]], bytes]) -> bytes:
        line, headers, body = request
        up_reader, up_writer = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        try:
            kept = [(k, v) for k, v in headers if k.lower() not in ("connection", "host", "keep-alive")]
            kept += [("Host", f"{self.upstream_host}:{self.upstream_port}"), ("Connection", "close")]
            up_writer.write(
                (line + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in kept) + "\r\n").encode("latin-1") + body
            )
            await up_writer.drain()
            return await up_reader.read()  # the upstream closes after one reply
        finally:
            up_writer.close()


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, list[tuple[str, str]], bytes] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    headers = []
    for raw in lines[1:]:
        if ":" in raw:
            k, v = raw.split(":", 1)
            headers.append((k.strip(), v.strip()))
    length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
    body = await reader.readexactly(length) if length else b""
    return lines[0], headers, body


async def _respond(
    writer: asyncio.StreamWriter, status: int, reason: str, body: bytes, extra: dict[str, str] | None = None
) -> None:
    headers = {"Content-Type": "application/json", **(extra or {})}
    headers.update({"Content-Length": str(len(body)), "Connection": "close"})
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    writer.write(head.encode("latin-1") + body)
    await writer.drain()


def _blank_choices(reply: bytes, text: str | None) -> bytes:
    """The upstream's HTTP reply with every choice's text replaced by ``text``; a reply
    that is not a JSON object with choices passes unchanged."""
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = [ln for ln in lines[1:] if ":" in ln]
    if any(h.lower().replace(" ", "") == "transfer-encoding:chunked" for h in headers):
        body = _dechunk(body)
    try:
        data = json.loads(body)
    except ValueError:
        return reply
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
        return reply
    for choice in data["choices"]:
        if isinstance(choice.get("message"), dict):
            choice["message"]["content"] = text
        if "text" in choice:
            choice["text"] = text
    new = json.dumps(data).encode()
    kept = [
        h
        for h in headers
        if h.split(":", 1)[0].strip().lower() not in ("content-length", "transfer-encoding")
    ]
    return ("\r\n".join([lines[0], *kept, f"Content-Length: {len(new)}"]) + "\r\n\r\n").encode(
        "latin-1"
    ) + new


def _dechunk(body: bytes) -> bytes:
    out, rest = b"", body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2 :]
    return out
