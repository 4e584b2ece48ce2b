"""CARE's preference release: rated responses, one row each (paper 000 §3.2).

Every question has several rows (nine model responses and one human-written response in
the first release), each with a native speaker's 1-10 rating. Responses that do not
answer the question carry no rating. The hub copy (``geyang627/CARE``) has had two
shapes, both read here:

* ``source, question, response, culture_type, associated_culture, rating`` (rating as
  text; one config per language);
* ``question, answer, response, human_rating, source, cul_type, associated_culture,
  translated_question (optional)``.

Rows are grouped into one ``CulturalQuestion`` per question (in first-seen order) with
its ``responses``; a human-written row (``source == "human"``) is kept as a rated
response and also serves as the reference answer when no ``answer`` column exists.
Files may be JSON (a list), JSONL, CSV, TSV or Parquet.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from culturalign.datasets import care_fields as f
from culturalign.datasets.rows import Row, container, first_row_keys, is_missing, read_rows
from culturalign.errors import Problems
from culturalign.io import pydantic_problems
from culturalign.records import CulturalQuestion, RatedResponse

NAME = "care-prefs"
DESCRIPTION = "CARE preference release: rows of question/response/culture_type/associated_culture/rating"

RATING_FIELDS = ("rating", "human_rating")
QUESTION_EN_FIELDS = ("translated_question", "translated_question (optional)", "question_en")
ALLOWED = {
    "id",
    "question_id",
    "question",
    "response",
    "answer",
    "answer_en",
    "culture_type",
    "cul_type",
    "category",
    "associated_culture",
    "geographic_scope",
    "language",
    "culture",
    "source",
    "model",
    "producer",
    "rank",
    "annotator",
    "moral_sensitive",
    "temporal_sensitive",
    *RATING_FIELDS,
    *QUESTION_EN_FIELDS,
}
_NOT_AN_ANSWER = {"notananswer", "notanswer", "nonanswer", "noanswer", "na", "invalid", "offtopic"}
_UNRATED = {"none", "null", "nan", "unrated", "missing"}


def sniff(path: Path) -> bool:
    path = Path(path)
    if container(path) not in ("json", "jsonl", "csv", "tsv", "parquet"):
        return False
    keys = first_row_keys(path) or set()
    return "question" in keys and "response" in keys and bool(keys & set(RATING_FIELDS))


@dataclass
class RatingValue:
    rating: float | None = None
    not_an_answer: bool = False


def parse_rating(value: Any) -> RatingValue | str:
    """A rating cell → its value, or a message saying what is wrong with it.

    A NaN number is an error, not "unrated": a JSON ``NaN`` is what broken arithmetic
    writes, while an unrated response is written as an empty cell, null or 'unrated'
    (Parquet and hub datasets hand missing values over as None, so they stay unrated).
    The *text* "nan" stays unrated: that is how pandas spells a missing value in a text
    column, the shape of one of the hub release's layouts."""
    if isinstance(value, float) and math.isnan(value):
        return "rating NaN is not a number from 1 to 10 (leave it empty or write 'unrated' if it has none)"
    if is_missing(value):
        return RatingValue()
    if isinstance(value, bool):
        return f"expected a number from 1 to 10, found {value!r}"
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip()
        norm = re.sub(r"[^a-z]+", "", text.lower())
        if norm in _NOT_AN_ANSWER:
            return RatingValue(not_an_answer=True)
        if norm in _UNRATED:
            return RatingValue()
        try:
            number = float(text)
        except ValueError:
            return (
                f"not a number: {text!r} (use 1-10, or 'not an answer' for a response that does not answer)"
            )
    if not math.isfinite(number):
        return f"rating {number:g} is not a number from 1 to 10"
    if not 1 <= number <= 10:
        return f"rating {number:g} is outside 1-10"
    return RatingValue(rating=number)


@dataclass
class _Group:
    first: Row
    question: str
    meta: dict[str, Any]
    responses: list[RatedResponse] = field(default_factory=list)
    human: str | None = None


_CONSISTENT = ("category", "associated_culture", "geographic_scope", "reference_answer", "culture")


def load(path: Path) -> list[CulturalQuestion]:
    path = Path(path)
    problems = Problems(path)
    rows = read_rows(path, problems)
    if container(path) in ("csv", "tsv", "parquet") and rows and not _check_columns(rows[0], problems):
        problems.raise_if_any()
    return rows_to_questions(rows, path, problems, per_row_fields=container(path) in ("json", "jsonl"))


def rows_to_questions(
    rows: list[Row],
    path: Path,
    problems: Problems,
    *,
    per_row_fields: bool = True,
    source: str | None = None,
) -> list[CulturalQuestion]:
    """Group located rows into questions; raises ``DataError`` with every problem found."""
    groups: dict[str, _Group] = {}
    explicit_ids: dict[str, tuple[str, str | int]] = {}
    for row in rows:
        if per_row_fields:
            f.unexpected_fields(row, ALLOWED, problems)
        parsed = _parse_row(row, path, problems, source)
        if parsed is None:
            continue
        qid, question, meta, response = parsed
        if "id" in meta:
            qid = meta.pop("id")
            seen = explicit_ids.get(qid)
            if seen is not None and seen[0] != question:
                problems.add(
                    row.where, "id", f"duplicate id {qid!r}: {seen[1]} has the same id for another question"
                )
                continue
            explicit_ids[qid] = (question, row.where)
        group = groups.get(qid)
        if group is None:
            group = groups[qid] = _Group(first=row, question=question, meta=meta)
        else:
            _check_consistent(group, meta, row, problems)
        if response is not None:
            group.responses.append(response)
            if response.producer == "human" and group.human is None:
                group.human = response.text
    problems.raise_if_any()
    out = []
    for qid, group in groups.items():
        meta = dict(group.meta)
        if meta.get("reference_answer") is None and group.human is not None:
            meta["reference_answer"] = group.human
        try:
            out.append(CulturalQuestion(id=qid, text=group.question, responses=group.responses, **meta))
        except ValidationError as exc:
            pydantic_problems(problems, group.first.where, exc)
    problems.raise_if_any()
    return out


def _check_columns(first: Row, problems: Problems) -> bool:
    """Header-level checks for column files: report a missing or unknown column once."""
    keys = set(first.data)
    ok = True
    for names in (("question",), ("response",), f.CATEGORY_FIELDS, RATING_FIELDS):
        if not keys & set(names):
            problems.add(1 if isinstance(first.where, int) else None, names[0], "required column is missing")
            ok = False
    for name in sorted(keys - ALLOWED):
        if not f.ignorable(name):
            problems.add(
                1 if isinstance(first.where, int) else None,
                name,
                f.unexpected_message(name, ALLOWED, "column"),
            )
    return ok


def _parse_row(row: Row, path: Path, problems: Problems, dataset: str | None):
    before = len(problems.items)
    question = f.text_field(row, ("question",), problems)
    response_text = f.text_field(row, ("response",), problems)
    # a row may leave the category empty (an annotation export of questions nobody has
    # classified yet); a column file still needs the column (_check_columns)
    category = f.category_field(row, problems, required=False)
    kind, named = f.associated_field(row, problems, required=False)
    scope = f.scope_field(row, problems)
    answer = f.text_field(row, ("answer",), problems, required=False)
    answer_en = f.text_field(row, ("answer_en",), problems, required=False)
    text_en = f.text_field(row, QUESTION_EN_FIELDS, problems, required=False)
    source = f.text_field(row, ("source",), problems, required=False)
    model = f.text_field(row, ("model", "producer"), problems, required=False)
    annotator = f.text_field(row, ("annotator",), problems, required=False)
    explicit_id = f.text_field(row, ("id", "question_id"), problems, required=False)
    rating = _rating(row, problems)
    rank = _rank(row, problems)
    if question is None or len(problems.items) > before:
        return None
    language = f.resolve_language(row, question, path, problems)
    culture = f.resolve_culture(row, kind=kind, named=named, language=language, path=path, problems=problems)
    meta: dict[str, Any] = {
        "language": language,
        "culture": culture,
        "category": category,
        "associated_culture": kind,
        "geographic_scope": scope,
        "reference_answer": answer,
        "reference_answer_en": answer_en,
        "text_en": text_en,
        "moral_sensitive": f.flag_field(row, "moral_sensitive", problems),
        "temporal_sensitive": f.flag_field(row, "temporal_sensitive", problems),
        "source": dataset,
    }
    if explicit_id:
        meta["id"] = explicit_id
    response = None
    if response_text is not None and rating is not None:
        is_human = (source or "").strip().lower() in ("human", "reference", "native")
        producer = "human" if is_human else (model or source or "unknown")
        try:
            response = RatedResponse(
                producer=producer,
                text=response_text,
                rating=rating.rating,
                not_an_answer=rating.not_an_answer,
                rank=rank,
                annotator=annotator,
            )
        except ValidationError as exc:
            pydantic_problems(problems, row.where, exc)
            return None
    return f.question_id(question, language), question, meta, response


def _rating(row: Row, problems: Problems) -> RatingValue | None:
    found = f.pick(row, RATING_FIELDS)
    if found is None:
        problems.add(
            row.where, "rating", "required field is missing (leave it empty for an unrated response)"
        )
        return None
    name, value = found
    parsed = parse_rating(value)
    if isinstance(parsed, str):
        problems.add(row.where, name, parsed)
        return None
    return parsed


def _rank(row: Row, problems: Problems) -> int | None:
    value = row.data.get("rank")
    if is_missing(value):
        return None
    try:
        rank = int(str(value).strip())
    except ValueError:
        problems.add(row.where, "rank", f"expected a whole number from 1, found {value!r}")
        return None
    if rank < 1:
        problems.add(row.where, "rank", f"rank {rank} is below 1")
        return None
    return rank


def _check_consistent(group: _Group, meta: dict[str, Any], row: Row, problems: Problems) -> None:
    """Rows of one question must agree on its metadata; a clash is a data error."""
    names = {"category": "culture_type", "reference_answer": "answer"}
    for key in _CONSISTENT:
        old, new = group.meta.get(key), meta.get(key)
        if new is None:
            continue
        if old is None:
            group.meta[key] = new
        elif old != new:
            shown = (str(old)[:40], str(new)[:40])
            problems.add(
                row.where,
                names.get(key, key),
                f"{shown[1]!r} differs from {shown[0]!r} at {group.first.where} for the same question",
            )
