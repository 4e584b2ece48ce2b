"""GlobalOpinionQA (Durmus et al.; paper 002 §4.1, paper 003 §5.2): survey questions
with the answer distribution of respondents in each country.

The published CSV has the columns ``question``, ``selections``, ``options``, ``source``:

* ``selections`` is the printed form of a Python ``defaultdict``:
  ``defaultdict(<class 'list'>, {'Belgium': [0.13, 0.79, 0.08], ...})``; the dict inside is
  read with ``ast.literal_eval`` (literals only; nothing is executed);
* ``options`` is a printed Python list of the option texts.

The hub's Parquet/JSON conversions (real dicts and lists) load too. Each row becomes one
``ChoiceItem(kind="opinion")`` with id ``goqa-<row number from 0>``.

Data quirks handled (and counted by ``describe``): a country whose share list has another
length than the options cannot be lined up and is left out of that question; shares that
do not sum to 1 are renormalised; all-zero shares are left out; a question left with no
country is skipped. Cells that cannot be parsed at all are located errors.
"""

from __future__ import annotations

import ast
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from culturalign.datasets.rows import Row, container, first_row_keys, is_missing, read_rows
from culturalign.errors import Problems
from culturalign.io import pydantic_problems
from culturalign.records import ChoiceItem

NAME = "globalopinionqa"
DESCRIPTION = "GlobalOpinionQA: CSV with question, selections (per-country shares), options, source"

log = logging.getLogger(__name__)

REQUIRED = ("question", "selections", "options")
_DEFAULTDICT = re.compile(r"^\s*defaultdict\(\s*<class '[A-Za-z_]+'>\s*,\s*(\{.*\})\s*\)\s*$", re.DOTALL)


@dataclass
class GlobalOpinionReport:
    rows: int = 0
    items: int = 0
    countries: int = 0
    distributions: int = 0
    renormalised: int = 0
    length_mismatch: int = 0
    all_zero: int = 0
    skipped_questions: int = 0

    def line(self) -> str:
        return (
            f"{self.rows} questions, {self.items} usable, over {self.countries} countries "
            f"({self.distributions} question-country distributions; {self.renormalised} renormalised; "
            f"left out: {self.length_mismatch} with a share count unlike the option count, "
            f"{self.all_zero} all zero, {self.skipped_questions} questions with no usable country)"
        )


def sniff(path: Path) -> bool:
    path = Path(path)
    if not path.is_file() or container(path) not in ("csv", "jsonl", "json", "parquet"):
        return False
    keys = first_row_keys(path)
    return bool(keys) and all(k in keys for k in REQUIRED)


def parse_selections(value: Any) -> dict[str, list[float]]:
    """The per-country shares from a ``selections`` cell; ValueError when unreadable."""
    if isinstance(value, dict):
        raw: Any = value
    else:
        text = str(value).strip()
        m = _DEFAULTDICT.match(text)
        try:
            raw = ast.literal_eval(m.group(1) if m else text)
        except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
            raise ValueError(f"cannot read the shares ({type(exc).__name__})") from None
    if not isinstance(raw, dict):
        raise ValueError("expected a mapping from country to a list of shares")
    out: dict[str, list[float]] = {}
    for country, shares in raw.items():
        if not isinstance(country, str) or not isinstance(shares, list | tuple):
            raise ValueError(f"country {country!r}: expected a list of shares")
        try:
            values = [float(s) for s in shares]
        except (TypeError, ValueError):
            raise ValueError(f"country {country!r}: shares must be numbers") from None
        if any(not math.isfinite(v) or v < 0 for v in values):
            raise ValueError(f"country {country!r}: shares must be finite and ≥ 0")
        out[country.strip()] = values
    return out


def parse_options(value: Any) -> list[str]:
    """The option texts from an ``options`` cell (a printed Python list, or a real list)."""
    if isinstance(value, list | tuple):
        raw: Any = value
    else:
        try:
            raw = ast.literal_eval(str(value).strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise ValueError("expected a list like ['Yes', 'No']") from None
    if not isinstance(raw, list | tuple):
        raise ValueError("expected a list of option texts")
    return [str(o).strip() for o in raw]


def load(path: Path) -> list[ChoiceItem]:
    return load_with_report(path)[0]


def describe(path: Path) -> str:
    return load_with_report(path)[1].line()


def load_with_report(path: Path) -> tuple[list[ChoiceItem], GlobalOpinionReport]:
    path = Path(path)
    problems = Problems(path)
    rows = read_rows(path, problems)
    problems.raise_if_any()
    keys = set(rows[0].data) if rows else set()
    missing = [k for k in REQUIRED if k not in keys]
    if missing:
        problems.add(
            1, None, f"missing column(s) {', '.join(missing)}; expected {', '.join(REQUIRED)}, source"
        )
        problems.raise_if_any()
    report = GlobalOpinionReport(rows=len(rows))
    countries: set[str] = set()
    items = []
    for n, row in enumerate(rows):
        item = _item(n, row, problems, report)
        if item is not None:
            items.append(item)
            countries.update(item.target_distributions or {})
    problems.raise_if_any()
    report.items = len(items)
    report.countries = len(countries)
    if report.length_mismatch or report.skipped_questions:
        log.warning("GlobalOpinionQA: %s", report.line())
    return items, report


def _item(n: int, row: Row, problems: Problems, report: GlobalOpinionReport) -> ChoiceItem | None:
    question = row.data.get("question")
    if is_missing(question):
        problems.add(row.where, "question", "required text is missing")
        return None
    try:
        options = parse_options(row.data.get("options"))
    except ValueError as exc:
        problems.add(row.where, "options", str(exc))
        return None
    try:
        selections = parse_selections(row.data.get("selections"))
    except ValueError as exc:
        problems.add(row.where, "selections", str(exc))
        return None
    targets: dict[str, list[float]] = {}
    for country, shares in selections.items():
        if len(shares) != len(options):
            report.length_mismatch += 1
            continue
        total = sum(shares)
        if total <= 0:
            report.all_zero += 1
            continue
        if abs(total - 1.0) > 1e-6:
            report.renormalised += 1
        targets[country] = [s / total for s in shares]
        report.distributions += 1
    if len(options) < 2 or not targets:
        report.skipped_questions += 1
        return None
    source = row.data.get("source")
    try:
        return ChoiceItem(
            id=f"goqa-{n}",
            question=str(question).strip(),
            options=options,
            target_distributions=targets,
            source=None if is_missing(source) else str(source).strip(),
            language="en",
            kind="opinion",
        )
    except ValidationError as exc:
        pydantic_problems(problems, row.where, exc)
        return None
