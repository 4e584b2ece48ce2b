"""Judge rubrics: the prompt a judge reads, the placeholders it fills and the scale it
rates on. CARE's three category rubrics (paper 000 appendix C.1) are one rubric set."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from culturalign.errors import ConfigError
from culturalign.paths import package_data
from culturalign.records.question import Category, parse_category

RUBRIC_DIR = package_data("judge", "rubrics")
RUBRICS = ("entities_opinion", "norms_commonsense", "literacy")
PLACEHOLDERS = ("{question}", "{answer}", "{response}")
_PLACEHOLDER = re.compile(r"\{(question|answer|response)\}")
UNCATEGORISED_RUBRIC = "entities_opinion"
RUBRIC_FOR_CATEGORY: dict[Category, str] = {
    Category.ENTITIES: "entities_opinion",
    Category.OPINION: "entities_opinion",
    Category.SOCIAL_NORMS: "norms_commonsense",
    Category.COMMONSENSE: "norms_commonsense",
    Category.LITERACY: "literacy",
}


@dataclass(frozen=True)
class Rubric:
    name: str
    text: str
    source: str

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:12]

    def render(self, question: str, answer: str, response: str) -> str:
        """Fill the three placeholders in one pass, not with ``str.format``: a user's
        rubric may hold other braces (JSON examples), and a question or answer that
        happens to contain ``{response}`` must stay as written."""
        values = {"question": question, "answer": answer, "response": response}
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], self.text)


@dataclass(frozen=True)
class RubricSet:
    rubrics: dict[str, Rubric]
    notes: tuple[str, ...] = ()

    def for_category(self, category: str | Category | None) -> Rubric:
        if category is None:
            return self.rubrics[UNCATEGORISED_RUBRIC]
        return self.rubrics[RUBRIC_FOR_CATEGORY[parse_category(category)]]

    @property
    def shas(self) -> dict[str, str]:
        return {f"judge/{name}": r.sha for name, r in self.rubrics.items()}


def _read_rubric(name: str, path: Path) -> Rubric:
    if not path.is_file():
        raise ConfigError(
            f"{path}: judge template not found; a --judge-template folder needs "
            f"{', '.join(n + '.txt' for n in RUBRICS)}"
        )
    text = path.read_text(encoding="utf-8")
    missing = [p for p in PLACEHOLDERS if p not in text]
    if missing:
        raise ConfigError(f"{path}: judge template lacks the placeholder(s) {', '.join(missing)}")
    return Rubric(name, text, str(path))


def load_rubrics(template_dir: str | Path | None = None) -> RubricSet:
    """The built-in rubrics, or a user's folder of ``entities_opinion.txt``,
    ``norms_commonsense.txt`` and ``literacy.txt``.

    The CARE release ships its literacy and norms/commonsense files under each
    other's names (see ``../shared/data/README.md``). When a folder's
    ``literacy.txt`` never mentions literature but its ``norms_commonsense.txt`` does,
    the two are used the other way round and a note says so.
    """
    if template_dir is None:
        return RubricSet({n: _read_rubric(n, RUBRIC_DIR / f"{n}.txt") for n in RUBRICS})
    folder = Path(template_dir)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: --judge-template must be a folder holding {', '.join(RUBRICS)} (.txt)")
    rubrics = {n: _read_rubric(n, folder / f"{n}.txt") for n in RUBRICS}
    notes: list[str] = []
    lit, norms = rubrics["literacy"], rubrics["norms_commonsense"]
    if "liter" not in lit.text.lower() and "liter" in norms.text.lower():
        rubrics["literacy"] = Rubric("literacy", norms.text, norms.source)
        rubrics["norms_commonsense"] = Rubric("norms_commonsense", lit.text, lit.source)
        notes.append(
            f"{folder}: literacy.txt and norms_commonsense.txt hold each other's rubric "
            "(as in the CARE release); each was used for the category its content describes"
        )
    return RubricSet(rubrics, tuple(notes))
