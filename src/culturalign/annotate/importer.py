"""Bring questions and candidate responses into the annotation database.

Two kinds of input, mixed freely in one import:

* questions (``CulturalQuestion`` JSONL, or any question format ``data`` reads, such as
  CARE's files), whose ``responses`` become the candidates; ratings already in the file
  are *not* imported, since annotators judge afresh;
* ``ModelResponse`` JSONL written by ``culturalign generate``, one file per model:
  responses are grouped by ``item_id`` (and by ``lang``, since an English run asks a
  different question), and the question and reference come from the response records
  unless a question file in the same import supplies them. Their language is
  ``--language`` or, failing that, read from the question's script (and marked
  ``language_detected``), so that exports never lose it.

Each item is stored as a JSON snapshot; importing changed content makes a new item
version (earlier judgments stay attached to the version they were made on).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from culturalign.annotate import vocab
from culturalign.annotate.store import ImportSummary, Store
from culturalign.datasets.language import detect_language
from culturalign.errors import ConfigError, DataError, Problem, Problems
from culturalign.io import iter_jsonl, pydantic_problems, stable_hash
from culturalign.records import CulturalQuestion, ModelResponse

MODEL_RESPONSE_KEYS = {"item_id", "model", "messages"}


@dataclass
class ImportReport:
    files: int = 0
    items: int = 0
    responses: int = 0
    skipped_failed: int = 0
    summary: ImportSummary | None = None


def response_id(producer: str, text: str) -> str:
    """Stable per-response key: unchanged responses keep it across item versions."""
    return stable_hash([producer, text])[:12]


def _value(v: Any) -> Any:
    return getattr(v, "value", v)


def question_content(q: CulturalQuestion) -> dict[str, Any]:
    return {
        "key": q.id,
        "question": q.text,
        "reference": q.reference_answer,
        "question_en": q.text_en,
        "reference_en": q.reference_answer_en,
        "language": q.language,
        "culture": q.culture,
        "category": _value(q.category),
        "associated_culture": _value(q.associated_culture),
        "geographic_scope": _value(q.geographic_scope),
        "moral_sensitive": q.moral_sensitive,
        "temporal_sensitive": q.temporal_sensitive,
        "source": q.source,
        "responses": [],
    }


def producer_name(r: ModelResponse) -> str:
    name = r.model
    if r.mode != "vanilla":
        name += f" [{r.mode}]"
    if r.sample_index:
        name += f" #{r.sample_index}"
    return name


def _is_model_responses(path: Path) -> bool:
    if path.suffix.lower() != ".jsonl":
        return False
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.strip():
                try:
                    first = json.loads(line)
                except json.JSONDecodeError:
                    return False
                return isinstance(first, dict) and set(first) >= MODEL_RESPONSE_KEYS
    return False


def _read_model_responses(path: Path, problems: Problems) -> list[tuple[int, ModelResponse]]:
    out = []
    for lineno, obj in iter_jsonl(path):
        try:
            out.append((lineno, ModelResponse.model_validate(obj)))
        except ValidationError as exc:
            pydantic_problems(problems, lineno, exc)
    return out


def _read_questions(path: Path) -> list[CulturalQuestion]:
    from culturalign.datasets import load_any

    fmt, records = load_any(path)
    bad = [r for r in records if not isinstance(r, CulturalQuestion)]
    if bad:
        raise DataError(
            [
                Problem(
                    str(path),
                    None,
                    None,
                    f"holds {type(bad[0]).__name__} records ({fmt}); import questions or "
                    "ModelResponse files from `culturalign generate`",
                )
            ]
        )
    return records


def _add_response(content: dict[str, Any], producer: str, text: str) -> bool:
    rid = response_id(producer, text)
    if any(r["rid"] == rid for r in content["responses"]):
        return False
    content["responses"].append({"rid": rid, "producer": producer, "text": text})
    return True


def collect(
    paths: Sequence[Path],
    *,
    reference_as_response: bool = False,
    language: str | None = None,
    culture: str | None = None,
) -> tuple[list[dict[str, Any]], ImportReport]:
    """Read every file and build item snapshots; all located problems are raised together.
    ``language`` and ``culture`` fill in items whose records do not say (generate outputs
    carry no language)."""
    report = ImportReport(files=len(paths))
    contents: dict[str, dict[str, Any]] = {}
    origin: dict[str, str] = {}
    problems_all: list[Problem] = []
    response_files: list[tuple[Path, list[tuple[int, ModelResponse]]]] = []
    for path in paths:
        path = Path(path)
        if not path.is_file():
            what = "is a folder; give the files inside it" if path.is_dir() else "no such file"
            problems_all.append(Problem(str(path), None, None, what))
            continue
        problems = Problems(path)
        try:
            if _is_model_responses(path):
                response_files.append((path, _read_model_responses(path, problems)))
            else:
                for q in _read_questions(path):
                    if q.id in contents and stable_hash(question_content(q)) != stable_hash(
                        {**contents[q.id], "responses": []}
                    ):
                        problems.add(None, "id", f"question {q.id!r} differs from the one in {origin[q.id]}")
                        continue
                    content = contents.setdefault(q.id, question_content(q))
                    origin.setdefault(q.id, str(path))
                    for r in q.responses:
                        report.responses += _add_response(content, r.producer, r.text)
        except DataError as exc:
            problems_all.extend(exc.problems)
        problems_all.extend(problems.items)

    for path, rows in response_files:
        problems = Problems(path)
        for lineno, r in rows:
            if r.error is not None or not (r.text or "").strip():
                report.skipped_failed += 1  # a failed call or an empty answer: nothing to judge
                continue
            key = r.item_id if r.lang == "native" else f"{r.item_id}@{r.lang}"
            content = contents.get(key)
            if content is None:
                if not r.question:
                    problems.add(
                        lineno,
                        "question",
                        f"item {r.item_id!r} has no question text here and no question file supplies it",
                    )
                    continue
                content = contents[key] = {
                    "key": key,
                    "question": r.question,
                    "reference": r.reference_answer,
                    "question_en": None,
                    "reference_en": None,
                    "language": "en" if r.lang == "en" else None,
                    "culture": r.culture,
                    "category": r.category,
                    "associated_culture": None,
                    "geographic_scope": r.geographic_scope,
                    "moral_sensitive": False,
                    "temporal_sensitive": False,
                    "source": f"generate ({path.name})",
                    "responses": [],
                }
                origin[key] = f"{path}:{lineno}"
            elif r.question and r.question != content["question"]:
                problems.add(
                    lineno,
                    "question",
                    f"item {r.item_id!r} asks a different question than in {origin[key]}",
                )
                continue
            report.responses += _add_response(content, producer_name(r), r.text)
        problems_all.extend(problems.items)

    if problems_all:
        raise DataError(problems_all)
    for content in contents.values():
        if reference_as_response and content["reference"]:
            _add_response(content, "human", content["reference"])
        if content["language"] is None:
            # generate's records carry no language: --language, else the question's script
            content["language"] = language or detect_language(content["question"])
            content["language_detected"] = language is None
        if content["culture"] is None:
            content["culture"] = culture
    report.items = len(contents)
    return list(contents.values()), report


def parse_tasks(text: str) -> tuple[str, ...]:
    tasks = tuple(t.strip() for t in text.split(",") if t.strip())
    unknown = [t for t in tasks if t not in vocab.TASKS]
    if unknown or not tasks:
        raise ConfigError(
            f"--tasks: unknown task {unknown[0] if unknown else ''!r}; choose from {', '.join(vocab.TASKS)}"
        )
    return tasks


def import_files(
    store: Store,
    paths: Sequence[Path],
    *,
    tasks: Sequence[str] = vocab.DEFAULT_TASKS,
    per_item: int | None = None,
    reference_as_response: bool = False,
    language: str | None = None,
    culture: str | None = None,
) -> ImportReport:
    """Import files, then hand each item to ``per_item`` annotators (kept as the project setting)."""
    if per_item is not None:
        if per_item < 1:
            raise ConfigError("--per-item must be at least 1")
        store.set_setting("per_item", str(per_item))
    contents, report = collect(
        paths, reference_as_response=reference_as_response, language=language, culture=culture
    )
    report.summary = store.upsert_items(contents, tasks)
    report.summary.assigned = store.assign()
    return report
