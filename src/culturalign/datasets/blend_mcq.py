"""BLEnD multiple choice: one CSV, as the authors' ``multiple_choice_generation.py`` writes
it, with the header ``MCQID,ID,country,prompt,choices,choice_countries,answer_idx``.

* ``MCQID``: ``<question id>_<n>``, one row per combination of answer options;
* ``prompt``: the English question with the country named, BLEnD's instruction to answer
  with a letter as JSON, the lettered options (``A. ...``) and ``Answer:``;
* ``choices`` / ``choice_countries``: JSON objects from letter to option text and to the
  country whose annotators gave that option (``dummy`` for invented distractors);
* ``answer_idx``: the letter of the option the row's own country gave.

Each row becomes a ``ChoiceItem`` (id = MCQID, culture = the country, language English,
source ``blend-mc``) that ``eval mcq`` (or ``eval blend``) scores. The question is the
prompt's text before BLEnD's instruction, so our own prompt template lists the options;
the options' letters, the prompt's lettered lines and the answer letter must agree, and
any that do not are reported with their line.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from culturalign.datasets.blend import display_region
from culturalign.errors import Problems
from culturalign.io import pydantic_problems, read_text_utf8
from culturalign.records import ChoiceItem

NAME = "blend-mcq"
DESCRIPTION = (
    "BLEnD multiple choice: CSV with MCQID, ID, country, prompt, choices, choice_countries, answer_idx"
)
COLUMNS = ("MCQID", "ID", "country", "prompt", "choices", "choice_countries", "answer_idx")
INSTRUCTION_START = " Without any explanation, choose only one"


def sniff(path: Path) -> bool:
    path = Path(path)
    if not path.is_file() or path.suffix.lower() != ".csv":
        return False
    try:
        with path.open(encoding="utf-8", errors="replace", newline="") as fh:
            header = next(csv.reader(fh), [])
    except OSError:
        return False
    return {"MCQID", "prompt", "choices", "answer_idx"} <= {h.strip() for h in header}


def question_of(prompt: str) -> str:
    """The question BLEnD asked, without its answer-format instruction and options."""
    head = prompt.split(INSTRUCTION_START, 1)[0]
    head = head.split("\nA. ", 1)[0]
    return head.strip()


def _letters_map(raw: str, field: str, problems: Problems, line: int) -> dict[str, str] | None:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        problems.add(line, field, f"not JSON: {exc.msg} (column {exc.colno})")
        return None
    if not isinstance(value, dict) or not value:
        problems.add(line, field, 'expected a JSON object from letter to text, e.g. {"A": "..."}')
        return None
    letters = [chr(ord("A") + i) for i in range(len(value))]
    if sorted(value) != letters:
        problems.add(line, field, f"letters {sorted(value)} are not {letters}")
        return None
    return {k: str(value[k]) for k in letters}


def load(path: Path) -> list[ChoiceItem]:
    path = Path(path)
    problems = Problems(path)
    reader = csv.DictReader(io.StringIO(read_text_utf8(path), newline=""))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        problems.add(1, None, f"header lacks {', '.join(missing)} (expected {','.join(COLUMNS)})")
        problems.raise_if_any()
    items: list[ChoiceItem] = []
    seen: set[str] = set()
    end = reader.line_num  # the header's last line
    for row in reader:
        line, end = end + 1, reader.line_num  # a row spans several lines: name its first
        item = _row(row, problems, line)
        if item is None:
            continue
        if item.id in seen:
            problems.add(line, "MCQID", f"{item.id!r} appears more than once")
            continue
        seen.add(item.id)
        items.append(item)
    if not items and not problems:
        problems.add(None, None, "no questions in the file")
    problems.raise_if_any()
    return items


def _row(row: dict[str, Any], problems: Problems, line: int) -> ChoiceItem | None:
    mcqid = (row.get("MCQID") or "").strip()
    if not mcqid:
        problems.add(line, "MCQID", "must not be empty")
        return None
    choices = _letters_map(row.get("choices") or "", "choices", problems, line)
    countries = _letters_map(row.get("choice_countries") or "", "choice_countries", problems, line)
    if choices is None or countries is None:
        return None
    if list(countries) != list(choices):
        problems.add(
            line, "choice_countries", f"letters {list(countries)} differ from choices {list(choices)}"
        )
        return None
    letter = (row.get("answer_idx") or "").strip()
    if letter not in choices:
        problems.add(line, "answer_idx", f"{letter!r} is not one of the letters {', '.join(choices)}")
        return None
    prompt = row.get("prompt") or ""
    for k, text in choices.items():
        if f"{k}. {text}" not in prompt:
            problems.add(line, "prompt", f"does not list option {k}. {text!r} as the choices column says")
            return None
    try:
        return ChoiceItem(
            id=mcqid,
            question=question_of(prompt),
            options=list(choices.values()),
            answer=list(choices).index(letter),
            culture=display_region((row.get("country") or "").strip()) or None,
            language="en",
            source="blend-mc",
            topic=None,
        )
    except ValidationError as exc:
        pydantic_problems(problems, line, exc)
        return None


def describe(path: Path) -> str:
    items = load(path)
    countries = sorted({i.culture or "?" for i in items})
    per = {c: sum(1 for i in items if (i.culture or "?") == c) for c in countries}
    return f"{len(items)} multiple-choice rows; by country: " + ", ".join(f"{c} {n}" for c, n in per.items())
