"""CultureBank knowledge records (paper 003 §4.1, §5.1) from CSV, TSV, JSONL or JSON.

Column names are matched loosely because the published files disagree: the release
writes ``cultural group``, ``actor_behavior``, ``other_descriptions``; the authors'
pipeline writes ``actor's behavior``, ``other descriptions``; people write
``behaviour``. All of them map to the fields of ``KnowledgeItem``. A release's own
``eval_whole_desc`` becomes the description, and its ``eval_scenario``/``eval_persona``/
``eval_question`` are kept so the file can be evaluated as it is.

Rows may instead be free text, with a ``description`` or ``knowledge`` column.

Both published measures of how widely the sources hold the knowledge are kept on the
record, as numbers in [0, 1]: the release's ``agreement`` and the pipeline's ``norm``
(1 = the norm, 0 = not done, for one comment; the share of a cluster's comments after
its agreement step). Knowledge most sources disagree with is never described as a norm:
see ``culturalign.records.knowledge`` for the rule.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path
from typing import Any

from culturalign.errors import Problems
from culturalign.io import jsonl_lines, jsonl_objects, read_text_utf8
from culturalign.records.knowledge import KnowledgeItem

NAME = "culturebank"
DESCRIPTION = "CultureBank cultural knowledge (structured records or free-text descriptions)"

_TEXT_FIELDS = (
    "cultural_group",
    "context",
    "goal",
    "relation",
    "actor",
    "actor_behavior",
    "recipient",
    "recipient_behavior",
    "other_descriptions",
    "topic",
    "description",
    "eval_scenario",
    "eval_persona",
    "eval_question",
)
_ALIASES = {
    "cluster_id": "id",
    "knowledge_id": "id",
    "knowledge": "description",
    "desc": "description",
    "eval_whole_desc": "description",
    "group": "cultural_group",
    "culture": "cultural_group",
    "other_description": "other_descriptions",
}
_MISSING = {"", "nan", "none", "null", "n/a"}
_SUFFIXES = {".csv": ",", ".tsv": "\t", ".jsonl": None, ".json": None}


def canonical_column(name: str) -> str:
    """``"Actor's Behaviour"`` → ``actor_behavior``; unknown names are normalised the same way."""
    s = name.strip().lower().replace("’", "'").replace("behaviour", "behavior")
    s = re.sub(r"'s\b", "", s)
    s = re.sub(r"[\s\-]+", "_", s)
    return _ALIASES.get(s, s)


def _looks_like_knowledge(columns: list[str]) -> bool:
    raw = {c.strip().lower() for c in columns}
    canon = {canonical_column(c) for c in columns}
    if "actor_behavior" in canon:
        return True
    if raw & {"question", "question_id", "knowledge_id"}:
        return False  # grounded questions or evaluation items that quote their knowledge
    return "knowledge" in raw or ("description" in canon and bool(canon & {"cultural_group", "topic"}))


def sniff(path: Path) -> bool:
    path = Path(path)
    if not path.is_file() or path.suffix.lower() not in _SUFFIXES:
        return False
    with path.open("r", encoding="utf-8-sig", errors="replace") as fh:
        head = fh.read(65536)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        first = next(csv.reader(io.StringIO(head), delimiter=_SUFFIXES[suffix]), [])
        return _looks_like_knowledge(first)
    if suffix == ".jsonl":
        # jsonl_lines, not splitlines: U+2028 or U+0085 inside a string does not end a record
        line = next((ln for _, ln in jsonl_lines(head) if ln.strip()), "")
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            return False
        return isinstance(obj, dict) and _looks_like_knowledge(list(obj))
    match = re.search(r"\{[^{}]*\}", head)  # the first flat object of a JSON list
    if not head.lstrip().startswith(("[", "{")) or match is None:
        return False
    try:
        obj = json.loads(match.group(0))
    except json.JSONDecodeError:
        return False
    return isinstance(obj, dict) and _looks_like_knowledge(list(obj))


def _rows(path: Path, problems: Problems) -> list[tuple[str | int, dict[str, Any]]]:
    """(location, raw row) pairs; CSV locations are the line a record starts on."""
    suffix = path.suffix.lower()
    text = read_text_utf8(path)
    if suffix in (".csv", ".tsv"):
        reader = csv.DictReader(io.StringIO(text), delimiter=_SUFFIXES[suffix])
        out: list[tuple[str | int, dict[str, Any]]] = []
        start = 2
        for row in reader:
            if None in row:  # more cells than header columns
                problems.add(start, None, f"{len(row[None])} more cell(s) than the header has columns")
                row.pop(None)
            out.append((start, row))
            start = reader.line_num + 1
        return out
    if suffix == ".jsonl":
        return list(jsonl_objects(text, problems))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.add(exc.lineno, None, f"invalid JSON: {exc.msg} (column {exc.colno})")
        return []
    if isinstance(data, dict):
        data = next((data[k] for k in ("data", "items", "records", "knowledge") if k in data), None)
    if not isinstance(data, list):
        problems.add(None, None, "expected a JSON list of knowledge records")
        return []
    out = []
    for i, obj in enumerate(data, start=1):
        if isinstance(obj, dict):
            out.append((f"item {i}", obj))
        else:
            problems.add(f"item {i}", None, f"expected a JSON object, found {type(obj).__name__}")
    return out


def _value(raw: Any) -> str | None:
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return None
    text = str(raw).strip()
    return None if text.lower() in _MISSING else text


def _record(where: str | int, row: dict[str, Any], n: int, problems: Problems) -> KnowledgeItem | None:
    fields: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for column, raw in row.items():
        key = canonical_column(str(column))
        value = _value(raw)
        if key in origin and value is not None and fields.get(key) is not None:
            problems.add(where, column, f"says the same as column {origin[key]!r}; keep one of them")
            continue
        if key in _TEXT_FIELDS or key == "id":
            if value is not None or key not in fields:
                fields[key], origin[key] = value, str(column)
        elif key in ("agreement", "norm"):
            if value is None:
                continue
            try:
                share = float(value)
            except ValueError:
                problems.add(where, column, f"expected a number between 0 and 1, found {value!r}")
                continue
            if not 0.0 <= share <= 1.0:  # NaN fails this too
                problems.add(where, column, f"expected a number between 0 and 1, found {share:g}")
                continue
            fields[key] = share
    before = len(problems.items)
    if not fields.get("actor_behavior") and not fields.get("description"):
        problems.add(
            where,
            None,
            "no knowledge in this row: give an actor behaviour column (CultureBank) "
            "or a description/knowledge column (free text)",
        )
    elif fields.get("actor_behavior") and not fields.get("description") and not fields.get("cultural_group"):
        problems.add(where, "cultural_group", "required for a structured record (the description names it)")
    if len(problems.items) > before:
        return None
    fields["id"] = fields.get("id") or f"kb-{n}"
    return KnowledgeItem.model_validate(fields)


def load(path: Path) -> list[KnowledgeItem]:
    """Every knowledge record in the file; all problems are reported together."""
    path = Path(path)
    problems = Problems(path)
    if path.suffix.lower() not in _SUFFIXES:
        problems.add(
            None, None, f"expected a .csv, .tsv, .jsonl or .json file, not {path.suffix or 'no suffix'}"
        )
        problems.raise_if_any()
    items: list[KnowledgeItem] = []
    first_seen: dict[str, str | int] = {}
    for n, (where, row) in enumerate(_rows(path, problems), start=1):
        item = _record(where, row, n, problems)
        if item is None:
            continue
        if item.id in first_seen:
            problems.add(where, "id", f"duplicate id {item.id!r} (first at {first_seen[item.id]})")
            continue
        first_seen[item.id] = where
        items.append(item)
    if not items and not problems:
        problems.add(None, None, "no knowledge records found")
    problems.raise_if_any()
    return items
