"""Reading CARE's fields from one row, with one located problem per bad field.

Shared by the test-set loader (``care``) and the preference-release loader
(``care_prefs``): both spell the vocabulary of CARE's annotation guideline (paper 000
§3.1-3.2, appendix A.1) the same way, and both lack ids and language codes, which are
derived here so that the same question gets the same id in every file.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import unicodedata
from pathlib import Path
from typing import Any

from culturalign.datasets.language import (
    LANGUAGE_CULTURE,
    canonical_culture,
    culture_from_filename,
    detect_language,
)
from culturalign.datasets.rows import Row, is_missing
from culturalign.errors import Problems
from culturalign.records.question import (
    AssociatedCulture,
    Category,
    GeographicScope,
    UnknownValue,
    parse_associated_culture,
    parse_category,
    parse_scope,
)

CATEGORY_FIELDS = ("culture_type", "cul_type", "category")


def question_id(text: str, language: str) -> str:
    """A stable id from the question text, so that a question keeps its id across files
    (the test set, the preference release, our JSONL) and leaks between splits show up."""
    norm = unicodedata.normalize("NFC", " ".join(text.split()))
    return f"care-{language}-{hashlib.sha256(norm.encode('utf-8')).hexdigest()[:12]}"


def pick(row: Row, names: tuple[str, ...]) -> tuple[str, Any] | None:
    """(field name, value) for the first of ``names`` that the row has."""
    for name in names:
        if name in row.data:
            return name, row.data[name]
    return None


def text_field(row: Row, names: tuple[str, ...], problems: Problems, *, required: bool = True) -> str | None:
    """A non-empty string field; reports a missing, empty or non-text value."""
    found = pick(row, names)
    if found is None:
        if required:
            problems.add(row.where, names[0], "required field is missing")
        return None
    name, value = found
    if is_missing(value):
        if required:
            problems.add(row.where, name, "is empty")
        return None
    if not isinstance(value, str):
        problems.add(row.where, name, f"expected text, found {type(value).__name__} {value!r}")
        return None
    return value


def flag_field(row: Row, name: str, problems: Problems) -> bool:
    value = row.data.get(name)
    if is_missing(value):
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y"):
        return True
    if text in ("0", "false", "no", "n"):
        return False
    problems.add(row.where, name, f"expected true or false, found {value!r}")
    return False


def category_field(row: Row, problems: Problems, *, required: bool = True) -> Category | None:
    text = text_field(row, CATEGORY_FIELDS, problems, required=required)
    if text is None:
        return None
    try:
        return parse_category(text)
    except UnknownValue as exc:
        problems.add(row.where, pick(row, CATEGORY_FIELDS)[0], str(exc))
        return None


def scope_field(row: Row, problems: Problems) -> GeographicScope | None:
    text = text_field(row, ("geographic_scope",), problems, required=False)
    if text is None:
        return None
    try:
        return parse_scope(text)
    except UnknownValue as exc:
        problems.add(row.where, "geographic_scope", str(exc))
        return None


def associated_field(
    row: Row, problems: Problems, *, required: bool
) -> tuple[AssociatedCulture | None, str | None]:
    text = text_field(row, ("associated_culture",), problems, required=required)
    if text is None:
        return None, None
    try:
        kind, name = parse_associated_culture(text)
    except UnknownValue as exc:
        problems.add(row.where, "associated_culture", str(exc))
        return None, None
    return kind, canonical_culture(name)


def resolve_language(row: Row, question: str, path: Path, problems: Problems) -> str:
    explicit = text_field(row, ("language", "lang"), problems, required=False)
    if explicit:
        return explicit.strip().lower()
    default = "en"
    hint = culture_from_filename(path)
    for code, culture in LANGUAGE_CULTURE.items():
        if culture == hint:
            default = code
    return detect_language(question, default=default)


def resolve_culture(
    row: Row,
    *,
    kind: AssociatedCulture | None,
    named: str | None,
    language: str,
    path: Path,
    problems: Problems,
) -> str:
    """The culture the question was collected for.

    An explicit ``culture`` field wins; then the culture named in ``Native (X)``; then
    the culture CARE collected that language for (a Chinese-language question about
    Japan is part of the Chinese data, paper 000 appendix A.2); then the file name.
    """
    explicit = text_field(row, ("culture",), problems, required=False)
    if explicit:
        return canonical_culture(explicit) or explicit
    if kind == AssociatedCulture.NATIVE and named:
        return named
    if language in LANGUAGE_CULTURE:
        return LANGUAGE_CULTURE[language]
    from_file = culture_from_filename(path)
    if from_file:
        return from_file
    if named:
        return named
    return "unknown"


def unexpected_fields(row: Row, allowed: set[str], problems: Problems, *, kind: str = "field") -> None:
    extra = sorted(k for k in row.data if k not in allowed and not ignorable(k))
    for name in extra:
        problems.add(row.where, name, unexpected_message(name, allowed, kind))


def unexpected_message(name: str, allowed: set[str], kind: str = "field") -> str:
    return _unexpected_message(name, frozenset(allowed), kind)


@functools.lru_cache(maxsize=256)
def _unexpected_message(name: str, allowed: frozenset[str], kind: str) -> str:
    close = difflib.get_close_matches(name, sorted(allowed), n=1, cutoff=0.6)
    if close:
        return f"unexpected {kind}; did you mean {close[0]!r}?"
    return f"unexpected {kind} (known: {', '.join(sorted(allowed))})"


def ignorable(name: str) -> bool:
    """Index columns that pandas and the hub add on export."""
    return name.startswith("__index_level_") or name.startswith("Unnamed: ") or name == ""
