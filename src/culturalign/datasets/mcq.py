"""Generic multiple-choice tables: INCLUDE, MMLU-style and Global-MMLU-style files, and
our own JSONL of ``ChoiceItem`` records (``culturalign eval mcq``).

Recognised layouts (CSV, TSV, JSONL, JSON list or Parquet):

* options in columns ``option_a`` .. (INCLUDE, Global-MMLU) or ``A``, ``B``, ... ;
* options as one list column ``choices`` or ``options`` (MMLU on the hub);
* ``answer`` as an index from 0, a letter, or the option text itself;
* optional ``id``, ``language``, ``country`` / ``culture`` / ``region``,
  ``subject`` / ``domain`` / ``topic``.

A header-less six-column MMLU CSV (question, four options, answer letter) loads too.
"""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from culturalign.datasets.rows import Row, container, first_row_keys, is_missing, read_rows
from culturalign.errors import Problems
from culturalign.io import pydantic_problems, read_text_utf8
from culturalign.records import ChoiceItem

NAME = "mcq"
DESCRIPTION = "multiple-choice table (INCLUDE, MMLU, Global-MMLU layouts) or JSONL of ChoiceItem records"

LETTERS = "ABCDEFGHIJ"
_LETTER_COLUMNS = [f"option_{c.lower()}" for c in LETTERS]
_CULTURE_KEYS = ("culture", "country", "region")
_TOPIC_KEYS = ("topic", "subject", "domain")


def _layout(keys: set[str]) -> str | None:
    if "question" not in keys or "answer" not in keys:
        return None
    if "option_a" in keys and "option_b" in keys:
        return "option_columns"
    if "A" in keys and "B" in keys:
        return "letter_columns"
    if "choices" in keys or "options" in keys:
        return "list_column"
    return None


def sniff(path: Path) -> bool:
    path = Path(path)
    if not path.is_file():
        return False
    keys = first_row_keys(path)
    if keys and _layout(keys):
        return True
    return container(path) == "csv" and _headerless_mmlu(path) is not None


def _headerless_mmlu(path: Path) -> list[list[str]] | None:
    try:
        rows = list(csv.reader(io.StringIO(read_text_utf8(path))))
    except Exception:
        return None
    rows = [r for r in rows if r]
    if rows and all(len(r) == 6 and r[5].strip().upper() in ("A", "B", "C", "D") for r in rows):
        return rows
    return None


def load(path: Path) -> list[ChoiceItem]:
    path = Path(path)
    problems = Problems(path)
    keys = first_row_keys(path) or set()
    if not _layout(keys):
        plain = _headerless_mmlu(path) if container(path) == "csv" else None
        if plain is None:
            problems.add(
                1,
                None,
                "not a multiple-choice table: needs question, answer and options "
                "(option_a.., A.., or a choices/options list)",
            )
            problems.raise_if_any()
        rows = [
            Row(n + 1, {"question": r[0], "A": r[1], "B": r[2], "C": r[3], "D": r[4], "answer": r[5]})
            for n, r in enumerate(plain or [])
        ]
    else:
        rows = read_rows(path, problems)
        problems.raise_if_any()
    items = []
    for n, row in enumerate(rows):
        item = _item(path, n, row, problems)
        if item is not None:
            items.append(item)
    problems.raise_if_any()
    return items


def _options(data: dict[str, Any]) -> list[str] | None:
    layout = _layout(set(data))
    if layout == "option_columns":
        cols = [c for c in _LETTER_COLUMNS if c in data and not is_missing(data[c])]
    elif layout == "letter_columns":
        cols = [c for c in LETTERS if c in data and not is_missing(data[c])]
    else:
        raw = data.get("choices", data.get("options"))
        if isinstance(raw, str):
            try:
                raw = ast.literal_eval(raw)
            except (ValueError, SyntaxError):
                return None
        if not isinstance(raw, list | tuple):
            return None
        return [str(o).strip() for o in raw]
    return [str(data[c]).strip() for c in cols]


def _answer(value: Any, options: list[str]) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    if len(text) == 1 and text.upper() in LETTERS:
        return LETTERS.index(text.upper())
    if text in options:
        return options.index(text)
    return None


def _first(data: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for k in keys:
        if not is_missing(data.get(k)):
            return str(data[k]).strip()
    return None


def _item(path: Path, n: int, row: Row, problems: Problems) -> ChoiceItem | None:
    data = row.data
    options = _options(data)
    if options is None:
        problems.add(row.where, "choices", "expected a list of option texts")
        return None
    answer = _answer(data.get("answer"), options)
    if answer is None:
        problems.add(
            row.where, "answer", f"expected an option index, letter or text, found {data.get('answer')!r}"
        )
        return None
    question = data.get("question")
    try:
        return ChoiceItem(
            id=_first(data, ("id", "sample_id")) or f"{path.stem}-{n}",
            question="" if is_missing(question) else str(question).strip(),
            options=options,
            answer=answer,
            culture=_first(data, _CULTURE_KEYS),
            language=_first(data, ("language",)),
            topic=_first(data, _TOPIC_KEYS),
            source=_first(data, ("source",)) or path.stem,
            kind="mcq",
        )
    except ValidationError as exc:
        pydantic_problems(problems, row.where, exc)
        return None
