"""Read the rating out of a judge model's reply (the rubric judge: CARE's 1-10 scale, paper 000 §4.1 and
appendix C.1, by default; the 1-5 rubrics pass their scale).

The rubrics ask for a final line ``Rating: [[n]]``. Strong judges follow it; weak or
chatty ones write ``Rating: 7``, ``评分：8分``, ``評価：7点``, ``التقييم: ٦``, ``7/10`` or
``**8**`` on a line of its own, echo the rubric's bands, or score each criterion first.
A wrong reading is worse than none: an unread reply is asked again or counted as
invalid, while a misread one silently moves a model's score. So the rules are:

1. **Normalise.** Full-width characters (``８``, ``：``, ``［［``) fold to ASCII (NFKC);
   Arabic-Indic and Extended Arabic-Indic digits and the Arabic decimal sign become ASCII.
2. **Candidates.** A rating is any of: ``[[n]]`` (also ``[[n/10]]``, ``[[7,5]]``); a
   number after a rating label (``Rating``, ``Score``, ``Overall:``, ``评分``, ``評分``,
   ``得分``, ``評価``, ``スコア``, ``التقييم``, ``تقييم``, ``الدرجة`` ...); a stated verdict
   (``I would rate this a 7``, ``give it an 8``, ``打7分``); a fraction of the scale
   (``7/10``, ``7 out of 10``, ``٧ من ١٠``, ``10点中7点``, ``10分の7``); or, in Chinese and
   Japanese, ``7分`` / ``7点`` closing a sentence.
3. **Not ratings.** A number that opens or closes a range (``1-2``, ``7 to 8``, ``1到10``)
   is a band or the scale itself; ``满分10分`` / ``10点満点`` name the scale; a fraction of
   anything but the scale (``3/4 of the customs``), counts (``2 of the 3 points``,
   ``第2点``), years and list numbering (``1.`` at a line start) never qualify.
4. **Sub-scores.** A candidate in a clause labelled by a criterion (``Accuracy: 4/10``,
   ``Depth score: 6``, ``准确性：8/10``, ``9/10 for relevance``) is a sub-score. Sub-scores
   never compete with an overall rating; with no overall rating they decide only when
   they all agree.
5. **One rating.** Two *different* overall ratings anywhere in the reply (``[[7]]`` and
   ``[[4]]``, or ``rated as a 5`` and ``10 out of 10``) make it invalid, and the reason
   names both; the same number repeated is fine. So ``[[n]]`` outranks sub-scores and
   bare numbers, but not a contradicting verdict in the same reply.
6. **Last resort.** With no candidate at all, a last line that is only a number (``8``,
   ``**7**``) is read, unless it continues a numbered list.
7. **Range.** Decimals are kept; a rating outside the scale (``0``, ``11``, ``85``, or a
   label written over another scale such as ``85/100``) is invalid, never clipped.

Pure: no I/O, no model. An invalid result says why, so it can be logged with the reply.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Status = Literal["ok", "empty", "missing", "out_of_range", "conflict"]

RATING_MIN = 1.0
RATING_MAX = 10.0  # CARE's scale; a 1-5 rubric passes scale=5

# Arabic-Indic and Extended Arabic-Indic digits, the Arabic decimal sign, the minus sign
_FOLD = {ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")}
_FOLD.update({ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")})
_FOLD.update({ord("٫"): ".", ord("−"): "-", ord("【"): "[", ord("】"): "]"})

_PARTS = {
    # a rating as written outside brackets (there a comma ends a clause, not a decimal)
    "<N>": r"-?\d+(?:\.\d+)?",
    # labels that may be followed directly by the number ("Rating 7", "my score is 7", "评分8分")
    "<STRONG>": r"\b(?:rating|score)\b|评分|評分|得分|打分|分数|分數|总分|總分|评价|評價|評価|評点|採点"
    r"|スコア|点数|點數|التقييم النهائي|الدرجة النهائية|التقييم|تقييمي|تقييم|الدرجة|درجة|النتيجة",
    # labels that are ordinary words elsewhere ("Overall, the answer ..."): only before a colon
    "<WEAK>": r"\b(?:overall|final|total|grade|verdict)\b|总体|總體|总评|總評|最终|最終|総合|الإجمالي",
    # between a label and its number: "(1-10)", "is", "would be", "of", "为", "は", "هو", a colon
    "<SEP>": r"\s*\**\s*(?:\([^)\n]{0,20}\))?\s*\**\s*(?:\bis\b|\bwould be\b|\bof\b|为|為|是|は|هو)?"
    r"\s*\**\s*[:=]?\s*\**\s*\[?\s*\**\s*",
    "<OVER>": r"(?:\s*(?:/|out of|من)\s*(\d+))?",  # the denominator written with it, if any
    "<OBJ>": r"(?:(?:this|it|that|the)(?:\s+(?:response|answer|reply))?\s+)",
    "<TO>": r"(?:[-–~]|\bto\b|\bthrough\b|\bor\b|至|到|或|～|〜|إلى)",
    "<CRIT>": r"cultural (?:relevance|accuracy|sensitivity|context)|textual evidence|accuracy|depth"
    r"|relevance|relevancy|comprehensiveness|completeness|interpretation|evidence|helpfulness|clarity"
    r"|coherence|correctness|specificity|detail|factuality|fluency|nuance"
    r"|文化相关性|文化相關性|准确性|準確性|准确度|準確度|深度|相关性|相關性|全面性|完整性|清晰度|解读|解讀"
    r"|文本证据|文本證據|正確性|正確さ|深さ|文化的関連性|関連性|網羅性|包括性|明確さ|解釈|根拠"
    r"|الدقة|العمق|الصلة|الملاءمة|الشمولية|الشمول|التفسير|الأدلة|الوضوح",
}


#: the rating labels as a regex alternation, for code that must find the rating line
#: (``judge.expected`` cuts the commentary there)
RATING_LABELS = _PARTS["<STRONG>"]


def _rx(*parts: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    pattern = "".join(parts)
    for name, part in _PARTS.items():
        pattern = pattern.replace(name, part)
    return re.compile(pattern, flags)


_BRACKETS = _rx(r"\[\[\s*\**\s*(-?\d+(?:[.,]\d+)?)\s*\**\s*(?:/\s*(\d+)\s*)?\]\]")
_LABELLED = _rx(
    r"(?:<STRONG>)<SEP>(<N>)<OVER>",
    r"|(?:<WEAK>)\s*\**\s*(?:rating|score|评分|評価)?\s*\**\s*[:=]\s*\**\s*\[?\s*\**\s*(<N>)<OVER>",
)
_STATED = _rx(
    r"\brat(?:e|ed|ing)\s+<OBJ>?(?:as\s+)?(?:an?\s+)?(<N>)",
    r"|\b(?:give|giving|gave|assign|award|awarding)\s+<OBJ>(?:an?\s+)?(?:(?:score|rating) of\s+)?(<N>)",
    r"|\bdeserves?\s+(?:an?\s+)(<N>)",
    r"|(?:给|給|打|给予|給予|给出|給出|评为|評為|定为|定為)\s*了?\s*(<N>)\s*分",
    r"|(?:أعطي|أعطيها|أمنح|أمنحها|أقيّم|أقيم|تستحق|يستحق)\s+(?:[^\s\d]+\s+){0,2}(<N>)",
)
_FRACTION = _rx(
    r"(?<![\d.])(<N>)\s*(?:/|out of|من)\s*(\d+)(?![\d/]|\.\d)",
    r"|(\d+)\s*[点點分]\s*(?:満点|满分|滿分)?\s*(?:中|のうち)\s*の?\s*(<N>)\s*[点點分]",  # 10点中7点
    r"|(\d+)\s*分の\s*(<N>)",  # 10分の7
)
# "7分。", "7点です。", "8点を付けます": a CJK score closing a sentence
_POINTS = _rx(
    r"(?<![第\d.])(<N>)\s*[分点點]",
    r"(?=\s*(?:です|でした|だ|とします|とする|を(?:付け|つけ|与え)(?:ます|る)|と評価(?:します|する)",
    r"|が(?:妥当|適切|相当)(?:です|だ)?|に値します)?\s*(?:[。.!,、;)」\]]|\(|$))",
    flags=re.MULTILINE,
)
# the scale itself, named in CJK ("满分10分", "10点満点", "10分制", "10段階")
_SCALE_NAMES = _rx(
    r"(?:满分|滿分|満点)\s*(?:为|為|是|は|:)?\s*\d+\s*[分点點]?",
    r"|\d+\s*[分点點]\s*(?:满分|滿分|満点|制)|\d+\s*段階",
)
_RANGE_AFTER = _rx(r"\s*<TO>\s*-?\d")
_RANGE_BEFORE = _rx(r"\d\s*<TO>\s*$")
_DENOMINATOR_AFTER = _rx(r"\s*分の")  # "10分の7": the 10 is the scale
_DENOMINATOR_BEFORE = _rx(r"(?:/|\bout of|من)\s*$")  # "7/10分": so is this 10
# a clause that is only a criterion's label: "- **Accuracy** (facts):", "Depth score", "正確性の評価"
_SUB_BEFORE = _rx(
    r"^[\s\-*#>•\d.)|]*\**\s*(?:<CRIT>)\s*\**\s*(?:\([^)\n]{0,40}\))?\s*\|?\s*(?:の)?\s*",
    r"(?:score|rating|得分|评分|評分|分数|評価|スコア|点数)?\s*\**\s*[:=]?\s*\**\s*\[?\s*$",
)
_SUB_AFTER = _rx(r"^(?:\s*(?:/|out of)\s*\d+)?\s*\**\s*(?:for|on|in(?: terms of)?)\s+(?:the\s+)?(?:<CRIT>)\b")
# "問題点は2点です", "有2点。": the points counted, not scored
_COUNTING_BEFORE = _rx(r"(?:点\s*(?:は|が|として)|有|共|计|計)\s*$")
# a clause about something else measured on a scale: "Confidence: 8/10", "置信度：8"
_OTHER_MEASURE = _rx(r"confidence|certainty|置信度|信心|確信度|信頼度|自信|الثقة")
_CLAUSE_END = _rx(r"[\n;,。、]|\.(?=\s)")
# "7 out of 10 households", "3/10 Japanese": a statistic in the commentary, not a verdict
_COUNTED_NOUN = _rx(
    r"\s+(?:of\s+)?(?!(?:because|for|as|since|but|and|overall|given|from|on|in|with|which|while|though",
    r"|although|so|i|it|this|that|is|was|here|points?|stars?|answer|response|reply|effort|job)\b)[a-z]{2,}",
)
_BARE = _rx(r"^[\s>*_#\[(]*(<N>)[\s*_\])]*[.。!]?\s*$")
_LIST_ITEM = _rx(r"^\s*\d+[.)]\s", flags=re.MULTILINE)
_LIST_END = _rx(r"^\s*\d+[.)]\s*$")


@dataclass(frozen=True)
class ParsedRating:
    """What a reply says: a rating, or why there is none."""

    rating: float | None
    status: Status
    # "brackets" | "labelled" | "stated" | "fraction" | "points" | "subscore" | "bare"
    form: str | None = None
    detail: str = ""

    @property
    def valid(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class _Candidate:
    value: float
    form: str
    snippet: str  # the words it was read from, for the reason of an invalid reply
    denominator: float | None = None
    subscore: bool = False


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_FOLD)


def _number(token: str) -> float:
    return float(token.replace(",", "."))


def _clause_before(text: str, start: int) -> str:
    """The clause a match sits in, up to the match: from the last line break or clause mark
    (a colon does not end it, so "Accuracy: 4/10" keeps its label)."""
    head = text[:start]
    cut = 0
    for m in _CLAUSE_END.finditer(head):
        cut = m.end()
    return head[cut:]


def _is_subscore(text: str, start: int, end: int) -> bool:
    return bool(_SUB_BEFORE.match(_clause_before(text, start)) or _SUB_AFTER.match(text[end:]))


def _not_a_rating(text: str, start: int, end: int, form: str) -> bool:
    """A band or the scale ("1-2", "1到10"), a denominator ("10分の7", "7/10分"), a
    statistic ("7 out of 10 households") or a count of points ("不足点は2点です")."""
    if _RANGE_AFTER.match(text, end) or _RANGE_BEFORE.search(text[max(0, start - 12) : start]):
        return True
    if _DENOMINATOR_AFTER.match(text, end) or _DENOMINATOR_BEFORE.search(text[max(0, start - 8) : start]):
        return True  # a denominator: "10分の7" is 7/10, the 10 of "7/10分" is the scale
    if form == "points" and _COUNTING_BEFORE.search(text[max(0, start - 8) : start]):
        return True
    return form == "fraction" and bool(_COUNTED_NOUN.match(text, end))


def _mask(text: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub(lambda m: " " * len(m.group()), text)


def _candidates(text: str) -> list[_Candidate]:
    found: list[_Candidate] = []

    def add(m: re.Match[str], groups: tuple[int, ...], form: str, over: int | None = None) -> None:
        for g in groups:
            if m.group(g) is None:
                continue
            start, end = m.span(g)
            if _not_a_rating(text, start, end if form != "fraction" else m.end(), form):
                return
            if _OTHER_MEASURE.search(_clause_before(text, m.start())):
                return
            den = m.group(over) if over else None
            found.append(
                _Candidate(
                    value=_number(m.group(g)),
                    form=form,
                    snippet=" ".join(m.group().split())[:60],
                    denominator=float(den) if den else None,
                    subscore=_is_subscore(text, m.start(), m.end()),
                )
            )
            return

    for m in _BRACKETS.finditer(text):
        add(m, (1,), "brackets", 2)
    for m in _LABELLED.finditer(text):
        if m.group(1) is not None:
            add(m, (1,), "labelled", 2)
        else:
            add(m, (3,), "labelled", 4)
    for m in _STATED.finditer(text):
        add(m, (1, 2, 3, 4, 5), "stated")
    for m in _FRACTION.finditer(text):
        if m.group(1) is not None:
            add(m, (1,), "fraction", 2)
        elif m.group(4) is not None:
            add(m, (4,), "fraction", 3)
        else:
            add(m, (6,), "fraction", 5)
    for m in _POINTS.finditer(_mask(text, _SCALE_NAMES)):
        add(m, (1,), "points")
    return found


def _bare(text: str) -> float | None:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    m = _BARE.match(lines[-1])
    if m is None:
        return None
    if len(lines) > 1 and _LIST_END.match(lines[-1]) and _LIST_ITEM.search("\n".join(lines[:-1])):
        return None  # "3." after "1. ..." and "2. ...": a list cut short, not a rating
    return _number(m.group(1))


def _decide(pool: list[_Candidate], scale: float, low: float = RATING_MIN) -> ParsedRating:
    form = "brackets" if any(c.form == "brackets" for c in pool) else pool[0].form
    if all(c.subscore for c in pool):
        form = "subscore"
    on_scale = [c for c in pool if c.denominator in (None, scale)]
    if not on_scale:  # "Score: 85/100" and nothing on the rubric's scale
        c = pool[0]
        detail = f"rating {c.value:g}/{c.denominator:g} is not on the {low:g}-{scale:g} scale"
        return ParsedRating(None, "out_of_range", form, detail)
    firsts: dict[float, _Candidate] = {}
    for c in on_scale:
        firsts.setdefault(c.value, c)
    if len(firsts) > 1:
        shown = ", ".join(f"{v:g} ({c.snippet!r})" for v, c in firsts.items())
        return ParsedRating(None, "conflict", form, f"different ratings in one reply: {shown}")
    value = next(iter(firsts))
    if not (low <= value <= scale):
        return ParsedRating(None, "out_of_range", form, f"rating {value:g} is outside {low:g}-{scale:g}")
    return ParsedRating(value, "ok", form)


def parse_rating(reply: str | None, scale: float = RATING_MAX, low: float = RATING_MIN) -> ParsedRating:
    """The rating a judge gave in ``reply`` on a ``low``-``scale`` scale (1-10 unless a
    rubric says otherwise), following the rules in the module docstring."""
    if reply is None or not "".join(ch for ch in reply if unicodedata.category(ch) != "Cf").strip():
        # whitespace and invisible marks (a right-to-left mark, a zero-width space) say nothing
        return ParsedRating(None, "empty", None, "empty reply")
    text = _normalise(reply)
    # a fraction of anything but the scale is a count ("3/4 of the customs"), not a rating;
    # a label over another scale ("Total: 24/30") yields to any rating on this one
    found = [c for c in _candidates(text) if not (c.form == "fraction" and c.denominator != scale)]
    for pool in ([c for c in found if not c.subscore], [c for c in found if c.subscore]):
        if pool:
            return _decide(pool, scale, low)
    value = _bare(text)
    if value is not None:
        return _decide([_Candidate(value, "bare", f"{value:g}")], scale, low)
    return ParsedRating(None, "missing", None, "no rating found (expected 'Rating: [[n]]')")
