"""Options shared by many commands, so they read the same everywhere."""

from __future__ import annotations

from pathlib import Path

import typer

# short on purpose: the whole grammar lives in `culturalign models --help` (cli/groups.py),
# so an 80-column help table never cuts a spec in half
MODEL_HELP = "model spec: embedded, hf:ID, openai:MODEL or vllm:ID (grammar: culturalign models --help)"

ModelOpt = typer.Option("embedded", "--model", "-m", help=MODEL_HELP)
CacheOpt = typer.Option(
    None, "--cache", help="SQLite call cache ('off' disables it; default: $CULTURALIGN_CACHE, else calls.sqlite in "
    "culturalign's cache folder)"
)
LimitOpt = typer.Option(
    None, "--limit", "-n", min=1, help="use a sample of N items (how it is drawn: --limit-order)"
)
LimitOrderOpt = typer.Option(
    "stratified",
    "--limit-order",
    help="stratified: a seeded sample spread over the data's cultures, categories and regions in "
    "proportion; file: the first N items of the file",
)
TranslateWithOpt = typer.Option(
    None,
    "--translate-with",
    help="with --lang en: translate questions that have no English text with this model spec "
    "(cached; every output says how many were machine-translated)",
)


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


def limit_order_arg(value: str) -> str:
    """Checked before any model is loaded."""
    from culturalign.sampling import LIMIT_ORDERS

    if value not in LIMIT_ORDERS:
        from culturalign.errors import ConfigError

        raise ConfigError(f"--limit-order must be one of {', '.join(LIMIT_ORDERS)}, not {value!r}")
    return value


def english_check(questions, lang: str, translate_with: str | None, source) -> None:
    """``--lang en`` without English text fails before a model is loaded; ``--translate-with``
    only makes sense with ``--lang en``."""
    from culturalign.errors import ConfigError
    from culturalign.translation import require_english

    if translate_with is not None and lang != "en":
        raise ConfigError("--translate-with needs --lang en (native questions are not translated)")
    if lang == "en" and translate_with is None:
        require_english(questions, source)


def open_lm(spec: str, cache: str | None):
    from culturalign.lm import load_lm

    return load_lm(spec, cache=cache_arg(cache))
