"""Read the 1-10 rating out of a judge model's reply (CARE's LM-as-a-judge, paper 000
§4.1 and appendix C.1).

The rubrics ask for a final line ``Rating: [[n]]``. Strong judges follow it; weak or
chatty ones write ``Rating: 7``, ``Score: 7/10`` or ``**8**`` on a line of its own,
and some echo the rubric's own example before giving their answer. The rules, in
order:

1. The double-bracket form ``[[n]]`` is authoritative whenever it appears.
2. Otherwise a number after a rating word (``rating``, ``score``, ``评分``,
   ``التقييم``, ...), then ``n/10`` or ``n out of 10``, then a reply (or last line)
   that is a bare number.
3. Within the form that decided, two *different* numbers make the reply ambiguous
   (invalid); the same number repeated is fine. A sub-score written in a looser form
   never competes with a double-bracket rating.
4. Decimals are allowed (``7.5``, ``7,5`` inside brackets); anything outside 1-10 is
   invalid, never clipped.

Pure: no I/O, no model. An invalid result says why, so it can be logged with the reply.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Status = Literal["ok", "empty", "missing", "out_of_range", "conflict"]

RATING_MIN = 1.0
RATING_MAX = 10.0

_NUM = r"[-−]?\d+(?:[.,]\d+)?"
_BRACKETS = re.compile(r"\[\[\s*\**\s*(" + _NUM + r")\s*\**\s*(?:/\s*10\s*)?\]\]")
_RATING_WORDS = (
    r"(?:overall|final|total)?\s*(?:rating|score|grade|mark)"
    r"|评分|得分|分数|打分|评级|التقييم|الدرجة|التقدير"
)
# rating word, optional markdown/colon/"of"/"is", optional single bracket, the number;
# a number followed by "-2" or "to 10" is a band or the scale from the rubric, not a rating
_LABELLED = re.compile(
    r"(?:" + _RATING_WORDS + r")\s*\**\s*(?:[:：=]|\bof\b|\bis\b|为|是)?\s*\**\s*[\[(（【]?\s*\**"
    r"(" + r"[-−]?\d+(?:\.\d+)?" + r")(?![\d.]*\s*(?:[-–~]|to\b|through\b|至|到)\s*\d)\s*\**\s*[\])）】]?",
    re.IGNORECASE,
)
_FRACTION = re.compile(r"(?<![\d.])(" + r"[-−]?\d+(?:\.\d+)?" + r")\s*(?:/|out\s+of)\s*10(?!\d|\.\d)", re.I)
_BARE = re.compile(r"^\W*?(" + r"[-−]?\d+(?:\.\d+)?" + r")\W*$")

# Arabic-Indic and Extended Arabic-Indic digits, and the Arabic decimal separator
_DIGITS = {ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")}
_DIGITS.update({ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")})
_DIGITS[ord("٫")] = "."


@dataclass(frozen=True)
class ParsedRating:
    """What a reply says: a rating, or why there is none."""

    rating: float | None
    status: Status
    form: str | None = None  # "brackets" | "labelled" | "fraction" | "bare"
    detail: str = ""

    @property
    def valid(self) -> bool:
        return self.status == "ok"


def _normalise(text: str) -> str:
    # NFKC folds full-width digits, colons and brackets (［［８］］) into ASCII
    return unicodedata.normalize("NFKC", text).translate(_DIGITS)


def _number(token: str) -> float:
    return float(token.replace("−", "-").replace(",", "."))


def _decide(values: list[float], form: str) -> ParsedRating:
    distinct = sorted(set(values))
    if len(distinct) > 1:
        shown = ", ".join(f"{v:g}" for v in distinct)
        return ParsedRating(None, "conflict", form, f"different ratings in one reply: {shown}")
    value = distinct[0]
    if not (RATING_MIN <= value <= RATING_MAX):
        return ParsedRating(None, "out_of_range", form, f"rating {value:g} is outside 1-10")
    return ParsedRating(value, "ok", form)


def parse_rating(reply: str | None) -> ParsedRating:
    """The rating a judge gave in ``reply``, following the rules in the module docstring."""
    if reply is None or not reply.strip():
        return ParsedRating(None, "empty", None, "the reply is empty")
    text = _normalise(reply)

    found = [_number(m.group(1)) for m in _BRACKETS.finditer(text)]
    if found:
        return _decide(found, "brackets")

    found = [_number(m.group(1)) for m in _LABELLED.finditer(text)]
    if found:
        return _decide(found, "labelled")

    found = [_number(m.group(1)) for m in _FRACTION.finditer(text)]
    if found:
        return _decide(found, "fraction")

    lines = [line for line in text.splitlines() if line.strip()]
    m = _BARE.match(lines[-1].strip()) if lines else None
    if m:
        return _decide([_number(m.group(1))], "bare")

    return ParsedRating(None, "missing", None, "no rating found (expected 'Rating: [[n]]')")
