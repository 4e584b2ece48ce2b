"""A server that rejects the API key stops the run before its first result: exit 2, a
message naming the answer, and no empty ``.partial`` salvage file left behind (the
appender opens its file on the first record only)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from culturalign.cli import main
from culturalign.evals.choice.run import ChoiceRun
from culturalign.io import JsonlAppender


class _Unauthorized(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"error": {"message": "Incorrect API key provided", "code": 401}}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True


@contextmanager
def unauthorized_server() -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), _Unauthorized)
    thread = threading.Thread(target=server.serve_forever, name="unauthorized-openai", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _run(argv: list[str], monkeypatch, capsys) -> tuple[int, str]:
    monkeypatch.setattr("sys.argv", ["culturalign", *argv])
    monkeypatch.setenv("CULTURALIGN_PROGRESS", "0")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key-0000000000")
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _leftovers(d: Path) -> list[Path]:
    return [p for p in d.rglob("*") if p.name.endswith(".partial")]


def test_generate_rejected_key_leaves_no_partial(tmp_path, monkeypatch, capsys):
    data = tmp_path / "q.jsonl"
    data.write_text(
        json.dumps({"id": "q1", "text": "端午节吃什么？", "language": "zh", "culture": "Chinese"}) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "r.jsonl"
    with unauthorized_server() as url:
        argv = ["generate", "--model", f"openai:m@{url}", "--data", str(data), "--out", str(out)]
        code, text = _run([*argv, "--cache", "off"], monkeypatch, capsys)
    assert code == 2, text
    assert "401" in text and "Traceback" not in text, text
    assert not out.exists()
    assert _leftovers(tmp_path) == []


def test_eval_mcq_rejected_key_leaves_no_partial(tmp_path, monkeypatch, capsys):
    data = tmp_path / "m.jsonl"
    row = {"id": "m1", "question": "Q?", "options": ["a", "b"], "answer": 0, "culture": "Japan"}
    data.write_text(json.dumps(row) + "\n", encoding="utf-8")
    run = tmp_path / "run"
    with unauthorized_server() as url:
        argv = ["eval", "mcq", "--model", f"openai:m@{url}", "--data", str(data), "--format", "mcq"]
        code, text = _run([*argv, "--out", str(run), "--cache", "off"], monkeypatch, capsys)
    assert code == 2, text
    assert "401" in text and "Traceback" not in text, text
    assert not (run / "items.jsonl").exists() and not (run / "summary.json").exists()
    assert _leftovers(tmp_path) == []


def test_appender_opens_on_first_write(tmp_path):
    path = tmp_path / "sub" / "x.jsonl.partial"
    app = JsonlAppender(path)
    app.close()  # closing an appender that never wrote is fine and makes no file
    assert not path.exists() and not app.opened
    with JsonlAppender(path, fsync=False) as app:
        app.write({"a": 1})
        app.write({"b": "é"})
        assert app.opened
    assert path.read_text(encoding="utf-8") == '{"a": 1}\n{"b": "é"}\n'


class _StubStats:
    def as_dict(self) -> dict[str, int]:
        return {"calls": 0}


class _StubLM:
    def __init__(self) -> None:
        self.spec = "stub:m"
        self.identity = {"revision": "none"}
        self.stats = _StubStats()


@pytest.mark.parametrize("scored", [0, 2])
def test_choice_run_finish_writes_items_even_when_none_scored(tmp_path, scored):
    run = ChoiceRun(tmp_path / "run", "eval-stub", _StubLM(), {})
    for i in range(scored):
        run.write_item({"id": i})
    run.finish({"n": scored}, ["n"], [[scored]], prompts={})
    out = tmp_path / "run"
    assert (out / "items.jsonl").read_text() == "".join(f'{{"id": {i}}}\n' for i in range(scored))
    assert not (out / "items.jsonl.partial").exists()
    assert json.loads((out / "summary.json").read_text())["n"] == scored


def test_choice_run_abort_before_any_item_leaves_nothing(tmp_path):
    run = ChoiceRun(tmp_path / "run", "eval-stub", _StubLM(), {})
    run.abort()
    assert list((tmp_path / "run").iterdir()) == []
