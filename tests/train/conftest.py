"""Fixtures for the training tests (data helpers live in train_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from train_helpers import make_pairs, write_jsonl


@pytest.fixture
def pairs_file(tmp_path) -> Path:
    return write_jsonl(tmp_path / "pairs.jsonl", make_pairs(24))


@pytest.fixture
def tiny_spec(tiny_model_dir) -> str:
    return f"hf:{tiny_model_dir}"
