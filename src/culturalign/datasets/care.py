"""CARE's test sets: a JSON list of questions with human reference answers (paper 000 §3.2).

Each object has ``question``, ``answer`` (the native speaker's reference),
``culture_type`` (one of the five categories), ``associated_culture`` (e.g.
``Native (Chinese)``) and ``geographic_scope``. The files carry no ids or language codes:
ids are derived from the question text (``care_fields.question_id``), the language from
the script (Chinese and Arabic files are written in those languages), and the culture
from ``Native (X)``, the language, or the file name. Also read from JSONL with the same keys.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import ValidationError

from culturalign.datasets import care_fields as f
from culturalign.datasets.rows import Row, container, first_row_keys, head_text, read_rows
from culturalign.errors import Problems
from culturalign.io import pydantic_problems
from culturalign.records import CulturalQuestion

NAME = "care-test"
DESCRIPTION = (
    "CARE test set: JSON list of {question, answer, culture_type, associated_culture, geographic_scope}"
)

ALLOWED = {
    "id",
    "question",
    "answer",
    "culture_type",
    "cul_type",
    "category",
    "associated_culture",
    "geographic_scope",
    "language",
    "culture",
    "source",
    "question_en",
    "translated_question",
    "answer_en",
    "moral_sensitive",
    "temporal_sensitive",
}


def sniff(path: Path) -> bool:
    path = Path(path)
    kind = container(path)
    if kind == "json":
        # every key in the head of the file, so that a syntax error in the first object
        # still leaves the file recognisable (and its error reported with its line)
        keys = set(re.findall(r'"((?:[^"\\]|\\.)*)"\s*:', head_text(path)))
    elif kind == "jsonl":
        keys = first_row_keys(path) or set()
    else:
        return False
    return (
        "question" in keys
        and "answer" in keys
        and "response" not in keys
        and bool(keys & set(f.CATEGORY_FIELDS))
    )


def load(path: Path) -> list[CulturalQuestion]:
    path = Path(path)
    problems = Problems(path)
    return rows_to_questions(read_rows(path, problems), path, problems)


def rows_to_questions(
    rows: list[Row], path: Path, problems: Problems, *, source: str | None = None
) -> list[CulturalQuestion]:
    """Located rows → questions; raises ``DataError`` with every problem found."""
    out: list[CulturalQuestion] = []
    first_seen: dict[str, str | int] = {}
    for row in rows:
        f.unexpected_fields(row, ALLOWED, problems)
        question = f.text_field(row, ("question",), problems)
        answer = f.text_field(row, ("answer",), problems)
        category = f.category_field(row, problems)
        kind, named = f.associated_field(row, problems, required=True)
        scope = f.scope_field(row, problems)
        moral = f.flag_field(row, "moral_sensitive", problems)
        temporal = f.flag_field(row, "temporal_sensitive", problems)
        text_en = f.text_field(row, ("question_en", "translated_question"), problems, required=False)
        answer_en = f.text_field(row, ("answer_en",), problems, required=False)
        row_source = f.text_field(row, ("source",), problems, required=False)
        if question is None:
            continue
        language = f.resolve_language(row, question, path, problems)
        culture = f.resolve_culture(
            row, kind=kind, named=named, language=language, path=path, problems=problems
        )
        qid = f.text_field(row, ("id",), problems, required=False) or f.question_id(question, language)
        if qid in first_seen:
            problems.add(
                row.where,
                "id" if "id" in row.data else "question",
                f"duplicate question id {qid!r} (first at {first_seen[qid]})",
            )
            continue
        first_seen[qid] = row.where
        try:
            out.append(
                CulturalQuestion(
                    id=qid,
                    text=question,
                    language=language,
                    culture=culture,
                    category=category,
                    associated_culture=kind,
                    geographic_scope=scope,
                    moral_sensitive=moral,
                    temporal_sensitive=temporal,
                    reference_answer=answer,
                    text_en=text_en,
                    reference_answer_en=answer_en,
                    source=row_source or source or "CARE",
                )
            )
        except ValidationError as exc:
            pydantic_problems(problems, row.where, exc)
    problems.raise_if_any()
    return out
