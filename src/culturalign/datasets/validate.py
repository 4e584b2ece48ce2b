"""Load anything the toolkit reads and say, in one line, what it holds, or list every problem.

``load_source`` is the one entry point the ``data`` commands use: a file or folder in any
registered format (chosen by ``--format`` or sniffed), a hub id (``hf:OWNER/NAME``) or a
folder written by ``datasets.save_to_disk``. Problems come back as ``DataError`` lines
``PATH:LINE: field: message``; an unexpected failure inside a loader is reported the
same way (with the loader named) rather than as a traceback, so bad input always ends in
exit status 2.
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from culturalign.datasets import FORMATS, detect_format, hub, loader
from culturalign.datasets.stats import summary_line
from culturalign.errors import CulturalignError, DataError, Problem


@dataclass
class Loaded:
    source: str
    format: str
    records: list[Any]
    note: str | None = None  # the loader's own description, when it offers one


def load_source(path: str | Path, fmt: str | None = None, *, describe: bool = False) -> Loaded:
    """Records from a path or hub id; ``describe`` also asks the loader for its summary."""
    try:
        return _load_source(path, fmt, describe)
    except DataError as exc:
        raise DataError(sorted(exc.problems, key=_location_key)) from None


def _location_key(problem: Problem) -> tuple:
    """File order: whole-file problems first, then by line, item or row number."""
    where = problem.where
    if where is None:
        return (problem.path, 0, 0)
    if isinstance(where, int):
        return (problem.path, 1, where)
    m = re.search(r"\d+", str(where))
    return (problem.path, 1, int(m.group()) if m else 0)


def _load_source(path: str | Path, fmt: str | None, describe: bool) -> Loaded:
    text = str(path)
    if fmt == hub.NAME or hub.is_hub_spec(text):
        return Loaded(text, hub.NAME, hub.load(text))
    p = Path(text)
    if not p.exists():
        raise DataError([Problem(text, None, None, "no such file or folder")])
    if fmt is None and hub.is_saved_folder(p):
        return Loaded(text, hub.NAME, hub.load_saved(p))
    if p.is_file() and p.stat().st_size == 0:
        raise DataError([Problem(text, None, None, "the file is empty")])
    try:
        name = fmt or detect_format(p)
    except DataError as exc:
        raise DataError(_syntax_problems(p) + exc.problems) from None
    if name not in FORMATS:
        raise CulturalignError(f"unknown format {name!r}; known formats: {', '.join(FORMATS)}")
    mod = loader(name)
    note = None
    try:
        if describe and hasattr(mod, "load_with_report"):
            records, report = mod.load_with_report(p)
            note = report.line() if hasattr(report, "line") else str(report)
        else:
            records = mod.load(p)
    except CulturalignError:
        raise
    except RecursionError:  # a reader gave up on nesting deeper than Python's recursion limit
        raise DataError([_too_deep(p)]) from None
    except Exception as exc:  # a loader bug must still end as a located message, not a traceback
        raise DataError(
            [
                Problem(
                    text,
                    None,
                    None,
                    f"the {name} loader failed ({type(exc).__name__}: {exc}); "
                    "if the file is well formed, please report this",
                )
            ]
        ) from None
    if not records:
        raise DataError([Problem(text, None, None, f"no records found (read as {name})")])
    _check_unique_ids(text, records)
    return Loaded(text, name, records, note)


def _too_deep(path: Path) -> Problem:
    from culturalign.datasets.rows import TOO_DEEP, deep_nesting_line

    line = None
    if path.is_file():
        with contextlib.suppress(UnicodeDecodeError):
            line = deep_nesting_line(path.read_bytes().decode("utf-8-sig"))
    return Problem(str(path), line, None, f"invalid JSON: {TOO_DEEP}")


def _syntax_problems(path: Path) -> list[Problem]:
    """When no format claims a file, its syntax errors (if any) are the likelier story."""
    from culturalign.datasets.rows import container, read_rows
    from culturalign.errors import Problems

    if not path.is_file() or container(path) not in ("json", "jsonl", "csv", "tsv"):
        return []
    problems = Problems(path)
    try:
        read_rows(path, problems)
    except DataError as exc:  # not UTF-8
        return exc.problems
    return [p for p in problems.items if p.where is not None]


def _check_unique_ids(path: str, records: list[Any]) -> None:
    """A safety net for loaders that do not check it themselves."""
    ids = [getattr(r, "id", None) for r in records]
    dupes = [(i, n) for i, n in Counter(x for x in ids if x is not None).items() if n > 1]
    if dupes:
        raise DataError(
            [Problem(path, None, "id", f"duplicate id {i!r} ({n} records share it)") for i, n in dupes]
        )


def validate(path: str | Path, fmt: str | None = None) -> tuple[Loaded, str]:
    """(what was loaded, the one-line summary), or ``DataError`` with every problem."""
    loaded = load_source(path, fmt, describe=True)
    summary = loaded.note or summary_line(loaded.records)
    return loaded, summary
