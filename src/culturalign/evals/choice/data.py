"""Which loader reads a data path for each choice benchmark, with a clear error when the
file holds nothing that benchmark can score. Used by the CLI and by pipeline runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError


def _loaded(path: Path, fmt: str | None, names: tuple[str, ...]) -> tuple[str, list[Any]]:
    """Try the benchmark's own formats first (by sniffing), then the general registry."""
    from culturalign.datasets import load_any, loader

    path = Path(path)
    if fmt is None:
        for name in names:
            mod = _module(name)
            try:
                if mod.sniff(path):
                    return name, mod.load(path)
            except (OSError, ValueError):
                continue
        return load_any(path, None)
    if fmt in names:
        return fmt, _module(fmt).load(path)
    return fmt, loader(fmt).load(path)


def _module(name: str):
    import importlib

    from culturalign.datasets import FORMATS

    return importlib.import_module(FORMATS.get(name, f"culturalign.datasets.{name}"))


def opinion_items(path: Path, fmt: str | None = None) -> list[Any]:
    from culturalign.records import ChoiceItem

    name, records = _loaded(path, fmt, ("wvs", "globalopinionqa"))
    items = [r for r in records if isinstance(r, ChoiceItem) and r.target_distributions]
    if not items:
        raise ConfigError(
            f"{path}: read as {name!r}, which holds no questions with per-country answer shares"
        )
    return items


def culturalbench_items(path: Path, fmt: str | None = None) -> list[Any]:
    from culturalign.records import ChoiceItem
    from culturalign.records.truefalse import TrueFalseItem

    name, records = _loaded(path, fmt, ("culturalbench",))
    items = [
        r
        for r in records
        if isinstance(r, TrueFalseItem) or (isinstance(r, ChoiceItem) and r.answer is not None)
    ]
    if not items:
        raise ConfigError(f"{path}: read as {name!r}, which holds no CulturalBench questions")
    return items


def cali_items(path: Path, fmt: str | None = None) -> list[Any]:
    from culturalign.records import NLIItem

    name, records = _loaded(path, fmt, ("cali",))
    items = [r for r in records if isinstance(r, NLIItem)]
    if not items:
        raise ConfigError(f"{path}: read as {name!r}, which holds no premise/hypothesis pairs")
    return items


def blend_items(path: Path, fmt: str | None = None) -> list[Any]:
    from culturalign.records import ShortAnswerItem

    name, records = _loaded(path, fmt, ("blend",))
    items = [r for r in records if isinstance(r, ShortAnswerItem)]
    if not items:
        raise ConfigError(f"{path}: read as {name!r}, which holds no short-answer questions")
    return items


def mcq_items(path: Path, fmt: str | None = None) -> list[Any]:
    from culturalign.records import ChoiceItem

    name, records = _loaded(path, fmt, ("mcq", "culturalbench"))
    items = [r for r in records if isinstance(r, ChoiceItem) and r.answer is not None]
    if not items:
        raise ConfigError(
            f"{path}: read as {name!r}, which holds no multiple-choice questions with an answer"
        )
    return items
