"""Fixtures for the LM layer's tests: a real ``transformers serve`` on loopback.

The server is started once per session with the embedded SmolLM2 model (see
``culturalign.testing_server``); tests that use it are marked ``serve`` and ``slow``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def serve_url(embedded_dir) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT/v1``) of ``transformers serve EMBEDDED_DIR``."""
    missing = [m for m in ("fastapi", "uvicorn", "openai") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"transformers serve needs transformers[serving] ({', '.join(missing)} missing)")
    from culturalign.testing_server import start_transformers_serve, stop_server

    url, proc = start_transformers_serve(embedded_dir)
    try:
        yield url
    finally:
        stop_server(proc)


@pytest.fixture()
def served_spec(serve_url, embedded_dir):
    """``openai:`` spec for the served model, with extra ``+key=value`` options appended."""

    def make(url: str | None = None, **options: object) -> str:
        spec = f"openai:{embedded_dir}@{url or serve_url}"
        return spec + "".join(f"+{k}={v}" for k, v in options.items())

    return make
