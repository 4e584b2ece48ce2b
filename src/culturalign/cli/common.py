"""Options shared by many commands, so they read the same everywhere."""

from __future__ import annotations

from pathlib import Path

import typer

from culturalign.paths import default_call_cache

MODEL_HELP = (
    "model spec: embedded | hf:PATH_OR_ID\\[+adapter=DIR] | openai:MODEL\\[@BASE_URL] | vllm:PATH_OR_ID"
)

ModelOpt = typer.Option("embedded", "--model", "-m", help=MODEL_HELP)
CacheOpt = typer.Option(
    None, "--cache", help=f"SQLite call cache (default {default_call_cache()}; 'off' disables it)"
)
LimitOpt = typer.Option(None, "--limit", "-n", min=1, help="use only the first N items")


def cache_arg(cache: str | None):
    """Translate the --cache option into what ``load_lm`` takes."""
    if cache is None:
        return "default"
    if cache.lower() in ("off", "none", "no"):
        return None
    return Path(cache)


def system_prompt_arg(value: str | None) -> str | None:
    """``--system-prompt TEXT`` or ``--system-prompt @FILE``."""
    if value is None or not value.startswith("@"):
        return value
    from culturalign.errors import ConfigError
    from culturalign.io import read_text_utf8

    path = Path(value[1:])
    if not path.is_file():
        raise ConfigError(f"--system-prompt: no such file {path}")
    return read_text_utf8(path).strip("\n")


def open_lm(spec: str, cache: str | None):
    from culturalign.lm import load_lm

    return load_lm(spec, cache=cache_arg(cache))
