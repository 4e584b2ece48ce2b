"""A scripted OpenAI-compatible chat server on 127.0.0.1 for tests that need many fast,
deterministic replies (a real ``transformers serve`` answers one request at a time).

Every reply is real text made from a hash of the request's messages, so different
prompts get different replies and the same prompt the same one. The ``model`` field
picks the kind of text: ``judge`` answers with a rating in CARE's ``[[N]]`` form,
``writer`` with a numbered list of questions, anything else with a sentence.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def reply_text(model: str, messages: list[dict]) -> str:
    h = int(hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()[:8], 16)
    if model == "judge":
        return f"The answer covers the main point. Rating: [[{h % 10 + 1}]]"
    if model == "writer":
        return "\n".join(
            f"{i}. In your community, how would people handle situation {h % 9973}-{i} at a family event?"
            for i in range(1, 4)
        )
    return f"People there usually follow custom number {h % 9973}, out of respect for their elders."


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        model = str(body.get("model"))
        self.server.counts[model] += 1
        text = reply_text(model, body.get("messages") or [])
        data = json.dumps(
            {
                "id": "scripted",
                "object": "chat.completion",
                "model": model,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": len(text.split()), "total_tokens": 0},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:  # quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    counts: Counter[str]


@contextmanager
def scripted_server() -> Iterator[tuple[str, Counter[str]]]:
    """``(base_url ending in /v1, requests answered per model)`` while the block runs."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.counts = Counter()
    thread = threading.Thread(target=server.serve_forever, name="scripted-openai", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", server.counts
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
