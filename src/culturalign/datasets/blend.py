"""BLEnD: everyday cultural knowledge as short-answer questions, asked in each region's
own language and in English, with the answers annotators from that region gave.

Layout of the published folder::

    annotations/<Region>_data.json    {question_id: {question, en_question,
                                        annotations: [{answers, en_answers, count}],
                                        idks: {idk, no-answer, not-applicable, ...}}}
    questions/<Region>_questions.csv  ,ID,Topic,Source,Question,Translation

``load`` accepts that folder (every region), or one region's annotations file (its
questions CSV, when found beside it or in ``../questions/``, adds the topic). Each
question becomes one ``ShortAnswerItem`` with id ``<Region>/<question id>``, the local
question and its English version; the evaluation asks both. Questions that no annotator
could answer keep an empty ``annotations`` list, and a question whose local text is blank
(China ``New-en-04`` in the published files) keeps ``question=""``: the evaluation skips
and counts both.

Each question is a ``BlendQuestion``: a ``ShortAnswerItem`` that also keeps how many
annotators said "I don't know", "no answer" or "not applicable" (``idks``), because
BLEnD's scorer leaves a question out on those counts, not on their total.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from culturalign.errors import Problems
from culturalign.io import pydantic_problems, read_text_utf8
from culturalign.records import ShortAnswerItem
from culturalign.records.choice import AnswerAnnotation

NAME = "blend"
DESCRIPTION = "BLEnD short-answer questions: a folder with annotations/<Region>_data.json (+ questions/)"

# The language each BLEnD region's questions are written in (ISO 639-1).
REGION_LANGUAGES = {
    "Algeria": "ar",
    "Assam": "as",
    "Azerbaijan": "az",
    "China": "zh",
    "Ethiopia": "am",
    "Greece": "el",
    "Indonesia": "id",
    "Iran": "fa",
    "Mexico": "es",
    "North_Korea": "ko",
    "Northern_Nigeria": "ha",
    "South_Korea": "ko",
    "Spain": "es",
    "UK": "en",
    "US": "en",
    "West_Java": "su",
}

IDK_KEYS = ("idk", "no-answer", "not-applicable")


class BlendQuestion(ShortAnswerItem):
    """A BLEnD question with its annotators' non-answers counted by kind. ``idks`` is left
    out of dumps (``exclude``), so a converted file reads back as a plain ShortAnswerItem."""

    idks: dict[str, int] = Field(default_factory=dict, exclude=True)


ANNOTATION_SUFFIX = "_data.json"
QUESTIONS_SUFFIX = "_questions.csv"


def region_of(path: Path) -> str:
    name = Path(path).name
    for suffix in (ANNOTATION_SUFFIX, QUESTIONS_SUFFIX):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return Path(path).stem


def display_region(region: str) -> str:
    return region.replace("_", " ")


def _annotation_files(path: Path) -> list[Path]:
    path = Path(path)
    if path.is_file():
        return [path]
    folder = path / "annotations" if (path / "annotations").is_dir() else path
    return sorted(folder.glob(f"*{ANNOTATION_SUFFIX}"))


def sniff(path: Path) -> bool:
    path = Path(path)
    if path.is_dir():
        return bool(_annotation_files(path))
    if not path.is_file() or not path.name.endswith(ANNOTATION_SUFFIX):
        return False
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return '"annotations"' in head and '"en_question"' in head


def _questions_csv(annotation_file: Path) -> Path | None:
    region = region_of(annotation_file)
    for folder in (annotation_file.parent, annotation_file.parent.parent / "questions"):
        candidate = folder / f"{region}{QUESTIONS_SUFFIX}"
        if candidate.is_file():
            return candidate
    return None


def _topics(csv_path: Path | None, problems: Problems) -> dict[str, str]:
    if csv_path is None:
        return {}
    local = Problems(csv_path, problems.items)
    reader = csv.DictReader(io.StringIO(read_text_utf8(csv_path)))
    if not reader.fieldnames or "ID" not in reader.fieldnames:
        local.add(1, None, "header lacks the ID column (expected ,ID,Topic,Source,Question,Translation)")
        return {}
    return {row["ID"].strip(): (row.get("Topic") or "").strip() for row in reader if row.get("ID")}


def load(path: Path) -> list[BlendQuestion]:
    path = Path(path)
    files = _annotation_files(path)
    problems = Problems(path)
    if not files:
        if path.name.endswith(QUESTIONS_SUFFIX):
            problems.add(
                None, None, "a questions CSV alone cannot be scored; give the annotations file or folder"
            )
        else:
            problems.add(None, None, f"no annotations/*{ANNOTATION_SUFFIX} files found")
        problems.raise_if_any()
    all_problems: list = []
    items: list[BlendQuestion] = []
    for file in files:
        fp = Problems(file, all_problems)
        items.extend(_load_region(file, fp))
    if all_problems:
        from culturalign.errors import DataError

        raise DataError(all_problems)
    return items


def _load_region(file: Path, problems: Problems) -> list[BlendQuestion]:
    region = region_of(file)
    language = REGION_LANGUAGES.get(region)
    if language is None:
        problems.add(
            None, None, f"unknown BLEnD region {region!r}; known: {', '.join(sorted(REGION_LANGUAGES))}"
        )
        return []
    try:
        data = json.loads(read_text_utf8(file))
    except json.JSONDecodeError as exc:
        problems.add(exc.lineno, None, f"invalid JSON: {exc.msg} (column {exc.colno})")
        return []
    if not isinstance(data, dict):
        problems.add(None, None, "expected an object mapping question ids to questions")
        return []
    topics = _topics(_questions_csv(file), problems)
    items = []
    for qid, entry in data.items():
        where = f"question {qid}"
        if not isinstance(entry, dict):
            problems.add(where, None, "expected an object with question, en_question, annotations")
            continue
        annotations = _annotations(entry.get("annotations"), problems, where)
        if annotations is None:
            continue
        try:
            items.append(
                BlendQuestion(
                    id=f"{region}/{qid}",
                    region=display_region(region),
                    language=language,
                    question=str(entry.get("question") or "").strip(),
                    question_en=str(entry.get("en_question") or "").strip() or None,
                    topic=topics.get(qid) or None,
                    annotations=annotations,
                    idk_count=_idk_count(entry.get("idks")),
                    idks=_idk_kinds(entry.get("idks")),
                    source="blend",
                )
            )
        except ValidationError as exc:
            pydantic_problems(problems, where, exc)
            continue
        if not items[-1].question and not items[-1].question_en:
            problems.add(where, "question", "neither the local nor the English question has text")
            items.pop()
    return items


def _annotations(raw: Any, problems: Problems, where: str) -> list[AnswerAnnotation] | None:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add(where, "annotations", "expected a list of {answers, en_answers, count}")
        return None
    out = []
    ok = True
    for k, a in enumerate(raw):
        if not isinstance(a, dict):
            problems.add(where, f"annotations.{k}", "expected an object")
            ok = False
            continue
        try:
            out.append(
                AnswerAnnotation(
                    answers=[str(x).strip() for x in a.get("answers") or [] if str(x).strip()],
                    en_answers=[str(x).strip() for x in a.get("en_answers") or [] if str(x).strip()],
                    count=int(a.get("count", 1)),
                )
            )
        except (ValidationError, ValueError, TypeError) as exc:
            problems.add(where, f"annotations.{k}", f"bad annotation: {exc}")
            ok = False
    return out if ok else None


def _idk_count(raw: Any) -> int:
    """Annotators who gave no answer: ``idk``, ``no-answer``, ``not-applicable`` and the
    free-text reasons some files add as extra keys, all counted."""
    if not isinstance(raw, dict):
        return 0
    return sum(v for v in raw.values() if isinstance(v, int) and not isinstance(v, bool) and v > 0)


def _idk_kinds(raw: Any) -> dict[str, int]:
    """The three kinds BLEnD's exclusion rule reads; a missing kind counts 0."""
    raw = raw if isinstance(raw, dict) else {}
    out = {}
    for key in IDK_KEYS:
        v = raw.get(key, 0)
        out[key] = v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else 0
    return out


# Why BLEnD's scorer leaves a question out, in the order its rule tests them.
LEFT_OUT_REASONS = {
    "not_answerable": "no-answer + not-applicable >= 3",
    "idk": "idk >= 5",
    "no_annotation": "no annotated answer",
}


def left_out_reason(item: ShortAnswerItem) -> str | None:
    """The key in ``LEFT_OUT_REASONS`` for a question BLEnD does not score, else None.

    The published rule (``soft_exact_match`` in evaluation/exact_match.py): no-answer plus
    not-applicable of at least 3, or idk of at least 5, or no annotation. An item read
    from a converted file has lost the per-kind counts; only the last test applies then."""
    idks = getattr(item, "idks", None) or {}
    if idks.get("no-answer", 0) + idks.get("not-applicable", 0) >= 3:
        return "not_answerable"
    if idks.get("idk", 0) >= 5:
        return "idk"
    if not item.annotations:
        return "no_annotation"
    return None


def describe(path: Path) -> str:
    """One line per load: regions, questions, and what cannot be asked or scored."""
    items = load(path)
    regions = sorted({i.region for i in items})
    reasons = [left_out_reason(i) for i in items]
    no_local = sum(1 for i in items if not i.question)
    left = ", ".join(f"{reasons.count(k)} with {why}" for k, why in LEFT_OUT_REASONS.items())
    return (
        f"{len(items)} questions from {len(regions)} regions ({', '.join(regions)}); "
        f"{sum(r is not None for r in reasons)} left out as BLEnD's scorer does ({left}); "
        f"{no_local} without local-language text"
    )
