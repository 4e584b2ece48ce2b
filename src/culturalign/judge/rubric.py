"""Judge rubrics: the prompt a judge reads, the placeholders it fills and the scale it
rates on.

A rubric is a text file. It may open with a YAML front matter between two ``---`` lines
that says what the judge needs to know about it::

    ---
    name: prism_awareness
    scale: [1, 5]              # the lowest and highest rating (default [1, 10])
    placeholders: [question, response, culture]
    output: brackets           # the reply ends "Rating: [[n]]" (the only format)
    description: one line for people reading a run's files
    ---
    ...the prompt, with {question}, {response} and {culture}...

Without front matter a file is read as CARE's rubrics are: 1-10, placeholders
``{question}``, ``{answer}`` and ``{response}``. The sha of a rubric is the sha of its
prompt only, so adding or editing a front matter's description does not invalidate the
call cache; changing the scale or the placeholders does (they are hashed too).

CARE's three category rubrics (paper 000 appendix C.1) are one ``RubricSet``; the
other built-in rubrics are single ones chosen by name (``load_rubric``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from culturalign.errors import ConfigError, DataError
from culturalign.paths import package_data
from culturalign.records.question import Category, parse_category

RUBRIC_DIR = package_data("judge", "rubrics")
RUBRICS = ("entities_opinion", "norms_commonsense", "literacy")
CARE_PLACEHOLDERS = ("question", "answer", "response")
PLACEHOLDERS = tuple("{" + p + "}" for p in CARE_PLACEHOLDERS)
OUTPUT_FORMATS = ("brackets",)
#: the single built-in rubrics besides CARE's, by name (file ``NAME.txt`` in RUBRIC_DIR)
BUILTIN = (
    "culturebank_quality",
    "prism_awareness",
    "grounded_usefulness",
    "grounded_awareness",
    "grounded_coherence",
)
GROUNDED_RUBRICS = BUILTIN[2:]
UNCATEGORISED_RUBRIC = "entities_opinion"
RUBRIC_FOR_CATEGORY: dict[Category, str] = {
    Category.ENTITIES: "entities_opinion",
    Category.OPINION: "entities_opinion",
    Category.SOCIAL_NORMS: "norms_commonsense",
    Category.COMMONSENSE: "norms_commonsense",
    Category.LITERACY: "literacy",
}
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_FIELDS = {"name", "scale", "placeholders", "output", "description"}


@dataclass(frozen=True)
class Rubric:
    """One prompt and its scale. ``render`` fills only the declared placeholders."""

    name: str
    text: str
    source: str
    low: int = 1
    high: int = 10
    placeholders: tuple[str, ...] = CARE_PLACEHOLDERS
    output: str = "brackets"
    description: str = ""

    @property
    def sha(self) -> str:
        extra = (
            ""
            if (self.low, self.high, self.placeholders) == (1, 10, CARE_PLACEHOLDERS)
            else (f"\x1f{self.low}-{self.high}\x1f{','.join(self.placeholders)}")
        )
        return hashlib.sha256((self.text + extra).encode("utf-8")).hexdigest()[:12]

    @property
    def scale(self) -> tuple[int, int]:
        return (self.low, self.high)

    def render(self, values: Mapping[str, str]) -> str:
        """Fill the placeholders in one pass, not with ``str.format``: a rubric may hold
        other braces (JSON examples), and a question that happens to contain
        ``{response}`` must stay as written."""
        names = "|".join(re.escape(p) for p in self.placeholders)
        return re.sub(r"\{(" + names + r")\}", lambda m: values[m.group(1)], self.text)


@dataclass(frozen=True)
class RubricSet:
    """Rubrics chosen by an item's CARE category, or one rubric for every item."""

    rubrics: dict[str, Rubric]
    notes: tuple[str, ...] = ()
    by_category: bool = True

    @classmethod
    def single(cls, rubric: Rubric) -> RubricSet:
        return cls({rubric.name: rubric}, by_category=False)

    def for_category(self, category: str | Category | None) -> Rubric:
        if not self.by_category:
            return next(iter(self.rubrics.values()))
        if category is None:
            return self.rubrics[UNCATEGORISED_RUBRIC]
        return self.rubrics[RUBRIC_FOR_CATEGORY[parse_category(category)]]

    @property
    def shas(self) -> dict[str, str]:
        return {f"judge/{name}": r.sha for name, r in self.rubrics.items()}


def _front_matter(text: str, path: Path) -> tuple[dict, str]:
    m = _FRONT.match(text)
    if m is None:
        return {}, text
    from culturalign.yamlconf import load_yaml_text

    _, data = load_yaml_text(m.group(1), path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DataError([_problem(path, 2, None, "the front matter must be a mapping of fields")])
    unknown = sorted(set(map(str, data)) - _FIELDS)
    if unknown:
        raise DataError(
            [_problem(path, 2, unknown[0], f"unknown field; known: {', '.join(sorted(_FIELDS))}")]
        )
    return data, text[m.end() :]


def _problem(path: Path, line: int | None, field: str | None, what: str):
    from culturalign.errors import Problem

    return Problem(str(path), line, field, what)


def _scale(value: object, path: Path) -> tuple[int, int]:
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and 0 <= value[0] < value[1] <= 100
    )
    if not ok:
        raise DataError(
            [_problem(path, None, "scale", f"must be [low, high], whole numbers, low < high; got {value!r}")]
        )
    assert isinstance(value, list)
    return value[0], value[1]


def read_rubric(path: str | Path, name: str | None = None) -> Rubric:
    """A rubric file, with or without front matter; every problem names the file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: judge rubric not found")
    text = path.read_text(encoding="utf-8")
    meta, body = _front_matter(text, path)
    low, high = _scale(meta["scale"], path) if "scale" in meta else (1, 10)
    placeholders = meta.get("placeholders", list(CARE_PLACEHOLDERS))
    if not (
        isinstance(placeholders, list)
        and placeholders
        and all(isinstance(p, str) and _NAME.match(p) for p in placeholders)
    ):
        raise DataError(
            [
                _problem(
                    path, None, "placeholders", f"must be a list of lower-case names; got {placeholders!r}"
                )
            ]
        )
    output = meta.get("output", "brackets")
    if output not in OUTPUT_FORMATS:
        raise DataError(
            [_problem(path, None, "output", f"must be one of {', '.join(OUTPUT_FORMATS)}; got {output!r}")]
        )
    missing = [p for p in placeholders if "{" + p + "}" not in body]
    if missing:
        raise ConfigError(
            f"{path}: judge template lacks the placeholder(s) {', '.join('{' + p + '}' for p in missing)}"
        )
    given = meta.get("name", name or path.stem)
    if not (isinstance(given, str) and _NAME.match(given)):
        raise DataError([_problem(path, None, "name", f"must be a short lower-case name; got {given!r}")])
    return Rubric(
        name=name or given,
        text=body,
        source=str(path),
        low=low,
        high=high,
        placeholders=tuple(placeholders),
        output=output,
        description=str(meta.get("description", "")),
    )


def load_rubric(name_or_path: str | Path) -> Rubric:
    """A built-in rubric by name (``culturebank_quality``, ``prism_awareness``,
    ``grounded_*``, or one of CARE's), or a user's rubric file."""
    key = str(name_or_path)
    if key in BUILTIN or key in RUBRICS:
        return read_rubric(RUBRIC_DIR / f"{key}.txt")
    path = Path(key)
    if not path.is_file():
        raise ConfigError(
            f"{path}: no such rubric file (built-in rubrics: {', '.join((*BUILTIN, *RUBRICS))})"
        )
    return read_rubric(path)


def load_rubrics(template_dir: str | Path | None = None) -> RubricSet:
    """CARE's rubric set: the built-in rubrics, or a user's folder of
    ``entities_opinion.txt``, ``norms_commonsense.txt`` and ``literacy.txt``.

    The CARE release ships its literacy and norms/commonsense files under each
    other's names (see ``../shared/data/README.md``). When a folder's
    ``literacy.txt`` never mentions literature but its ``norms_commonsense.txt`` does,
    the two are used the other way round and a note says so.
    """
    if template_dir is None:
        return RubricSet({n: read_rubric(RUBRIC_DIR / f"{n}.txt", n) for n in RUBRICS})
    folder = Path(template_dir)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: --judge-template must be a folder holding {', '.join(RUBRICS)} (.txt)")
    rubrics: dict[str, Rubric] = {}
    for n in RUBRICS:
        if not (folder / f"{n}.txt").is_file():
            raise ConfigError(
                f"{folder / (n + '.txt')}: judge template not found; a --judge-template folder needs "
                f"{', '.join(r + '.txt' for r in RUBRICS)}"
            )
        rubrics[n] = read_rubric(folder / f"{n}.txt", n)
    notes: list[str] = []
    lit, norms = rubrics["literacy"], rubrics["norms_commonsense"]
    if "liter" not in lit.text.lower() and "liter" in norms.text.lower():
        rubrics["literacy"] = Rubric(
            "literacy", norms.text, norms.source, norms.low, norms.high, norms.placeholders
        )
        rubrics["norms_commonsense"] = Rubric(
            "norms_commonsense", lit.text, lit.source, lit.low, lit.high, lit.placeholders
        )
        notes.append(
            f"{folder}: literacy.txt and norms_commonsense.txt hold each other's rubric "
            "(as in the CARE release); each was used for the category its content describes"
        )
    return RubricSet(rubrics, tuple(notes))
