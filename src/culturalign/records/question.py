"""Culture-specific questions and rated responses (CARE, paper 000 §3 and appendix A).

The vocabulary follows CARE's annotation guideline: five categories, three kinds of
associated culture, four geographic scopes, and two sensitivity flags. Published files
spell these many ways ("Cultural commonsense", "Native (Chinese)", "Sub-nationwide");
``parse_*`` maps every spelling we have seen onto one canonical value, and
``nearest_*`` powers the "did you mean" hints of ``data validate``.
"""

from __future__ import annotations

import difflib
import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Category(StrEnum):
    """CARE's five cultural categories (paper 000 §3.1)."""

    ENTITIES = "cultural_entities"
    OPINION = "opinion"
    SOCIAL_NORMS = "social_norms"
    COMMONSENSE = "cultural_commonsense"
    LITERACY = "literacy"

    @property
    def label(self) -> str:
        return _CATEGORY_LABELS[self]


_CATEGORY_LABELS = {
    Category.ENTITIES: "Entities",
    Category.OPINION: "Opinion",
    Category.SOCIAL_NORMS: "Norms",
    Category.COMMONSENSE: "C. sense",
    Category.LITERACY: "Literacy",
}


class AssociatedCulture(StrEnum):
    """Whether a question is about the annotators' own culture, another one, or none."""

    NATIVE = "native"
    FOREIGN = "foreign"
    GENERAL = "general"


class GeographicScope(StrEnum):
    """How wide the region is that a question is about (paper 000 appendix D.1)."""

    SUB_NATIONAL = "sub_national"
    NATIONAL = "national"
    CONTINENT_WIDE = "continent_wide"
    WORLDWIDE = "worldwide"

    @property
    def label(self) -> str:
        return self.value.replace("_", "-").capitalize()


def _norm(text: str) -> str:
    return re.sub(r"[^a-z]+", "", text.lower())


_CATEGORY_ALIASES = {
    "culturalentities": Category.ENTITIES,
    "entities": Category.ENTITIES,
    "entity": Category.ENTITIES,
    "opinion": Category.OPINION,
    "culturalopinion": Category.OPINION,
    "opinions": Category.OPINION,
    "socialnorms": Category.SOCIAL_NORMS,
    "socialnorm": Category.SOCIAL_NORMS,
    "norms": Category.SOCIAL_NORMS,
    "culturalcommonsense": Category.COMMONSENSE,
    "commonsense": Category.COMMONSENSE,
    "csense": Category.COMMONSENSE,
    "literacy": Category.LITERACY,
}

_SCOPE_ALIASES = {
    "subnationwide": GeographicScope.SUB_NATIONAL,
    "subnational": GeographicScope.SUB_NATIONAL,
    "nationwide": GeographicScope.NATIONAL,
    "national": GeographicScope.NATIONAL,
    "continentwide": GeographicScope.CONTINENT_WIDE,
    "continent": GeographicScope.CONTINENT_WIDE,
    "worldwide": GeographicScope.WORLDWIDE,
    "global": GeographicScope.WORLDWIDE,
}

_ASSOC_ALIASES = {
    "native": AssociatedCulture.NATIVE,
    "foreign": AssociatedCulture.FOREIGN,
    "general": AssociatedCulture.GENERAL,
    "generalculture": AssociatedCulture.GENERAL,
    "nativeculture": AssociatedCulture.NATIVE,
    "foreignculture": AssociatedCulture.FOREIGN,
}


class UnknownValue(ValueError):
    """A vocabulary value we do not know, with the nearest valid spelling if any."""

    def __init__(self, kind: str, value: str, valid: list[str]):
        close = difflib.get_close_matches(str(value), valid, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else f"; valid: {', '.join(valid)}"
        super().__init__(f"unknown {kind} {value!r}{hint}")


def parse_category(value: str | Category) -> Category:
    if isinstance(value, Category):
        return value
    found = _CATEGORY_ALIASES.get(_norm(str(value)))
    if found is None:
        raise UnknownValue("category", value, _CATEGORY_HUMAN)
    return found


def parse_scope(value: str | GeographicScope) -> GeographicScope:
    if isinstance(value, GeographicScope):
        return value
    found = _SCOPE_ALIASES.get(_norm(str(value)))
    if found is None:
        raise UnknownValue("geographic scope", value, _SCOPE_HUMAN)
    return found


def parse_associated_culture(value: str | AssociatedCulture) -> tuple[AssociatedCulture, str | None]:
    """Parse 'Native (Chinese)' into (NATIVE, 'Chinese'); the culture name is optional."""
    if isinstance(value, AssociatedCulture):
        return value, None
    text = str(value).strip()
    culture = None
    m = re.match(r"^(.*?)\s*\((.+)\)\s*$", text)
    if m:
        text, culture = m.group(1), m.group(2).strip()
    found = _ASSOC_ALIASES.get(_norm(text))
    if found is None:
        raise UnknownValue("associated culture", value, ["Native", "Foreign", "General"])
    return found, culture


_CATEGORY_HUMAN = ["Cultural entities", "Opinion", "Social norms", "Cultural commonsense", "Literacy"]
_SCOPE_HUMAN = ["Sub-nationwide", "Nationwide", "Continent-wide", "Worldwide"]


class RatedResponse(BaseModel):
    """One candidate answer with a native speaker's judgment (CARE's rank-and-rate).

    ``rating`` is 1-10; a response that does not answer the question carries
    ``not_an_answer=True`` and no rating, as in CARE's annotation protocol.
    """

    model_config = ConfigDict(extra="forbid")

    producer: str = Field(description="model name, or 'human' for the reference writer")
    text: str
    rating: float | None = None
    not_an_answer: bool = False
    rank: int | None = Field(default=None, ge=1)
    annotator: str | None = None

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("response text is empty")
        return v

    @field_validator("rating")
    @classmethod
    def _rating_range(cls, v: float | None) -> float | None:
        if v is not None and not (1 <= v <= 10):
            raise ValueError(f"rating {v:g} is outside 1-10")
        return v

    @model_validator(mode="after")
    def _no_rating_for_non_answers(self) -> RatedResponse:
        if self.not_an_answer and self.rating is not None:
            raise ValueError("a response flagged 'not an answer' carries no rating")
        return self


class CulturalQuestion(BaseModel):
    """A culture-specific question with its human reference answer (CARE §3)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    text: str
    language: str = Field(description="ISO 639-1 code of `text`, e.g. zh, ar, ja, en")
    culture: str = Field(description="the culture the data was collected for, e.g. Chinese, Arab")
    category: Category | None = None
    associated_culture: AssociatedCulture | None = None
    geographic_scope: GeographicScope | None = None
    moral_sensitive: bool = False
    temporal_sensitive: bool = False
    reference_answer: str | None = None
    text_en: str | None = None
    reference_answer_en: str | None = None
    source: str | None = None
    responses: list[RatedResponse] = Field(default_factory=list)

    @field_validator("id", "text", "language", "culture")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v

    @field_validator("category", mode="before")
    @classmethod
    def _category(cls, v):
        return None if v is None else parse_category(v)

    @field_validator("geographic_scope", mode="before")
    @classmethod
    def _scope(cls, v):
        return None if v is None else parse_scope(v)

    @field_validator("associated_culture", mode="before")
    @classmethod
    def _assoc(cls, v):
        return None if v is None else parse_associated_culture(v)[0]

    def text_in(self, lang: str) -> str:
        """The question in the native language, or its English translation when asked and known."""
        if lang == "en" and self.text_en:
            return self.text_en
        return self.text

    def reference_in(self, lang: str) -> str | None:
        if lang == "en" and self.reference_answer_en:
            return self.reference_answer_en
        return self.reference_answer
