"""Turn submitted forms into checked payloads (pure: no web framework, no database).

The same rules run in the browser (static/annotate.js) so annotators see problems
before saving, and here so that nothing inconsistent is ever stored. The central rule
comes from CARE's rank-and-rate protocol (paper 000 §3.2): the ranking and the 1-10
ratings describe one judgment, so a response ranked above another may not carry a
lower rating, and a response flagged "not an answer" carries no rating (and, being
no answer, ranks below every rated one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from culturalign.annotate import vocab


@dataclass
class Parsed:
    """A payload ready to store, or the problems that stop it (shown to the annotator)."""

    payload: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _int_in(raw: str | None, lo: int, hi: int) -> int | None:
    if raw is None or str(raw).strip() == "":
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        return None
    return value if lo <= value <= hi else None


def _flag(form: Mapping[str, str], name: str) -> bool:
    return str(form.get(name, "")).lower() in ("on", "1", "true", "yes")


def rank_conflicts(entries: Sequence[Mapping[str, Any]], labels: Mapping[str, str]) -> list[str]:
    """Pairs where the ranking and the ratings disagree, as sentences an annotator can act on.

    ``entries`` carry ``rid``, ``rank`` (1 = best), ``rating`` (or None) and ``not_an_answer``.
    """
    ordered = sorted(entries, key=lambda e: e["rank"])
    problems: list[str] = []
    for i, upper in enumerate(ordered):
        for lower in ordered[i + 1 :]:
            a, b = labels[upper["rid"]], labels[lower["rid"]]
            if upper["not_an_answer"] and not lower["not_an_answer"]:
                problems.append(
                    f"Response {a} is flagged 'not an answer' but ranked above response {b}; "
                    "non-answers go below every rated response."
                )
            elif (
                upper["rating"] is not None
                and lower["rating"] is not None
                and upper["rating"] < lower["rating"]
            ):
                problems.append(
                    f"Response {a} is ranked above response {b} but rated lower "
                    f"({upper['rating']} < {lower['rating']}): raise {a}'s rating, lower {b}'s, or swap them."
                )
    return problems


def parse_rank_form(form: Mapping[str, str], rids: Sequence[str], labels: Mapping[str, str]) -> Parsed:
    """Read ``rank_<rid>``, ``rating_<rid>`` and ``na_<rid>`` fields for every response."""
    out = Parsed()
    n = len(rids)
    entries = []
    for rid in rids:
        label = labels[rid]
        rank = _int_in(form.get(f"rank_{rid}"), 1, n)
        na = _flag(form, f"na_{rid}")
        raw_rating = form.get(f"rating_{rid}")
        rating = _int_in(raw_rating, vocab.RATING_MIN, vocab.RATING_MAX)
        if rank is None:
            out.errors.append(f"Response {label}: rank must be a whole number from 1 to {n}.")
        if na:
            if raw_rating not in (None, ""):
                out.errors.append(f"Response {label} is flagged 'not an answer', so it takes no rating.")
            rating = None
        elif rating is None:
            out.errors.append(
                f"Response {label}: give a rating from {vocab.RATING_MIN} to {vocab.RATING_MAX}, "
                "or flag it 'not an answer'."
            )
        entries.append({"rid": rid, "rank": rank, "rating": rating, "not_an_answer": na})
    ranks = [e["rank"] for e in entries if e["rank"] is not None]
    if len(ranks) == n and sorted(ranks) != list(range(1, n + 1)):
        out.errors.append(f"Each rank from 1 to {n} must be used exactly once.")
    if out.errors:
        return out
    out.errors.extend(rank_conflicts(entries, labels))
    if not out.errors:
        entries.sort(key=lambda e: e["rank"])
        out.payload = {"responses": entries}
    return out


def parse_classify_form(form: Mapping[str, str]) -> Parsed:
    """CARE's classification steps (paper 000 appendix A.1): a question that is not
    culture-related skips every later step; otherwise each dimension is required."""
    out = Parsed()
    related = form.get("culture_related")
    if related not in ("yes", "no"):
        out.errors.append("Say whether the question is culture-related (yes or no).")
        return out
    if related == "no":
        out.payload = {
            "culture_related": False,
            "associated_culture": None,
            "category": None,
            "geographic_scope": None,
            "moral_sensitive": None,
            "temporal_sensitive": None,
        }
        return out
    choices = {
        "associated_culture": ([c for c, _, _ in vocab.ASSOCIATED_CHOICES], "the associated culture"),
        "category": ([c for c, _, _ in vocab.CATEGORY_CHOICES], "a category"),
        "geographic_scope": ([c for c, _, _ in vocab.SCOPE_CHOICES], "the geographic scope"),
    }
    payload: dict[str, Any] = {"culture_related": True}
    for name, (valid, what) in choices.items():
        value = form.get(name)
        if value not in valid:
            out.errors.append(f"Choose {what}.")
        payload[name] = value if value in valid else None
    payload["moral_sensitive"] = _flag(form, "moral_sensitive")
    payload["temporal_sensitive"] = _flag(form, "temporal_sensitive")
    if not out.errors:
        out.payload = payload
    return out


def parse_rubric_form(form: Mapping[str, str], rids: Sequence[str], labels: Mapping[str, str]) -> Parsed:
    """Three 1-5 scores per response (paper 003 §6.2), from ``<criterion>_<rid>`` fields."""
    out = Parsed()
    entries = []
    for rid in rids:
        entry: dict[str, Any] = {"rid": rid}
        for key, title, _ in vocab.RUBRIC_CRITERIA:
            value = _int_in(form.get(f"{key}_{rid}"), vocab.RUBRIC_MIN, vocab.RUBRIC_MAX)
            if value is None:
                out.errors.append(
                    f"Response {labels[rid]}: score {title.lower()} from {vocab.RUBRIC_MIN} to {vocab.RUBRIC_MAX}."
                )
            entry[key] = value
        entries.append(entry)
    if not out.errors:
        out.payload = {"responses": entries}
    return out


def read_comment(form: Mapping[str, str]) -> tuple[str | None, list[str]]:
    """The free-text comment every task form carries (None when blank)."""
    text = str(form.get("comment", "")).strip()
    if len(text) > vocab.COMMENT_MAX:
        return None, [f"The comment is too long ({len(text)} characters; at most {vocab.COMMENT_MAX})."]
    return (text or None), []


def parse_skip_form(form: Mapping[str, str]) -> Parsed:
    """ "I can't judge this one": a reason from ``vocab.SKIP_REASONS`` is required, and
    "other" needs the comment to say what it is. The payload carries no judgment, so
    agreement and exports count it as a skip, never as an answer."""
    out = Parsed()
    reason = form.get("skip_reason")
    valid = [r for r, _ in vocab.SKIP_REASONS]
    comment, errors = read_comment(form)
    out.errors.extend(errors)
    if reason not in valid:
        out.errors.append("To skip, choose why you cannot judge this task.")
    elif reason == "other" and not comment:
        out.errors.append("To skip for another reason, say which in the comment.")
    if not out.errors:
        out.payload = {"skipped": True, "skip_reason": reason, "comment": comment}
    return out


def with_comment(parsed: Parsed, form: Mapping[str, str]) -> Parsed:
    """Attach the comment to a parsed task answer (or its problem, if it is too long)."""
    comment, errors = read_comment(form)
    parsed.errors.extend(errors)
    if parsed.ok:
        if comment:  # absent when blank: payloads without a comment stay as they were
            parsed.payload["comment"] = comment
    else:
        parsed.payload = {}
    return parsed
