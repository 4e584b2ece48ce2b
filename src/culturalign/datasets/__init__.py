"""Loaders for the published formats, one module per format, behind one registry.

Every loader module exposes:

* ``NAME`` (the ``--format`` value) and ``DESCRIPTION`` (one line, for messages);
* ``sniff(path) -> bool``: cheap check whether a file or folder looks like this format;
* ``load(path) -> list[record]``: parse into records from ``culturalign.records``,
  raising ``DataError`` with *every* located problem (``PATH:LINE: field: message``).

``load_any(path, fmt)`` picks the loader (by ``fmt`` or by sniffing, with a clear
message when nothing or more than one matches). Loader modules are imported lazily.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from culturalign.errors import ConfigError, DataError, Problem

# --format name -> module; order matters for sniffing (most specific first)
FORMATS: dict[str, str] = {
    "care-test": "culturalign.datasets.care",
    "care-prefs": "culturalign.datasets.care_prefs",
    "cali": "culturalign.datasets.cali",
    "blend": "culturalign.datasets.blend",
    "blend-mcq": "culturalign.datasets.blend_mcq",
    "wvs": "culturalign.datasets.wvs",
    "globalopinionqa": "culturalign.datasets.globalopinion",
    "culturalbench": "culturalign.datasets.culturalbench",
    "culturebank": "culturalign.datasets.culturebank",
    "prism": "culturalign.datasets.prism",  # before sft and jsonl: PRISM's conversations are JSONL too
    "sft": "culturalign.datasets.sft",  # before jsonl, which claims every .jsonl; never our own records
    "jsonl": "culturalign.datasets.jsonl",
    "mcq": "culturalign.datasets.mcq",  # after jsonl: our ChoiceItem JSONL is not an MCQ table
    "hub": "culturalign.datasets.hub",
}


def loader(fmt: str) -> ModuleType:
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; known formats: {', '.join(FORMATS)}")
    return importlib.import_module(FORMATS[fmt])


def available_loaders() -> dict[str, ModuleType]:
    """The loader modules that exist in this installation (all of them, normally)."""
    out = {}
    for name, module in FORMATS.items():
        try:
            out[name] = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    return out


def detect_format(path: str | Path) -> str:
    path = Path(path)
    if not path.exists():
        raise DataError([Problem(str(path), None, None, "no such file or folder")])
    matches = [name for name, mod in available_loaders().items() if _safe_sniff(mod, path)]
    if not matches:
        raise DataError(
            [
                Problem(
                    str(path),
                    None,
                    None,
                    f"cannot tell its format; pass --format (one of {', '.join(FORMATS)})",
                )
            ]
        )
    return matches[0]


def _safe_sniff(mod: ModuleType, path: Path) -> bool:
    try:
        return bool(mod.sniff(path))
    except Exception:
        return False


def load_any(path: str | Path, fmt: str | None = None) -> tuple[str, list]:
    """Load a file, a folder or a hub id (``hf:OWNER/NAME``) in any known format;
    returns (format name, records). A loader that trips over a file it was not made for
    becomes a located error, never a traceback."""
    if fmt == "hub" or str(path).startswith("hf:"):
        return "hub", loader("hub").load(str(path))
    path = Path(path)
    name = fmt or detect_format(path)
    if not path.exists():
        raise DataError([Problem(str(path), None, None, "no such file or folder")])
    try:
        return name, loader(name).load(path)
    except (DataError, ConfigError):
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise DataError(
            [Problem(str(path), None, None, f"cannot read as {name}: {type(exc).__name__}: {exc}")]
        ) from None
