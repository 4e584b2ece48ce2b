"""CulturalBench (Chiu et al.; paper 002 §4.1): human-written four-option questions about
45 regions, published as two CSV files that share the questions.

* ``CulturalBench-Easy.csv``: one row per question with ``prompt_question``,
  ``prompt_option_a`` .. ``prompt_option_d``, ``answer`` (a letter A-D) and ``country``
  (plus ``question_idx`` / ``data_idx``) → ``ChoiceItem(kind="culturalbench_easy")``.
* ``CulturalBench-Hard.csv``: one row per (question, option) with ``prompt_question``,
  ``prompt_option``, a boolean ``answer`` and ``country``; rows are grouped back into
  questions by ``question_idx`` (or, without it, by consecutive rows with the same
  question and country) → ``TrueFalseItem`` (some questions have several true options).

The same rows read from JSONL, JSON or Parquet (the hub's conversion). A folder holding
both files loads both. Rows the published files leave incomplete (an empty option or
answer) are skipped with their whole question and counted by ``describe``; anything
malformed (an answer that is not a letter or a truth value) is a located error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from culturalign.datasets.rows import Row, container, first_row_keys, is_missing, read_rows
from culturalign.errors import DataError, Problems
from culturalign.io import pydantic_problems
from culturalign.records import ChoiceItem
from culturalign.records.truefalse import TrueFalseItem

NAME = "culturalbench"
DESCRIPTION = "CulturalBench Easy (four options) or Hard (true/false per option) CSV, or a folder with both"

log = logging.getLogger(__name__)

EASY_OPTIONS = ("prompt_option_a", "prompt_option_b", "prompt_option_c", "prompt_option_d")
FILE_NAMES = ("CulturalBench-Easy", "CulturalBench-Hard")
_TABLES = ("csv", "jsonl", "json", "parquet")
_TRUE = {"true", "1", "yes", "t"}
_FALSE = {"false", "0", "no", "f"}


@dataclass
class CulturalBenchReport:
    easy: int = 0
    hard: int = 0
    skipped_incomplete: int = 0

    def line(self) -> str:
        return (
            f"{self.easy} Easy questions, {self.hard} Hard questions "
            f"({self.skipped_incomplete} incomplete questions skipped)"
        )


def _variant(keys: set[str] | None) -> str | None:
    if not keys or "prompt_question" not in keys:
        return None
    if all(k in keys for k in EASY_OPTIONS):
        return "easy"
    if "prompt_option" in keys:
        return "hard"
    return None


def _files(path: Path) -> list[Path]:
    path = Path(path)
    if path.is_file():
        return [path]
    found = [p for p in sorted(path.iterdir()) if p.is_file() and container(p) in _TABLES]
    return [p for p in found if any(p.stem.startswith(n) for n in FILE_NAMES)] or [
        p for p in found if _variant(first_row_keys(p))
    ]


def sniff(path: Path) -> bool:
    path = Path(path)
    if path.is_dir():
        return any(_variant(first_row_keys(p)) for p in _files(path))
    return container(path) in _TABLES and _variant(first_row_keys(path)) is not None


def load(path: Path) -> list[ChoiceItem | TrueFalseItem]:
    return load_with_report(path)[0]


def describe(path: Path) -> str:
    return load_with_report(path)[1].line()


def load_with_report(path: Path) -> tuple[list[ChoiceItem | TrueFalseItem], CulturalBenchReport]:
    path = Path(path)
    report = CulturalBenchReport()
    found: list = []
    items: list[ChoiceItem | TrueFalseItem] = []
    files = _files(path)
    if not files:
        raise DataError([_no_files(path)])
    for file in files:
        problems = Problems(file, found)
        rows = read_rows(file, problems)
        keys = set(rows[0].data) if rows else first_row_keys(file)
        variant = _variant(keys)
        if variant is None:
            problems.add(
                1,
                None,
                "not a CulturalBench table: needs prompt_question with prompt_option_a..d (Easy) "
                "or prompt_option (Hard)",
            )
            continue
        if variant == "easy":
            items.extend(_easy(rows, problems, report))
        else:
            items.extend(_hard(rows, problems, report))
    if found:
        raise DataError(found)
    if report.skipped_incomplete:
        log.warning("CulturalBench: skipped %d incomplete questions", report.skipped_incomplete)
    return items, report


def _no_files(path: Path):
    from culturalign.errors import Problem

    return Problem(
        str(path), None, None, "no CulturalBench files (CulturalBench-Easy.csv, CulturalBench-Hard.csv)"
    )


def _text(row: Row, key: str) -> str | None:
    value = row.data.get(key)
    return None if is_missing(value) else str(value).strip()


def _qid(row: Row, fallback: int) -> str:
    for key in ("question_idx", "data_idx"):
        value = row.data.get(key)
        if not is_missing(value):
            text = str(value).strip()
            return text[:-2] if text.endswith(".0") else text
    return str(fallback)


def _easy(rows: list[Row], problems: Problems, report: CulturalBenchReport) -> list[ChoiceItem]:
    items = []
    for n, row in enumerate(rows):
        question = _text(row, "prompt_question")
        options = [_text(row, k) for k in EASY_OPTIONS]
        answer = _text(row, "answer")
        if question is None or answer is None or any(o is None for o in options):
            report.skipped_incomplete += 1
            continue
        letter = answer.strip().upper()
        if letter not in ("A", "B", "C", "D"):
            problems.add(row.where, "answer", f"expected a letter A-D, found {answer!r}")
            continue
        try:
            items.append(
                ChoiceItem(
                    id=f"cb-easy-{_qid(row, n)}",
                    question=question,
                    options=[o for o in options if o is not None],
                    answer="ABCD".index(letter),
                    culture=_text(row, "country"),
                    topic=_text(row, "topic"),
                    language="en",
                    source="culturalbench",
                    kind="culturalbench_easy",
                )
            )
        except ValidationError as exc:
            pydantic_problems(problems, row.where, exc)
    report.easy += len(items)
    return items


def _truth(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text.endswith(".0"):
        text = text[:-2]
    return True if text in _TRUE else False if text in _FALSE else None


def _hard(rows: list[Row], problems: Problems, report: CulturalBenchReport) -> list[TrueFalseItem]:
    groups: dict[str, list[Row]] = {}
    has_idx = any(not is_missing(r.data.get("question_idx")) for r in rows)
    last_key: tuple | None = None
    counter = -1
    for row in rows:
        if has_idx:
            key = _qid(row, -1)
        else:
            this = (_text(row, "prompt_question"), _text(row, "country"))
            if this != last_key:
                counter += 1
                last_key = this
            key = str(counter)
        groups.setdefault(key, []).append(row)
    items = []
    for qid, group in groups.items():
        group.sort(key=lambda r: _sort_key(r.data.get("data_idx")))
        question = next((q for r in group if (q := _text(r, "prompt_question"))), None)
        options = [_text(r, "prompt_option") for r in group]
        raw = [r.data.get("answer") for r in group]
        if question is None or any(o is None for o in options) or any(is_missing(a) for a in raw):
            report.skipped_incomplete += 1
            continue
        truths = [_truth(a) for a in raw]
        bad = [(r, a) for r, a, t in zip(group, raw, truths, strict=True) if t is None]
        for r, a in bad:
            problems.add(r.where, "answer", f"expected True or False, found {a!r}")
        if bad:
            continue
        try:
            items.append(
                TrueFalseItem(
                    id=f"cb-hard-{qid}",
                    question=question,
                    options=[o for o in options if o is not None],
                    truths=[bool(t) for t in truths],
                    culture=_text(group[0], "country"),
                    topic=_text(group[0], "topic"),
                    source="culturalbench",
                )
            )
        except ValidationError as exc:
            pydantic_problems(problems, group[0].where, exc)
    report.hard += len(items)
    return items


def _sort_key(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
