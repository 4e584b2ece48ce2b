"""Where culturalign keeps things on disk. Every location can be moved by an env var."""

from __future__ import annotations

import os
from pathlib import Path


def cache_home() -> Path:
    """``$CULTURALIGN_HOME`` or ``$XDG_CACHE_HOME/culturalign`` or ``~/.cache/culturalign``."""
    if env := os.environ.get("CULTURALIGN_HOME"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "culturalign"


def models_dir() -> Path:
    return cache_home() / "models"


def default_call_cache() -> Path:
    """The shared SQLite cache of model calls (``$CULTURALIGN_CACHE`` overrides)."""
    if env := os.environ.get("CULTURALIGN_CACHE"):
        return Path(env)
    return cache_home() / "calls.sqlite"


def package_data(*parts: str) -> Path:
    return Path(__file__).parent.joinpath(*parts)
