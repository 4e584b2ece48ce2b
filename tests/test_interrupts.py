"""Ctrl-C says what is kept and how to continue (issue 17 item 8).

A real ``culturalign generate`` runs against a slow OpenAI-compatible stub on loopback
(one request at a time); SIGINT arrives after a few answers. The command must exit 130
with one line that counts the finished calls, and a second run must find them cached.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from culturalign.interrupts import calls_kept, message
from culturalign.paths import package_data

QUESTIONS = package_data("data", "sample", "care_questions.jsonl")


class _SlowChat(BaseHTTPRequestHandler):
    served = 0  # requests received

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        type(self).served += 1  # counted on arrival: with one request at a time, the ones before it finished
        time.sleep(0.3)
        body = json.dumps(
            {
                "id": "x",
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "an answer"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2},
            }
        ).encode()
        try:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client was interrupted mid-request

    def log_message(self, *args: object) -> None:
        pass


def _generate(spec: str, out, env) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "culturalign",
            "generate",
            "--model",
            spec,
            "--data",
            str(QUESTIONS),
            "--temperature",
            "0",
            "--max-new-tokens",
            "8",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_ctrl_c_during_generate_counts_what_is_cached(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowChat)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    spec = f"openai:stub@http://127.0.0.1:{server.server_address[1]}/v1+concurrency=1"
    env = {**os.environ, "CULTURALIGN_PROGRESS": "0", "CULTURALIGN_CACHE": str(tmp_path / "calls.sqlite")}
    out = tmp_path / "responses.jsonl"
    try:
        proc = _generate(spec, out, env)
        deadline = time.monotonic() + 60
        while _SlowChat.served < 4:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "Traceback" not in err, err
        found = re.search(r"interrupted: (\d+) of (\d+) model calls asked so far had finished", err)
        assert found, err
        finished, asked = int(found.group(1)), int(found.group(2))
        assert 3 <= finished < asked, err
        assert "new results kept in the call cache; run the same command again to continue" in err
        assert not out.exists()
        # the same command again pays only for the rest
        again = _generate(spec, out, env)
        out2, err2 = again.communicate(timeout=120)
        assert again.returncode == 0, err2
        assert f"cache hits {finished} " in out2 + err2, out2 + err2
    finally:
        server.shutdown()


class _Stats:
    def __init__(self, requests: int, calls: int, hits: int, failures: int):
        self.requests, self.calls, self.cache_hits, self.failures = requests, calls, hits, failures


class _FakeLM:
    def __init__(self, cache: object | None, **counts: int):
        self.cache = cache
        self.stats = _Stats(**counts)


def test_counts_add_up_over_models():
    lms = [
        _FakeLM(object(), requests=10, calls=5, hits=3, failures=1),
        _FakeLM(object(), requests=4, calls=0, hits=0, failures=0),
    ]
    assert calls_kept(lms) == (
        "8 of 14 model calls asked so far had finished, 3 of them already in the call cache, "
        "1 failed and will be asked again; new results kept in the call cache"
    )
    assert "NOT kept" in calls_kept([_FakeLM(None, requests=2, calls=2, hits=0, failures=0)])
    assert calls_kept([]) is None


def test_train_is_told_to_resume():
    assert message(["train", "dpo"]).endswith(
        "run the same command again with --resume to continue from the newest checkpoint"
    )
    assert message(["eval", "care"]).endswith("; run the same command again to continue")


def test_an_interrupted_run_names_the_finished_stages(tmp_path, monkeypatch):
    from culturalign import interrupts
    from culturalign.pipeline.experiment import Experiment
    from culturalign.pipeline.runner import Runner
    from culturalign.pipeline.stages import Stage

    def stop() -> dict:
        raise KeyboardInterrupt

    stages = [
        Stage("split", lambda: {}, {"a": 1}, [], tmp_path / "split"),
        Stage("eval care base", stop, {"b": 2}, [], tmp_path / "eval"),
        Stage("report", lambda: {}, {"c": 3}, [], tmp_path / "report.html"),
    ]
    exp_path = tmp_path / "exp.yaml"
    exp_path.write_text("name: t\n")
    runner = Runner(Experiment(name="t"), exp_path, tmp_path / "run")
    monkeypatch.setattr(runner, "stages", lambda: stages)
    interrupts.clear()
    try:
        runner.run()
        raise AssertionError("the interrupt did not propagate")
    except KeyboardInterrupt:
        pass
    text = message(["run", "exp.yaml"])
    interrupts.clear()
    assert text.startswith(
        "interrupted: 1 of 3 stages finished and are skipped next time; stopped in eval care base"
    )
    assert text.endswith("; run the same command again to continue")
