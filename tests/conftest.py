"""Shared fixtures. Tests run offline, single-threaded, with their own call cache."""

from __future__ import annotations

import os

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["CULTURALIGN_PROGRESS"] = "0"
os.environ["TRL_EXPERIMENTAL_SILENCE"] = "1"

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()


@pytest.fixture(autouse=True)
def _private_call_cache(tmp_path, monkeypatch):
    """Each test gets its own call cache unless it asks for a shared one."""
    monkeypatch.setenv("CULTURALIGN_CACHE", str(tmp_path / "calls.sqlite"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public datasets next to the repository (absent on users' machines)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (it exists only on the team's machines)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny random Llama + tokenizer with a chat template, built once per session."""
    import torch

    torch.set_num_threads(1)
    from culturalign.testing import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def embedded_dir() -> Path:
    """The embedded SmolLM2 model's safetensors folder (converted once, then cached)."""
    from culturalign.models import embedded

    return embedded.prepare()


@pytest.fixture(scope="session")
def serve_url(embedded_dir) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT/v1``) of ``transformers serve EMBEDDED_DIR``."""
    missing = [m for m in ("fastapi", "uvicorn", "openai") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"transformers serve needs transformers[serving] ({', '.join(missing)} missing)")
    from culturalign.testing.server import start_transformers_serve, stop_server

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
