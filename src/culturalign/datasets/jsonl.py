"""Our own record files: one record per line, any record type of ``culturalign.records``.

JSONL is the main form; the Parquet files and JSON lists that ``data convert`` can write
are read back here too.

The type is recognised from the fields of the first record (a ``CulturalQuestion`` has
``text``, ``language`` and ``culture``; a ``ChoiceItem`` has ``question`` and
``options``; a ``PreferencePair`` has ``prompt``, ``chosen`` and ``rejected`` ...), and
every line is then validated as that type, so what one stage writes the next can check.
Ids must be unique within a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from culturalign.datasets.rows import Row, container, drop_nested_nones, first_row_keys, read_rows
from culturalign.errors import Problems
from culturalign.io import describe_validation_error
from culturalign.records import (
    ChoiceItem,
    CulturalQuestion,
    GroundedQuestion,
    KnowledgeItem,
    ModelResponse,
    NLIItem,
    PreferencePair,
    ShortAnswerItem,
    TrueFalseItem,
    UnpairedExample,
)

NAME = "jsonl"
DESCRIPTION = "culturalign JSONL: one record per line (CulturalQuestion, ChoiceItem, PreferencePair, ...)"

# record type -> the fields that identify it (all must be present in the first record)
SIGNATURES: list[tuple[type[BaseModel], frozenset[str]]] = [
    (GroundedQuestion, frozenset({"knowledge_id", "scenario", "persona", "question"})),
    (PreferencePair, frozenset({"prompt", "chosen", "rejected"})),
    (UnpairedExample, frozenset({"prompt", "completion", "label"})),
    (ModelResponse, frozenset({"item_id", "model", "messages"})),
    (NLIItem, frozenset({"premise", "hypothesis", "labels"})),
    (ShortAnswerItem, frozenset({"region", "language", "question"})),
    (TrueFalseItem, frozenset({"question", "options", "truths"})),
    (ChoiceItem, frozenset({"question", "options"})),
    (CulturalQuestion, frozenset({"text", "language", "culture"})),
    (KnowledgeItem, frozenset({"id", "cultural_group"})),
    (KnowledgeItem, frozenset({"id", "description"})),
]

# a whole-record error message -> the field it is about (ChoiceItem's cross-field checks)
_MESSAGE_FIELDS = (
    ("distribution for", "target_distributions"),
    ("needs either a gold answer", "answer"),
    ("answer index", "answer"),
    ("question text is empty", "question"),
    ("chosen rating", "chosen_rating"),
    ("a response flagged", "rating"),
)


def record_type(keys: set[str]) -> type[BaseModel] | None:
    for model, needed in SIGNATURES:
        if needed <= keys:
            return model
    return None


def sniff(path: Path) -> bool:
    """Any ``.jsonl`` file not claimed by a more specific format is ours (bad lines included,
    so that ``data validate`` can say what is wrong with them); Parquet and JSON files are
    ours when their first record has the fields of one of our record types."""
    path = Path(path)
    kind = container(path)
    if kind == "jsonl":
        return True
    if kind in ("parquet", "json"):
        keys = first_row_keys(path)
        return bool(keys) and record_type(keys) is not None
    return False


def load(path: Path) -> list[Any]:
    path = Path(path)
    problems = Problems(path)
    rows = read_rows(path, problems)
    if container(path) == "parquet":
        rows = [Row(r.where, drop_nested_nones(r.data)) for r in rows]
    model = None
    if rows:
        model = record_type(set(rows[0].data))
        if model is None:
            problems.add(
                rows[0].where,
                None,
                "cannot tell which record type this is from its fields "
                f"({', '.join(sorted(rows[0].data)) or 'none'}); expected e.g. a CulturalQuestion "
                "(id, text, language, culture, ...)",
            )
    if model is None:
        problems.raise_if_any()
        return []
    # lines that did parse are still checked, so one pass shows every problem in the file
    return validate_rows(rows, model, problems)


def validate_rows(rows: list[Row], model: type[BaseModel], problems: Problems) -> list[Any]:
    out = []
    seen: dict[Any, str | int] = {}
    for row in rows:
        try:
            record = model.model_validate(row.data)
        except ValidationError as exc:
            for err in exc.errors():
                loc, msg = describe_validation_error(err)
                problems.add(row.where, loc or _field_for(msg), msg)
            continue
        key = _identity(record)
        if key is not None:
            if key in seen:
                problems.add(row.where, "id", f"duplicate id {_show(key)} (first at {_at(seen[key])})")
                continue
            seen[key] = row.where
        out.append(record)
    problems.raise_if_any()
    return out


def _identity(record: BaseModel) -> Any:
    if isinstance(record, ModelResponse):
        return (record.item_id, record.model, record.mode, record.lang, record.sample_index)
    return getattr(record, "id", None)


def _at(where: str | int) -> str:
    return f"line {where}" if isinstance(where, int) else str(where)


def _show(key: Any) -> str:
    return repr(key) if not isinstance(key, tuple) else repr("/".join(str(k) for k in key))


def _field_for(message: str) -> str | None:
    for prefix, name in _MESSAGE_FIELDS:
        if message.startswith(prefix):
            return name
    return None
