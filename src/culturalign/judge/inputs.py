"""What ``culturalign judge`` reads: responses from any source, to be scored like a model.

CARE Table 4 scores the main text of retrieved web pages with the same judge as the
models. So the judge takes any table of responses (JSONL, JSON list, CSV, TSV,
Parquet), one row each:

* ``response`` or ``text`` (required; a row with only an ``error`` is kept as a failed
  response and skipped by the judge);
* ``item_id`` / ``id`` / ``question_id``, ``question``, ``reference_answer`` /
  ``reference`` / ``answer``, ``category`` / ``culture_type``, ``geographic_scope`` /
  ``scope``, ``culture``, ``model`` / ``source``, ``sample_index``, ``mode``, ``lang``,
  ``human_rating``.

``generate``'s ``responses.jsonl`` (ModelResponse records) is one such table. When
``--data`` names the questions file, rows are joined to it by id (or by question text),
and the question, reference answer, category, scope and culture come from there.
Every problem is reported with its location, all at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from culturalign.datasets.rows import Row, is_missing, read_rows
from culturalign.errors import DataError, Problem, Problems
from culturalign.judge.core import JudgeItem
from culturalign.records.question import CulturalQuestion, UnknownValue, parse_category, parse_scope

_ALIASES: dict[str, tuple[str, ...]] = {
    "item_id": ("item_id", "id", "question_id"),
    "question": ("question",),
    "reference": ("reference_answer", "reference", "answer"),
    "response": ("response", "text"),
    "error": ("error",),
    "category": ("category", "culture_type", "cul_type"),
    "scope": ("geographic_scope", "scope"),
    "culture": ("culture",),
    "model": ("model", "source", "producer"),
    "sample_index": ("sample_index",),
    "mode": ("mode",),
    "lang": ("lang",),
    "human_rating": ("human_rating", "rating"),
}


def _get(row: Row, key: str) -> Any:
    for name in _ALIASES[key]:
        if name in row.data and not is_missing(row.data[name]):
            return row.data[name]
    return None


def read_judge_inputs(
    path: str | Path,
    questions: Sequence[CulturalQuestion] | None = None,
    *,
    lang: str = "native",
) -> list[JudgeItem]:
    """Rows of ``path`` as judge items, joined to ``questions`` when given."""
    path = Path(path)
    if not path.is_file():
        what = "is a folder; a file was expected here" if path.is_dir() else "no such file"
        raise DataError([Problem(str(path), None, None, what)])
    problems = Problems(path)
    rows = read_rows(path, problems)
    by_id = {q.id: q for q in questions or []}
    by_text = {q.text: q for q in questions or []} | {q.text_en: q for q in questions or [] if q.text_en}
    items: list[JudgeItem] = []
    counters: dict[str, int] = {}
    for row in rows:
        item = _item(row, by_id, by_text, questions is not None, lang, counters, problems)
        if item is not None:
            items.append(item)
    if not rows and not problems:
        problems.add(None, None, "the file holds no responses")
    problems.raise_if_any()
    return items


def _item(row, by_id, by_text, joined, lang, counters, problems) -> JudgeItem | None:
    before = len(problems.items)
    item_id = _get(row, "item_id")
    question = _get(row, "question")
    q = by_id.get(str(item_id)) if item_id is not None else None
    if q is None and question is not None:
        q = by_text.get(str(question))
    if joined and q is None:
        what = f"id {item_id!r}" if item_id is not None else f"question {str(question)[:40]!r}"
        problems.add(row.where, "item_id", f"{what} is not in the --data questions")
        return None
    response, error = _get(row, "response"), _get(row, "error")
    if response is None and error is None:
        problems.add(row.where, "response", "required field is missing (also read as 'text')")
    if q is None and question is None:
        problems.add(row.where, "question", "required field is missing (or pass --data with the questions)")
    category = scope = None
    if q is not None:
        category = q.category.value if q.category else None
        scope = q.geographic_scope.value if q.geographic_scope else None
    try:
        if _get(row, "category") is not None:
            category = parse_category(str(_get(row, "category"))).value
    except UnknownValue as exc:
        problems.add(row.where, "category", str(exc))
    try:
        if _get(row, "scope") is not None:
            scope = parse_scope(str(_get(row, "scope"))).value
    except UnknownValue as exc:
        problems.add(row.where, "geographic_scope", str(exc))
    if q is not None and lang == "en":
        from culturalign.translation import lacks_english

        if lacks_english(q):
            problems.add(row.where, "question", "--lang en: this question has no English text")
    human = _human_rating(row, problems)
    sample = _number(row, "sample_index", problems)
    if len(problems.items) > before:
        return None
    key = str(item_id if item_id is not None else (q.id if q else question))
    if sample is None:  # several rows for one item (e.g. ten web pages): number them
        sample = counters.get(key, 0)
    counters[key] = int(sample) + 1
    return JudgeItem(
        item_id=key,
        question=str(q.text_in(lang) if q else question),
        reference=(q.reference_in(lang) if q else None) or _str(_get(row, "reference")),
        response=_str(response),
        sample_index=int(sample),
        response_error=_str(error),
        category=category,
        scope=scope,
        culture=(q.culture if q else None) or _str(_get(row, "culture")),
        mode=_str(_get(row, "mode")) or "vanilla",
        lang=_str(_get(row, "lang")) or lang,
        model=_str(_get(row, "model")),
        human_rating=human,
    )


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _human_rating(row: Row, problems: Problems) -> float | None:
    """CARE's rating cells: 1-10, or 'not an answer' / blank for no rating."""
    from culturalign.datasets.care_prefs import parse_rating

    value = _get(row, "human_rating")
    if value is None:
        return None
    parsed = parse_rating(value)
    if isinstance(parsed, str):
        problems.add(row.where, "human_rating", parsed)
        return None
    return parsed.rating


def _number(row: Row, key: str, problems: Problems) -> float | None:
    value = _get(row, key)
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        problems.add(row.where, _ALIASES[key][0], f"not a number: {value!r}")
        return None
    if key == "sample_index" and (number < 0 or number != int(number)):
        problems.add(row.where, key, f"must be a whole number 0 or more, not {value!r}")
        return None
    return number
