"""Reading questions out of generated text.

Models format lists many ways (numbered, bulleted, JSON arrays, fenced code, bold
labels such as "**Scenario:**") and often wrap a chain of thought around the one line
we want. These pure functions accept all of that and return ``None`` / ``[]`` rather
than a guess when nothing fits, so the caller can retry and count the failure.
"""

from __future__ import annotations

import json
import re
import unicodedata

MIN_CHARS = 12
MAX_CHARS = 800

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_ITEM = re.compile(
    r"""^\s*(?:
        (?:\d{1,3}|[a-zA-Z])[.)\]:]\s+      # 1.  1)  a)  1:
      | \(\d{1,3}\)\s*                     # (1)
      | (?:Q|Question)\s*\d{1,3}\s*[.):-]\s* # Q1:  Question 2.
      | [-*•·–]\s+                          # bullets
    )""",
    re.VERBOSE,
)
_LABEL = re.compile(
    r"^(?:\*\*|__)?\s*(?:question|scenario(?:[- ]based)?|value(?:[- ]oriented)?|open(?:[- ]ended)?"
    r"|q)\s*(?:question)?\s*\d*\s*(?:\*\*|__)?\s*[:：-]\s*(?:\*\*|__)?\s*",
    re.IGNORECASE,
)
_FINAL = re.compile(
    r"(?:^|\n)[ \t>#*_-]*(?:\*\*|__)?\s*"
    r"(?:final|refined|rewritten|adapted|customi[sz]ed|revised|new)\s+question\s*(?:\*\*|__)?\s*"
    r"(?:\([^)\n]*\))?\s*[:：]\s*(?:\*\*|__)?",
    re.IGNORECASE,
)

_SOFT = re.compile(
    r"(?:final|refined|rewritten|adapted|customi[sz]ed|revised|new)\s+(?:version of the\s+)?question[^\n]*\n",
    re.IGNORECASE,
)


def _clean(line: str) -> str:
    """Strip list markers, labels, markdown emphasis and surrounding quotes from one line."""
    s = _ITEM.sub("", line.strip(), count=1)
    s = _LABEL.sub("", s, count=1)
    s = s.strip().strip("*_").strip()
    for open_, close in (('"', '"'), ("“", "”"), ("'", "'"), ("「", "」")):
        if len(s) > 2 and s.startswith(open_) and s.endswith(close):
            s = s[1:-1].strip()
    return re.sub(r"\s+", " ", s)


def _plausible(q: str) -> bool:
    return MIN_CHARS <= len(q) <= MAX_CHARS and any(ch.isalpha() for ch in q)


def _json_strings(blob: str) -> list[str] | None:
    try:
        obj = json.loads(blob)
    except (json.JSONDecodeError, ValueError):
        return None
    if isinstance(obj, dict):
        for key in ("questions", "items", "question", "final_question"):
            if key in obj:
                obj = obj[key]
                break
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, list):
        out = []
        for x in obj:
            if isinstance(x, str):
                out.append(x)
            elif isinstance(x, dict):
                val = x.get("question") or x.get("text")
                if isinstance(val, str):
                    out.append(val)
        return out
    return None


def parse_question_list(text: str) -> list[str]:
    """Questions from a generated list; preamble and closing remarks are dropped.

    Tries, in order: a JSON array (bare or fenced), list items (numbered or bulleted,
    continuation lines joined), and finally lines that end in a question mark.
    """
    if not text or not text.strip():
        return []
    for blob in [*(m.group(1) for m in _FENCE.finditer(text)), text.strip()]:
        start, end = blob.find("["), blob.rfind("]")
        if start != -1 and end > start:
            found = _json_strings(blob[start : end + 1])
            if found:
                return _unique([c for c in (_clean(x) for x in found) if _plausible(c)])
    items: list[str] = []
    current: list[str] | None = None
    for raw in text.splitlines():
        if _ITEM.match(raw):
            if current:
                items.append(" ".join(current))
            current = [raw]
        elif current is not None and raw.strip() and not raw.strip().endswith(":"):
            # a wrapped continuation of the current item, unless it is clearly prose
            if raw.startswith((" ", "\t")) or not current[-1].rstrip().endswith(("?", "？")):
                current.append(raw.strip())
            else:
                items.append(" ".join(current))
                current = None
        elif current is not None and not raw.strip():
            items.append(" ".join(current))
            current = None
    if current:
        items.append(" ".join(current))
    cleaned = [c for c in (_clean(x) for x in items) if _plausible(c)]
    if cleaned:
        return _unique(cleaned)
    asked = [_clean(x) for x in text.splitlines() if x.strip().endswith(("?", "？"))]
    return _unique([c for c in asked if _plausible(c)])


def parse_final_question(text: str) -> tuple[str | None, str]:
    """(the rewritten question, the reasoning before it) from a chain-of-thought answer.

    The question is what follows the last "Final question:" marker (also "Refined /
    Rewritten / Adapted question:"), up to a blank line; else the first line after a
    sentence that announces the rewritten question, if that line is a question; else the
    ``question`` field of a JSON object. Without any of these the result is
    ``(None, text)``: a question mark somewhere in the reasoning is not trusted.
    """
    if not text or not text.strip():
        return None, ""
    marks = list(_FINAL.finditer(text))
    if marks:
        last = marks[-1]
        tail = text[last.end() :].strip()
        body = re.split(r"\n\s*\n", tail, maxsplit=1)[0]
        lines = [ln for ln in body.splitlines() if ln.strip()]
        q = _clean(" ".join(lines[:3])) if lines else ""
        # a marker followed by nothing on its line but the question on the next
        if _plausible(q):
            return q, text[: last.start()].strip()
    # "Here is the rewritten question." followed by the question on a line of its own
    soft = list(_SOFT.finditer(text))
    if soft:
        last = soft[-1]
        for line in text[last.end() :].splitlines():
            q = _clean(line)
            if q:
                if q.endswith(("?", "？")) and _plausible(q):
                    line_start = text.rfind("\n", 0, last.start()) + 1
                    return q, text[:line_start].strip()
                break
    for m in [*_FENCE.finditer(text)][::-1]:
        found = _json_strings(m.group(1))
        if found and _plausible(_clean(found[-1])):
            return _clean(found[-1]), text[: m.start()].strip()
    start, end = text.rfind("{"), text.rfind("}")
    if start != -1 and end > start:
        found = _json_strings(text[start : end + 1])
        if found and _plausible(_clean(found[-1])):
            return _clean(found[-1]), text[:start].strip()
    return None, text.strip()


def normalize_question(text: str) -> str:
    """A key for exact-duplicate detection: case, accents, punctuation and spacing removed."""
    s = unicodedata.normalize("NFKD", text).casefold()
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = re.sub(r"[^\w]+", " ", s)
    return s.strip()


def _unique(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for q in items:
        k = normalize_question(q)
        if k and k not in seen:
            seen.add(k)
            out.append(q)
    return out
