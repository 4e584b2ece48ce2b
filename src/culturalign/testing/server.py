"""A real OpenAI-compatible server on loopback for tests and benchmarks: ``transformers serve``.

``start_transformers_serve(model_dir)`` launches ``transformers serve`` pinned to one
local model folder on 127.0.0.1 (a free port, CPU, offline), waits until ``GET /health``
answers, and returns ``(base_url, process)``; the base URL ends in ``/v1``, ready for
``openai:MODEL_DIR@BASE_URL``. Requests name the model by the same folder path that was
served. ``stop_server(process)`` ends it. Startup takes about 5–20 s with SmolLM2.

The server needs the ``transformers[serving]`` extra (fastapi, uvicorn, openai). It does
not return log-probabilities, and it answers one request at a time per model.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_transformers_serve(
    model_dir: str | Path,
    *,
    port: int | None = None,
    timeout: float = 180.0,
    threads: int = 1,
    extra_args: tuple[str, ...] = (),
) -> tuple[str, subprocess.Popen]:
    """Start ``transformers serve MODEL_DIR`` on 127.0.0.1 and wait for it to be healthy.

    Without ``--continuous-batching`` (an ``extra_args`` option) the server runs one
    generation at a time, whatever the number of requests in flight."""
    port = port or free_port()
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
        TOKENIZERS_PARALLELISM="false",
    )
    log = tempfile.NamedTemporaryFile("w+b", prefix="transformers-serve-", suffix=".log", delete=False)  # noqa: SIM115
    cmd = [
        sys.executable,
        "-m",
        "transformers.cli.transformers",
        "serve",
        str(model_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--device",
        "cpu",
        "--dtype",
        "float32",
        "--log-level",
        "warning",
        *extra_args,
    ]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    proc.log_path = log.name  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return f"{url}/v1", proc
        time.sleep(0.3)
    stop_server(proc)
    tail = Path(log.name).read_text(errors="replace")[-3000:]
    raise RuntimeError(f"transformers serve did not become healthy on {url}:\n{tail}")


def stop_server(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop the server started by ``start_transformers_serve`` (and only that process group)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(grace)
    with contextlib.suppress(OSError, AttributeError):
        Path(proc.log_path).unlink()  # type: ignore[attr-defined]


@contextlib.contextmanager
def transformers_serve(model_dir: str | Path, **kwargs) -> Iterator[str]:
    """``with transformers_serve(folder) as base_url: ...``"""
    url, proc = start_transformers_serve(model_dir, **kwargs)
    try:
        yield url
    finally:
        stop_server(proc)
